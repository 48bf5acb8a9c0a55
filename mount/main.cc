// hafs-mount: mounts a hafs file system at a directory (FUSE low-level API).
//
//   hafs-mount --master 127.0.0.1:9420 /mnt/hafs
//   hafs-mount --master 127.0.0.1:9420 --subdir /projects/a /mnt/a
//
// Never daemonizes: it stays in the foreground until unmounted (fusermount3 -u) or
// sent SIGTERM/SIGINT; run it in the background (&, systemd) to detach.
#include "mount/fuse_api.h"
#include <unistd.h>

#include <boost/algorithm/string.hpp>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/options.h"
#include "mount/fuse_ops.h"
#include "mount/mount_context.h"
#include "mount/mount_export.h"
#include "mount/read_ahead.h"
#include "mount/name_watcher.h"
#include "mount/session_keeper.h"

namespace {

using hafs::mount::MountOptions;

// /health turns 503 once metadata calls have gone unanswered by every master this long.
constexpr int64_t kUnhealthyAfterMs = 5000;

MountOptions ParseMountOptions(int argc, char** argv) {
  namespace po = hafs::po;
  MountOptions options;
  std::string masters;
  po::options_description flags("hafs-mount options");
  // clang-format off
  flags.add_options()
      ("mountpoint", po::value<std::string>(&options.mountpoint), "directory to mount at (also the first bare argument)")
      ("master", po::value<std::string>(&masters)->default_value("127.0.0.1:9420"),
       "master address(es), host:port[,host:port...], tried in order")
      ("subdir", po::value<std::string>(&options.subdir)->default_value("/"),
       "the directory of the file system to mount (absolute); the master's exports decide whether this client may")
      ("foreground,f", po::bool_switch(), "accepted for compatibility: hafs-mount never daemonizes")
      ("read-timeout-ms", po::value<int>(&options.read_timeout_ms)->default_value(400),
       "a chunk read from one replica taking longer moves on to the next replica")
      ("write-timeout-ms", po::value<int>(&options.write_timeout_ms)->default_value(1500),
       "how long a replica waits for the next one in a write chain before declaring it failed")
      ("master-timeout-ms", po::value<int>(&options.master_timeout_ms)->default_value(500),
       "one call to one master; then the next master is tried")
      ("master-retry-s", po::value<int>(&options.master_retry_s)->default_value(60),
       "how long metadata calls keep retrying (master failover) before failing with EIO")
      ("mount-retry-s", po::value<int>(&options.mount_retry_s)->default_value(0),
       "at mount time, keep trying to reach a master this long (0: give up at once)")
      ("fsync-on-close", po::bool_switch(&options.fsync_on_close),
       "make data and every earlier metadata change durable (fsync) on every close")
      ("write-buffer-kb", po::value<int>(&options.write_buffer_kb)->default_value(1024),
       "small writes (up to 128 KiB) held per open file until its close, fsync, lock or a read of them, KiB; "
       "0: every write is on every replica before it returns")
      ("sync-metadata", po::bool_switch(&options.sync_metadata),
       "no write-back: every create, mkdir, unlink and rmdir is on both masters before it returns")
      ("metadata-flush-ms", po::value<int>(&options.metadata_flush_ms)->default_value(100),
       "write-back: a namespace change made locally reaches the masters within this long")
      ("attr-timeout-s", po::value<double>(&options.attr_timeout_s)->default_value(60.0),
       "the longest the kernel caches attributes; within it, the master's metadata lease decides")
      ("entry-timeout-s", po::value<double>(&options.entry_timeout_s)->default_value(60.0),
       "the longest the kernel caches names (and their absence); within it, the master's metadata lease decides")
      ("threads", po::value<int>(&options.max_threads)->default_value(16), "maximum FUSE worker threads")
      ("read-ahead-kb", po::value<int>(&options.read_ahead_kb)->default_value(4096),
       "the kernel's read-ahead window for this mount, KiB (set when run as root)");
  // clang-format on
  hafs::AddMetricsEndpointFlags(flags, &options.metrics);
  hafs::AddSecurityOptions(flags, &options.security, "client");
  po::positional_options_description positional;
  positional.add("mountpoint", 1);
  hafs::ParseOptionsOrExit(argc, argv, flags, positional,
                           "usage: hafs-mount [options] MOUNTPOINT\n"
                           "Mounts hafs at MOUNTPOINT and serves it until unmounted (stays in the foreground).");
  if (options.mountpoint.empty()) {
    std::cerr << "hafs-mount: no mountpoint given (see --help)\n";
    std::exit(2);
  }
  boost::split(options.masters, masters, boost::is_any_of(","), boost::token_compress_on);
  std::erase(options.masters, "");
  if (options.masters.empty() || options.max_threads < 1 || options.read_timeout_ms < 1 ||
      options.write_timeout_ms < 1 || options.master_timeout_ms < 1 || options.write_buffer_kb < 0) {
    std::cerr << "hafs-mount: --master needs an address; timeouts and --threads must be positive, "
                 "--write-buffer-kb not negative\n";
    std::exit(2);
  }
  if (!options.subdir.starts_with('/')) {
    std::cerr << "hafs-mount: --subdir must be an absolute path (\"/\", \"/a/b\")\n";
    std::exit(2);
  }
  return options;
}

// Asks the master for --subdir (waiting up to --mount-retry-s for one to answer) and sets
// this mount up to serve what it grants: its root inode in every request to the master
// and as the kernel's root inode.
bool MountExport(hafs::mount::MountContext& context) {
  auto granted =
      hafs::mount::RequestMount(context.master, context.options.subdir, context.options.mount_retry_s * 1000LL);
  if (!granted) {
    std::cerr << "hafs-mount: " << granted.error().ToString() << "\n";
    return false;
  }
  context.mounted_export = *granted;
  context.inode_mapping = hafs::mount::InodeMapping(granted->root);
  context.master.SetMountRoot(granted->root);
  return true;
}

// What the master's session of this mount says about it (hafs sessions).
hafs::wire::SessionRequest SessionDescription(const hafs::mount::MountContext& context, const char* mountpoint) {
  hafs::wire::SessionRequest about;
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) about.set_host(host);
  about.set_mount_point(mountpoint);
  about.set_version(HAFS_VERSION);
  about.set_subdir(context.options.subdir);
  return about;
}

}  // namespace

