#include "cli/master_client.h"

#include "common/rpc.h"

namespace hafs::cli {

bool IsNotActiveReply(const wire::Reply& reply) {
  return reply.error() == ENOTCONN || reply.error_message().find("not active") != std::string::npos;
}

Result<MasterAnswer> AskActiveMaster(const std::vector<std::string>& masters, const wire::Envelope& request,
                                     int timeout_ms) {
  std::string tried;
  for (const std::string& address : masters) {
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
