#include "cli/master_client.h"

#include <algorithm>
#include <deque>

#include "common/rpc.h"

namespace hafs::cli {

bool IsNotActiveReply(const wire::Reply& reply) {
  return reply.error() == ENOTCONN || reply.error_message().find("not active") != std::string::npos;
}

Result<MasterAnswer> AskActiveMaster(const std::vector<std::string>& masters, const wire::Envelope& request,
                                     int timeout_ms) {
  std::deque<std::string> to_try(masters.begin(), masters.end());
  std::vector<std::string> asked;
  std::string tried;
  while (!to_try.empty()) {
    std::string address = std::move(to_try.front());
    to_try.pop_front();
    if (std::find(asked.begin(), asked.end(), address) != asked.end()) continue;
    asked.push_back(address);
    rpc::Connection connection(address);
    auto answer = connection.Call(request, timeout_ms);
    if (!tried.empty()) tried += "; ";
    if (!answer) {
      tried += answer.error().message();
      continue;
    }
    const wire::Reply& reply = answer->envelope.reply();
    if (IsNotActiveReply(reply)) {
      tried += address + " is not the active master (" + reply.error_message() + ")";
      // A standby names the active when it knows it: ask that one next, even if it was
      // not on our list (the list may name the masters differently, or be incomplete).
      const std::string& active = reply.active_address();
      if (!active.empty() && std::find(asked.begin(), asked.end(), active) == asked.end()) {
        tried += ", it names " + active;
        to_try.push_front(active);
      }
      continue;
    }
    if (reply.error() != 0) {
      return Fail(reply.error(), "master " + address + " answered: " + reply.error_message());
    }
    return MasterAnswer{address, std::move(answer->envelope)};
  }
  return Fail(EHOSTUNREACH, "no active master answered: " + tried);
}

}  // namespace hafs::cli
