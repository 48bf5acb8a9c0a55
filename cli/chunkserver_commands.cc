// `hafs maintenance CHUNKSERVER on|off` and `hafs decommission CHUNKSERVER [cancel]`: one
// ChunkserverModeRequest to the active master, which names the chunkserver back with its
// new mode. The master resolves CHUNKSERVER (id, host:port or uuid), so the names mean
// the same as in its members list whichever master answers.
#include <iostream>

#include "cli/commands.h"
#include "cli/reports.h"
#include "common/clock.h"

namespace hafs::cli {

int ChunkserverModeCommand(const CliOptions& options) {
  const std::vector<std::string>& arguments = options.arguments;
  wire::Envelope request;
  wire::ChunkserverModeRequest* mode = request.mutable_chunkserver_mode();
  if (options.command == "maintenance") {
    if (arguments.size() != 2 || (arguments[1] != "on" && arguments[1] != "off")) {
      return UsageError("usage: hafs maintenance CHUNKSERVER on|off");
    }
    mode->set_mode(wire::MODE_MAINTENANCE);
    mode->set_enable(arguments[1] == "on");
  } else {
    if (arguments.empty() || arguments.size() > 2 || (arguments.size() == 2 && arguments[1] != "cancel")) {
      return UsageError("usage: hafs decommission CHUNKSERVER [cancel]");
    }
    mode->set_mode(wire::MODE_DECOMMISSION);
    mode->set_enable(arguments.size() == 1);
  }
  mode->set_chunkserver(arguments[0]);
  auto answer = Ask(options, ".", request);
  if (!answer) return ClusterError(answer.error());
  const wire::Reply& reply = answer->envelope.reply();
  int64_t now_ns = WallClockNs();
  std::cout << (options.json ? ChunkserversJson(reply, now_ns) : ChunkserverModeText(reply));
  return kExitOk;
}

}  // namespace hafs::cli
