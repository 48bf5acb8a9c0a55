#include "cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "cli/cluster_locator.h"
#include "cli/goal_commands.h"
#include "cli/reports.h"
#include "cli/session_report.h"
#include "common/access_token.h"
#include "common/clock.h"

namespace hafs::cli {

int UsageError(const std::string& message) {
  std::cerr << "hafs: " << message << "\n(see hafs --help)\n";
  return kExitUsage;
}

int ClusterError(const Status& status) {
  std::cerr << "hafs: " << status.ToString() << "\n";
  return kExitClusterError;
}

Result<MasterAnswer> Ask(const CliOptions& options, const std::string& path, const wire::Envelope& request) {
  auto masters = LocateMasters(options.master_list, path);
  if (!masters) return Fail(masters.error());
  return AskActiveMaster(*masters, request, options.timeout_ms);
}

Result<uint64_t> MasterInodeOf(const CliOptions& options, const std::string& path) {
  // A mount may not have shipped what it made yet (write-back, docs/design.md): an fsync of
  // the path is a durability point that sends it to the masters. O_NONBLOCK: a FIFO must not
  // wait for a writer. One that cannot be opened (no read permission) is asked for as it is.
  if (int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC); fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return Fail(ErrnoStatus("cannot stat " + path));
  if (info.st_ino != 1) return info.st_ino;
  auto subdir = MountedSubdir(path);
  if (!subdir || *subdir == "/") return info.st_ino;
  // The mount shows its subtree as inode 1: ask which inode that is (as the mount did).
  wire::Envelope request;
  request.mutable_mount()->set_subdir(*subdir);
  auto answer = Ask(options, path, request);
  if (!answer) return Fail(answer.error());
  return answer->envelope.reply().mount_root();
}

namespace {

int FileInfo(const CliOptions& options) {
  if (options.arguments.size() != 1) return UsageError("fileinfo takes exactly one PATH");
  const std::string& path = options.arguments[0];
  auto inode = MasterInodeOf(options, path);
  if (!inode) return ClusterError(inode.error());
  wire::Envelope request;
  request.mutable_file_info()->set_inode(*inode);
  auto answer = Ask(options, path, request);
  if (!answer) return ClusterError(answer.error());
  const wire::Reply& reply = answer->envelope.reply();
  std::cout << (options.json ? FileInfoJson(reply) : FileInfoText(reply, path, *inode));
  return kExitOk;
}

// status and chunkservers: both read the ClusterStatus reply, from an optional PATH.
int ClusterReport(const CliOptions& options) {
  if (options.arguments.size() > 1) return UsageError(options.command + " takes at most one PATH");
  std::string path = options.arguments.empty() ? "." : options.arguments[0];
  wire::Envelope request;
  request.mutable_cluster_status();
  auto answer = Ask(options, path, request);
  if (!answer) return ClusterError(answer.error());
  const wire::Reply& reply = answer->envelope.reply();
  if (options.command == "status") {
    std::cout << (options.json ? StatusJson(reply, answer->address) : StatusText(reply, answer->address));
  } else {
    int64_t now_ns = WallClockNs();
    std::cout << (options.json ? ChunkserversJson(reply, now_ns) : ChunkserversText(reply, now_ns));
  }
  return kExitOk;
}

// The mounts of the cluster: the active master's sessions.
int Sessions(const CliOptions& options) {
  if (options.arguments.size() > 1) return UsageError("sessions takes at most one PATH");
  wire::Envelope request;
  request.mutable_list_sessions();
  auto answer = Ask(options, options.arguments.empty() ? "." : options.arguments[0], request);
  if (!answer) return ClusterError(answer.error());
  const wire::Reply& reply = answer->envelope.reply();
  std::cout << (options.json ? SessionsJson(reply) : SessionsText(reply));
  return kExitOk;
}

// A new chunk access token key for a cluster's masters and chunkservers: made here, where
// no daemon runs, and copied to their hosts.
int TokenKeyCommand(const CliOptions& options) {
  if (options.arguments.size() != 1) return UsageError("usage: hafs token-key PATH");
  if (Status created = CreateTokenKeyFile(options.arguments[0]); !created.ok()) return ClusterError(created);
  return kExitOk;
}

}  // namespace

int RunCommand(const CliOptions& options) {
  if (options.timeout_ms <= 0) return UsageError("--timeout-ms must be positive");
  if (options.command.empty()) return UsageError("no command given");
  // Making keys needs no cluster, and no key of its own.
  if (options.command == "keygen") return KeyGen(options);
  if (options.command == "token-key") return TokenKeyCommand(options);
  if (Status secured = SetUpSecurity(options.security, Serves::kNothing); !secured.ok()) return ClusterError(secured);
  if (options.command == "fileinfo") return FileInfo(options);
  if (options.command == "getgoal") return GetGoal(options);
  if (options.command == "setgoal") return SetGoal(options);
  if (options.command == "status" || options.command == "chunkservers") return ClusterReport(options);
  if (options.command == "sessions") return Sessions(options);
  if (options.command == "maintenance" || options.command == "decommission") return ChunkserverModeCommand(options);
  return UsageError("unknown command \"" + options.command + "\"");
}

}  // namespace hafs::cli
