#include "cli/master_client.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "common/rpc.h"

namespace hafs::cli {

bool IsNotActiveReply(const wire::Reply& reply) {
  return reply.error() == ENOTCONN || reply.error_message().find("not active") != std::string::npos;
}

Result<MasterAnswer> AskActiveMaster(const std::vector<std::string>& masters, const wire::Envelope& request,
                                     int timeout_ms) {
  // Every master is asked at once: during a failover the first one listed is often the
  // dead one, and asking in turn would cost its whole timeout on every command.
  std::vector<std::unique_ptr<rpc::Connection>> pending;  // asked, not answered yet
  std::vector<uint64_t> request_ids;
  std::vector<std::string> asked;
  std::string tried;
  auto note = [&tried](const std::string& what) { tried += (tried.empty() ? "" : "; ") + what; };
  auto ask = [&](const std::string& address) {
    if (std::find(asked.begin(), asked.end(), address) != asked.end()) return;
    asked.push_back(address);
    auto connection = std::make_unique<rpc::Connection>(rpc::MasterPeer(address));
    auto request_id = connection->Send(request, nullptr, timeout_ms);
    if (!request_id) return note(request_id.error().message());
    pending.push_back(std::move(connection));
    request_ids.push_back(*request_id);
  };
  for (const std::string& address : masters) ask(address);
  // A standby that hears no active answers cluster status itself: its view is the answer
  // only if no active answers.
  std::optional<MasterAnswer> standby_view;
  while (!pending.empty()) {
    std::vector<rpc::Connection*> waiting;
    for (const auto& connection : pending) waiting.push_back(connection.get());
    size_t ready = rpc::WaitForAny(waiting);
    std::unique_ptr<rpc::Connection> connection = std::move(pending[ready]);
    uint64_t request_id = request_ids[ready];
    pending.erase(pending.begin() + ready);
    request_ids.erase(request_ids.begin() + ready);
    const std::string& address = connection->address();
    auto answer = connection->Wait(request_id);
    if (!answer) {
      note(answer.error().message());
      continue;
    }
    const wire::Reply& reply = answer->envelope.reply();
    if (IsNotActiveReply(reply)) {
      // A standby names the active when it knows it: ask that one too, even if it was not
      // on our list (the list may name the masters differently, or be incomplete).
      const std::string& active = reply.active_address();
      bool new_name = !active.empty() && std::find(asked.begin(), asked.end(), active) == asked.end();
      note(address + " is not the active master (" + reply.error_message() + ")" +
           (new_name ? ", it names " + active : ""));
      if (new_name) ask(active);
      continue;
    }
    if (reply.error() != 0) {
      return Fail(reply.error(), "master " + address + " answered: " + reply.error_message());
    }
    if (reply.masters_size() > 0 && reply.masters(0).role() != "active") {
      if (!standby_view) standby_view = MasterAnswer{address, std::move(answer->envelope)};
      continue;
    }
    return MasterAnswer{address, std::move(answer->envelope)};
  }
  if (standby_view) return std::move(*standby_view);
  return Fail(EHOSTUNREACH, "no active master answered: " + tried);
}

}  // namespace hafs::cli