int main(int argc, char** argv) {
  hafs::SetLogComponent("mount");
  hafs::mount::MountContext context(ParseMountOptions(argc, argv));
  if (hafs::Status secured = hafs::SetUpSecurity(context.options.security, hafs::Serves::kNothing); !secured.ok()) {
    std::cerr << "hafs-mount: " << secured.ToString() << "\n";
    return 2;  // like a bad option: the unit does not restart it
  }
  std::atomic<bool> mounted{false};
  // Serving from the start: while --mount-retry-s waits for a master, /health says so.
  auto metrics_endpoint = hafs::StartMetricsEndpoint(context.options.metrics, [&mounted, &context] {
    if (!mounted.load()) return hafs::Health{false, "not mounted"};
    // A takeover leaves calls unanswered for a second or two; longer is an outage.
    int64_t unanswered_ms = context.master.UnansweredForMs(hafs::MonotonicMs());
    if (unanswered_ms > kUnhealthyAfterMs) {
      return hafs::Health{false, "no master has answered for " + std::to_string(unanswered_ms) + " ms"};
    }
    return hafs::Health{true, "ok"};
  });
  if (!metrics_endpoint) {
    std::cerr << "hafs-mount: " << metrics_endpoint.error().ToString() << "\n";
    return 1;
  }
  if (!MountExport(context)) return 1;

  // "hafs:MASTERS" or, for a subtree, "hafs:MASTERS:SUBDIR" (the CLI reads it to find the
  // cluster, and the subtree's inode behind the mount's root). FUSE splits -o at commas:
  // commas and backslashes are escaped ("\\,").
  std::string fsname;
  std::string source = "hafs:" + context.master.MasterList();
  if (context.options.subdir != "/") source += ":" + context.options.subdir;
  for (char c : source) {
    if (c == ',' || c == '\\') fsname += '\\';
    fsname += c;
  }
  std::string mount_options = "fsname=" + fsname + ",subtype=hafs,default_permissions,max_read=1048576";
  // Other users may use the mount; default_permissions makes the kernel check access.
  if (geteuid() == 0) mount_options += ",allow_other";
  // The master refuses writes to a read-only export too; "ro" makes the kernel answer
  // EROFS at once, without a round trip.
  if (context.mounted_export.read_only) mount_options += ",ro";
  std::vector<const char*> fuse_argv = {argv[0], "-o", mount_options.c_str()};
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(fuse_argv.size()), const_cast<char**>(fuse_argv.data()));
  fuse_lowlevel_ops ops = hafs::mount::MakeOperations();
  fuse_session* session = fuse_session_new(&args, &ops, sizeof(ops), &context);
  if (session == nullptr) {
    std::cerr << "hafs-mount: cannot create the FUSE session\n";
    return 1;
  }
  int exit_code = 1;
  // Resolved now: once mounted, resolving the path would ask this mount before it serves.
  char resolved_mountpoint[PATH_MAX];
  if (::realpath(context.options.mountpoint.c_str(), resolved_mountpoint) == nullptr) {
    std::cerr << "hafs-mount: cannot resolve the mountpoint " << context.options.mountpoint << "\n";
  } else if (fuse_set_signal_handlers(session) != 0) {
    std::cerr << "hafs-mount: cannot install signal handlers\n";
  } else if (fuse_session_mount(session, context.options.mountpoint.c_str()) != 0) {
    std::cerr << "hafs-mount: cannot mount at " << context.options.mountpoint << "\n";
    fuse_remove_signal_handlers(session);
  } else {
    context.session = session;
    mounted.store(true);
    hafs::mount::SessionKeeper session_keeper(context.master, context.inodes,
                                              SessionDescription(context, resolved_mountpoint));
    // A new active master knows no locks: the mount's own go back to it.
    session_keeper.OnReopened([&context] { context.locks.Reassert(); });
    uint64_t kernel_cache_epoch = 0;  // the keeper's thread's own
    uint64_t shipping_epoch = 0;
    session_keeper.ReportKernelCacheEpoch([&context, &kernel_cache_epoch, &shipping_epoch] {
      // A new active: what this mount made under the old one's delegations goes to it first.
      // The first renewal at a new epoch opens the session the changes are shipped under.
      if (uint64_t epoch = context.master.epoch(); epoch > kernel_cache_epoch) {
        bool first = std::exchange(shipping_epoch, epoch) != epoch;
        if (!context.write_back.NewEpoch(first ? 0 : 500)) return kernel_cache_epoch;
      }
      return hafs::mount::KernelCacheEpoch(context, &kernel_cache_epoch);
    });
    context.write_back.Start();
    session_keeper.Start();
    context.closes.Start();
    hafs::mount::NameWatcher name_watcher(context, [&session_keeper] { session_keeper.RenewNow(); });
    name_watcher.Start();
    const hafs::mount::MountedExport& granted = context.mounted_export;
    LOG(INFO) << "mounted hafs:" << context.master.MasterList() << ":" << context.options.subdir << " at "
              << context.options.mountpoint << (granted.read_only ? " read-only" : " read-write") << ", goals "
              << granted.min_goal << "-" << granted.max_goal;
    if (hafs::Status status = hafs::mount::SetReadAhead(resolved_mountpoint, context.options.read_ahead_kb);
        !status.ok()) {
      LOG(WARNING) << "read-ahead stays at the kernel's default: " << status.ToString();
    }
    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(loop, context.options.max_threads);
    // Keep the workers: each holds its own connections to the master and chunkservers.
    fuse_loop_cfg_set_idle_threads(loop, context.options.max_threads);
    // 0 once unmounted, the (positive) signal number after SIGTERM/SIGINT/SIGHUP (a clean
    // stop: systemctl stop must not leave the unit failed), -errno on an error.
    exit_code = fuse_session_loop_mt(session, loop) >= 0 ? 0 : 1;
    fuse_loop_cfg_destroy(loop);
    context.write_back.Stop();  // what it holds goes to the masters first
    name_watcher.Stop();
    context.closes.Stop();
    session_keeper.Stop();
    context.session = nullptr;
    mounted.store(false);
    fuse_session_unmount(session);
    fuse_remove_signal_handlers(session);
    LOG(INFO) << "unmounted " << context.options.mountpoint;
  }
  fuse_session_destroy(session);
  return exit_code;
}
