// The CLI's commands: find the cluster, ask the active master, print the answer.
#pragma once

#include <string>
#include <vector>

#include "cli/master_client.h"
#include "common/proto/hafs.pb.h"
#include "common/security_options.h"
#include "common/status.h"

namespace hafs::cli {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitClusterError = 1;  // the cluster (or the path) could not give an answer
inline constexpr int kExitUsage = 2;

struct CliOptions {
  std::string master_list;  // --master, "" = find from the path's mount
  bool json = false;
  bool recursive = false;  // -r: setgoal on a whole directory tree
  int timeout_ms = 2000;
  std::string role;  // keygen: print the authorized keys line for this role
  std::string name;  // keygen: ... and this name
  SecurityOptions security;
  std::string command;
  std::vector<std::string> arguments;  // after the command
};

// Runs one command; prints the result on stdout and problems on stderr; returns the exit code.
int RunCommand(const CliOptions& options);

// Shared by the commands (here and in goal_commands.cc). UsageError and ClusterError
// print the problem and return the exit code; Ask locates the masters (from --master or
// the mount holding `path`) and sends `request` to the active one.
int UsageError(const std::string& message);
int ClusterError(const Status& status);
Result<MasterAnswer> Ask(const CliOptions& options, const std::string& path, const wire::Envelope& request);
// The master's inode number of `path` on a hafs mount: its st_ino, which the mount passes
// through, except at the root of a subtree mount (st_ino 1), which is the subtree's inode.
Result<uint64_t> MasterInodeOf(const CliOptions& options, const std::string& path);

// `hafs maintenance CHUNKSERVER on|off` and `hafs decommission CHUNKSERVER [cancel]`
// (chunkserver_commands.cc).
int ChunkserverModeCommand(const CliOptions& options);

// `hafs keygen FILE [--role ROLE [--name NAME]]` (keygen_command.cc): a new CURVE key pair.
int KeyGen(const CliOptions& options);

}  // namespace hafs::cli
