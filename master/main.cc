// hafs-master: the metadata master. Options: hafs-master --help.
#include <algorithm>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include "common/key_authority.h"
#include "common/log.h"
#include "common/metrics_endpoint.h"
#include "common/options.h"
#include "common/security_options.h"
#include "master/export_guard.h"
#include "master/exports.h"
#include "master/master_service.h"

namespace {

hafs::master::MasterService* g_service = nullptr;

void OnSignal(int) {
  if (g_service) g_service->Stop();
}

void OnHangUp(int) {
  hafs::curve::KeyAuthority::RequestReload();
  hafs::master::ExportGuard::RequestReload();
}

}  // namespace

int main(int argc, char** argv) {
  using hafs::po::value;
  hafs::SetLogComponent("master");
  // What this daemon writes is private whatever umask it was started with: the files made
  // with an explicit mode (kPrivateFileMode) and any made without one.
  ::umask(0077);
  hafs::master::ServiceOptions options;
  double margin_percent = options.rebalance.margin * 100;
  std::string token_key_file;
  int64_t token_lifetime_s = options.token_lifetime_ms / 1000;
  int64_t session_timeout_s = options.session_timeout_ms / 1000;
  hafs::po::options_description flags("hafs-master options");
  flags.add_options()("listen", value<std::string>(&options.listen_address)->default_value(options.listen_address),
                      "HOST:PORT to serve on (port 0 picks a free port)")(
      "data-dir", value<std::string>(&options.data_directory)->default_value(options.data_directory),
      "directory for the op log and checkpoints (created if missing)")(
      "port-file", value<std::string>(&options.port_file), "write the bound HOST:PORT to this file once listening")(
      "goal", value<uint32_t>(&options.master.goal)->default_value(options.master.goal),
      "replicas per chunk (1-9) of the root directory of a new cluster; new files and directories take their "
      "parent's goal, hafs setgoal changes it")(
      "min-write-replicas",
      value<uint32_t>(&options.master.min_write_replicas)->default_value(options.master.min_write_replicas),
      "a write chain shorter than this fails (a chunk whose goal is lower needs only its goal)")(
      "heartbeat-timeout-ms",
      value<int64_t>(&options.master.heartbeat_timeout_ms)->default_value(options.master.heartbeat_timeout_ms),
      "a chunkserver silent this long is down")(
      "write-lease-ms", value<int64_t>(&options.master.lease_ms)->default_value(options.master.lease_ms),
      "lifetime of a chunk write lease (was --lease-ms)")(
      "cluster-id", value<std::string>(&options.cluster_id)->default_value(options.cluster_id),
      "cluster name; kept in the data directory on first start, a mismatch (data dir or peer) is refused")(
      "peer", value<std::string>(&options.peer)->default_value(""),
      "HOST:PORT of the other master (empty: single master, always active)")(
      "advertise-address", value<std::string>(&options.advertise_address)->default_value(""),
      "HOST:PORT the peer and chunkservers know this master as (default: the bound address)")(
      "bootstrap", hafs::po::bool_switch(&options.bootstrap),
      "may become active while the cluster has no member chunkservers yet (the first master of a new cluster)")(
      "lease-ms", value<int64_t>(&options.leadership_lease_ms)->default_value(options.leadership_lease_ms),
      "leadership lease duration granted by chunkservers (with --peer)")(
      "takeover-after-ms", value<int64_t>(&options.takeover_after_ms)->default_value(options.takeover_after_ms),
      "a standby that hears nothing from the active this long tries to take over")(
      "standby-timeout-ms", value<int64_t>(&options.standby_timeout_ms)->default_value(options.standby_timeout_ms),
      "the active waits this long for the standby before going on without it (degraded)")(
      "checkpoint-every-records",
      value<uint64_t>(&options.checkpoint_every_records)->default_value(options.checkpoint_every_records),
      "write a checkpoint after this many log records")(
      "checkpoint-interval-s",
      value<int64_t>(&options.checkpoint_interval_s)->default_value(options.checkpoint_interval_s),
      "write a checkpoint at least this often (if anything changed)")(
      "copies-per-chunkserver",
      value<uint32_t>(&options.copies_per_chunkserver)->default_value(options.copies_per_chunkserver),
      "self-healing copies one chunkserver takes part in at once (as source or destination)")(
      "copy-timeout-ms", value<int64_t>(&options.copy_timeout_ms)->default_value(options.copy_timeout_ms),
      "a self-healing copy not finished this long is given up and planned again")(
      "rebalance-margin-percent", value<double>(&margin_percent)->default_value(margin_percent),
      "rebalancing stops once every up chunkserver's usage (chunk bytes stored / (stored + free)) is within this "
      "percentage of the mean, or within one chunk")(
      "rebalance-copies", value<uint32_t>(&options.rebalance.max_moves)->default_value(options.rebalance.max_moves),
      "rebalancing copies in flight at once, cluster-wide, when no repair is due (0: never rebalance)")(
      "token-key-file", value<std::string>(&token_key_file)->default_value("/etc/hafs/keys/token.key"),
      "the cluster's chunk access token key, the same file on every master and chunkserver (hafs token-key PATH "
      "makes one); empty, or not given with --insecure: no tokens are issued, and chunkservers check none")(
      "token-lifetime-s", value<int64_t>(&token_lifetime_s)->default_value(token_lifetime_s),
      "chunk access tokens issued expire after this long (a write token sooner, with its lease); mounts refresh "
      "them before")(
      "session-timeout-s", value<int64_t>(&session_timeout_s)->default_value(session_timeout_s),
      "a mount's session ends (and what it holds is released) when the mount has not renewed it for this long; "
      "mounts renew every third of it")(
      "metadata-lease-ms", value<int64_t>(&options.metadata_lease_ms)->default_value(options.metadata_lease_ms),
      "how long a mount may cache attributes and names it was told; a change elsewhere recalls them first, and "
      "waits at most this long for a mount that does not answer (0: mounts cache nothing; at most two thirds of "
      "--session-timeout-s, so that a hung mount's leases end before its session does)")(
      "exports-file", value<std::string>(&options.exports_file)->default_value("/etc/hafs/exports.cfg"),
      "which client keys may mount which subtree, and how (docs/exports.md; reread on SIGHUP); when the default "
      "file does not exist, every client key may mount everything read-write");
  hafs::MetricsEndpointOptions metrics_options;
  hafs::AddMetricsEndpointFlags(flags, &metrics_options);
  hafs::SecurityOptions security;
  hafs::AddSecurityOptions(flags, &security, "master");
  auto given = hafs::ParseOptionsOrExit(argc, argv, flags, "usage: hafs-master [options]\nThe hafs metadata master.");
  // From the start: a reload (systemctl reload) in the first moments must not stop it.
  std::signal(SIGHUP, OnHangUp);

  auto bad_config = [&](const std::string& problem) {
    std::cerr << argv[0] << ": " << problem << "\n";
    return 2;
  };
  // An empty one is what the packaged /etc/hafs/master.conf holds until a host sets it.
  if (options.listen_address.find(':') == std::string::npos) return bad_config("--listen must be HOST:PORT");
  if (!hafs::ValidGoal(options.master.goal)) return bad_config("--goal must be between 1 and 9");
  if (options.master.min_write_replicas == 0 || options.master.min_write_replicas > options.master.goal) {
    return bad_config("--min-write-replicas must be between 1 and --goal");
  }
  if (options.master.heartbeat_timeout_ms < 100) return bad_config("--heartbeat-timeout-ms must be at least 100");
  if (options.master.lease_ms < 100) return bad_config("--write-lease-ms must be at least 100");
  if (options.leadership_lease_ms < 100) return bad_config("--lease-ms must be at least 100");
  if (options.takeover_after_ms < 10) return bad_config("--takeover-after-ms must be at least 10");
  if (options.standby_timeout_ms < 10) return bad_config("--standby-timeout-ms must be at least 10");
  if (options.cluster_id.empty() || options.cluster_id.find_first_of(" \t\n/") != std::string::npos) {
    return bad_config("--cluster-id must be a non-empty word");
  }
  if (options.checkpoint_every_records == 0) return bad_config("--checkpoint-every-records must be at least 1");
  if (options.checkpoint_interval_s <= 0) return bad_config("--checkpoint-interval-s must be at least 1");
  if (options.copies_per_chunkserver == 0) return bad_config("--copies-per-chunkserver must be at least 1");
  if (options.copy_timeout_ms < 100) return bad_config("--copy-timeout-ms must be at least 100");
  if (!(margin_percent >= 0 && margin_percent <= 100)) {
    return bad_config("--rebalance-margin-percent must be between 0 and 100");
  }
  options.rebalance.margin = margin_percent / 100;
  if (token_lifetime_s < 1 || token_lifetime_s > 7 * 86400) {
    return bad_config("--token-lifetime-s must be between 1 and 604800 (a week)");
  }
  options.token_lifetime_ms = token_lifetime_s * 1000;
  if (session_timeout_s < 1 || session_timeout_s > 86400) {
    return bad_config("--session-timeout-s must be between 1 and 86400 (a day)");
  }
  options.session_timeout_ms = session_timeout_s * 1000;
  if (options.metadata_lease_ms < 0 || options.metadata_lease_ms > 600'000) {
    return bad_config("--metadata-lease-ms must be between 0 and 600000 (ten minutes)");
  }
  // A session that ends lets go of its leases: they must have ended by then.
  options.metadata_lease_ms = std::min(options.metadata_lease_ms, options.session_timeout_ms * 2 / 3);
  // --insecure without a --token-key-file of its own: tokens off, as everything else.
  if (security.insecure && given["token-key-file"].defaulted()) token_key_file.clear();
  auto token_key = hafs::TokenKeyFromOption(token_key_file, security.insecure);
  if (!token_key) {
    LOG(ERROR) << "cannot start: " << token_key.error().ToString();
    return 2;  // like a bad option: restarting will not help
  }
  options.token_key = *token_key;
  if (given["exports-file"].defaulted() && !std::filesystem::exists(options.exports_file)) {
    LOG(INFO) << "no " << options.exports_file << ": every client key may mount everything read-write";
    options.exports_file.clear();
  } else if (auto exports = hafs::master::Exports::Load(options.exports_file); !exports) {
    return bad_config("--exports-file: " + exports.error().ToString());
  }
  // Chunkservers heartbeat several times per timeout, so one lost heartbeat is not a death.
  options.master.heartbeat_interval_ms =
      static_cast<uint32_t>(std::max<int64_t>(options.master.heartbeat_timeout_ms / 5, 20));

  hafs::master::MasterService service(options);
  // Serving from before Start: a scrape during a long log replay answers 503 "starting".
  auto metrics_endpoint = hafs::StartMetricsEndpoint(metrics_options, [&service] { return service.health(); });
  if (!metrics_endpoint) {
    LOG(ERROR) << "cannot start: " << metrics_endpoint.error().ToString();
    return 1;
  }
  if (hafs::Status secured = hafs::SetUpSecurity(security, hafs::Serves::kRequests); !secured.ok()) {
    LOG(ERROR) << "cannot start: " << secured.ToString();
    return 2;  // like a bad option: restarting will not help
  }
  if (hafs::Status status = service.Start(); !status.ok()) {
    LOG(ERROR) << "cannot start: " << status.ToString();
    return 1;
  }
  g_service = &service;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  if (hafs::Status status = service.Run(); !status.ok()) {
    LOG(ERROR) << status.ToString();
    return 1;
  }
  return 0;
}
