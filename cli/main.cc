// hafs: the admin command-line tool. See `hafs --help` and docs/notes/cli.md.
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/log.h"
#include "common/options.h"

namespace {

constexpr char kUsage[] =
    "usage: hafs [--master HOST:PORT,...] [--json] [--timeout-ms MS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  status [PATH]        masters, chunkserver and chunk health, space\n"
    "  chunkservers [PATH]  one line per chunkserver\n"
    "  sessions [PATH]      the mounts of the cluster: host, mount point, client key,\n"
    "                       when each last renewed its session\n"
    "  fileinfo PATH        the chunks of a file and where their replicas are\n"
    "  getgoal PATH         the replication goal of a file or directory\n"
    "  setgoal [-r] N PATH  set it to N (1-9), owner or root only; new files take their\n"
    "                       directory's goal; -r: the whole tree under PATH\n"
    "  maintenance CHUNKSERVER on|off\n"
    "                       on: the chunkserver's chunks are not re-replicated while it is\n"
    "                       down (a planned restart), and it gets no new chunks\n"
    "  decommission CHUNKSERVER [cancel]\n"
    "                       copy every chunk off the chunkserver, then drop its replicas;\n"
    "                       status and chunkservers show how many are left\n"
    "  keygen FILE [--role ROLE [--name NAME]]\n"
    "                       make a CURVE key pair file (0600) for one hafs process; prints\n"
    "                       its public key, or with --role the line for the authorized keys\n"
    "  token-key PATH       write a new chunk access token key (mode 0600) for the\n"
    "                       masters' and chunkservers' --token-key-file\n"
    "CHUNKSERVER: its id, HOST:PORT or uuid (see hafs chunkservers).\n"
    "\n"
    "Without --master, the cluster is the one mounted at PATH (default: the current\n"
    "directory), found in /proc/self/mountinfo.\n"
    "Exit codes: 0 ok, 1 cluster error, 2 usage error.";

}  // namespace

int main(int argc, char** argv) {
  hafs::SetLogComponent("hafs");
  hafs::cli::CliOptions cli;
  hafs::po::options_description options("options");
  options.add_options()("master", hafs::po::value(&cli.master_list),
                        "masters to ask, in order: HOST:PORT[,HOST:PORT...] "
                        "(default: from the hafs mount holding PATH)")("json", hafs::po::bool_switch(&cli.json),
                                                                       "print JSON instead of text")(
      "recursive,r", hafs::po::bool_switch(&cli.recursive), "setgoal: the whole directory tree under PATH")(
      "timeout-ms", hafs::po::value(&cli.timeout_ms)->default_value(2000), "how long to wait for each master")(
      "role", hafs::po::value(&cli.role), "keygen: master, chunkserver, client or admin")(
      "name", hafs::po::value(&cli.name), "keygen: a name for the key in the authorized keys line")(
      "command", hafs::po::value(&cli.command),
      "status, chunkservers, sessions, fileinfo, getgoal, setgoal, maintenance, decommission, keygen or token-key "
      "(positional)")(
      "arguments", hafs::po::value(&cli.arguments), "the command's arguments (positional)");
  hafs::AddSecurityOptions(options, &cli.security, "admin");
  hafs::po::positional_options_description positional;
  positional.add("command", 1).add("arguments", -1);
  hafs::ParseOptionsOrExit(argc, argv, options, positional, kUsage);
  return hafs::cli::RunCommand(cli);
}
