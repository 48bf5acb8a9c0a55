// hafs-chunkserver: stores chunk replicas in local data directories and serves them.
// See docs/design.md ("hafs-chunkserver").
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_metrics.h"
#include "chunkserver/data_service.h"
#include "chunkserver/leadership_lease.h"
#include "chunkserver/master_link.h"
#include "chunkserver/replica_verifier.h"
#include "chunkserver/scrubber.h"
#include "common/durable_file.h"
#include "common/key_authority.h"
#include "common/log.h"
#include "common/metrics_endpoint.h"
#include "common/options.h"
#include "common/security_options.h"

namespace {

using hafs::po::value;

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    size_t first = part.find_first_not_of(" \t");
    size_t last = part.find_last_not_of(" \t");
    if (first != std::string::npos) parts.push_back(part.substr(first, last - first + 1));
  }
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  hafs::SetLogComponent("chunkserver");
  // What this daemon writes is private whatever umask it was started with: the files made
  // with an explicit mode (kPrivateFileMode) and any made without one.
  ::umask(0077);
  hafs::po::options_description description("Options");
  // clang-format off
  description.add_options()
      ("data-dir", value<std::vector<std::string>>()->default_value({"/var/lib/hafs/chunkserver"},
                                                                    "/var/lib/hafs/chunkserver"),
       "directory to keep chunks in (repeat for several disks); must exist and be writable")
      ("listen", value<std::string>()->default_value("127.0.0.1:9422"), "host:port of the data service (port 0 = any)")
      ("advertise-address", value<std::string>()->default_value(""),
       "host:port clients and the master are told (default: the bound address)")
      ("plain-data-listen", value<std::string>()->default_value(""),
       "host:port (port 0 = any) of a second data port where chunk reads, writes and truncates travel "
       "UNENCRYPTED, authenticated by their chunk access tokens (docs/security.md, \"Data frames: encrypted or "
       "plain\"); needs --token-key-file; empty = none, all data encrypted")
      ("port-file", value<std::string>()->default_value(""), "write the bound host:port to this file once listening")
      ("workers", value<int>()->default_value(8), "threads serving data requests")
      ("max-copies", value<int>()->default_value(2),
       "self-healing copies into this chunkserver at once (each takes a worker); more are refused")
      ("copy-mib-per-s", value<uint32_t>()->default_value(200),
       "bandwidth of all self-healing copies into this chunkserver together, MiB/s")
      ("master", value<std::string>()->default_value("127.0.0.1:9420"), "master host:port, or a comma-separated list (registers and heartbeats with each)")
      ("label", value<std::string>()->default_value(""), "failure domain told to the master, e.g. rack=r1")
      ("heartbeat-interval-ms", value<int>()->default_value(1000),
       "time between heartbeats until the master sets its own")
      ("reserve-mb", value<uint64_t>()->default_value(256), "free space per data directory that writes never use")
      ("open-files", value<size_t>()->default_value(512), "chunk files kept open")
      ("disk-error-limit", value<int>()->default_value(2),
       "I/O errors (EIO) in one data directory within --disk-error-window-s that take it out of service "
       "(1 = the first); EROFS takes it out at once")
      ("disk-error-window-s", value<int>()->default_value(600), "window in which --disk-error-limit errors count")
      ("scrub-rate-mib", value<double>()->default_value(16, "16"),
       "MiB/s the background scrubber reads to verify every stored block (0 = no scrubbing)")
      ("leadership-grace-ms", value<int>()->default_value(10000),
       "after a restart, grant no master leadership lease for this long (at least the longest lease, 10000 ms)")
      ("token-key-file", value<std::string>()->default_value("/etc/hafs/keys/token.key"),
       "the cluster's chunk access token key, the same file as the masters' (hafs token-key PATH makes one); "
       "empty, or not given with --insecure: no tokens are checked, any client may read and write any chunk");
  // clang-format on
  hafs::MetricsEndpointOptions metrics_options;
  hafs::AddMetricsEndpointFlags(description, &metrics_options);
  hafs::SecurityOptions security;
  hafs::AddSecurityOptions(description, &security, "chunkserver");
  auto options = hafs::ParseOptionsOrExit(argc, argv, description, "Usage: hafs-chunkserver [options]");

  // Signals are taken by sigwait below, never by the worker threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // An empty one is what the packaged /etc/hafs/chunkserver.conf holds until a host sets it.
  if (options["listen"].as<std::string>().find(':') == std::string::npos) {
    LOG(ERROR) << "--listen must be host:port";
    return 2;
  }

  // Before the data directories are touched: a bad key file stops it with nothing changed.
  // --insecure without a --token-key-file of its own: tokens off, as everything else.
  bool tokens_off = security.insecure && options["token-key-file"].defaulted();
  auto token_key =
      hafs::TokenKeyFromOption(tokens_off ? "" : options["token-key-file"].as<std::string>(), security.insecure);
  if (!token_key) {
    LOG(ERROR) << "cannot start: " << token_key.error().ToString();
    return 2;  // like a bad option: restarting will not help
  }

  // Without tokens the plain port would serve anyone: refused before anything is touched.
  std::string plain_data_listen = options["plain-data-listen"].as<std::string>();
  if (!plain_data_listen.empty() && (!*token_key || plain_data_listen.find(':') == std::string::npos)) {
    LOG(ERROR) << "--plain-data-listen must be host:port, and needs chunk access tokens (a --token-key-file): "
                  "they are all that authorises a request there";
    return 2;
  }

  hafs::ChunkStoreOptions store_options;
  store_options.data_dirs = options["data-dir"].as<std::vector<std::string>>();
  store_options.reserve_bytes = options["reserve-mb"].as<uint64_t>() << 20;
  store_options.open_files = options["open-files"].as<size_t>();
  store_options.disk_error_limit = options["disk-error-limit"].as<int>();
  store_options.disk_error_window_ms = int64_t{options["disk-error-window-s"].as<int>()} * 1000;
  if (store_options.disk_error_limit < 1 || store_options.disk_error_window_ms < 1000) {
    LOG(ERROR) << "--disk-error-limit and --disk-error-window-s must be at least 1";
    return 2;
  }
  auto store = hafs::ChunkStore::Open(store_options);
  if (!store) {
    LOG(ERROR) << "cannot start: " << store.error().ToString();
    return 1;
  }

  hafs::ChunkserverState state;
  hafs::LeadershipLeaseOptions lease_options;
  lease_options.dir = store_options.data_dirs.front();
  lease_options.grace_ms = options["leadership-grace-ms"].as<int>();
  if (lease_options.grace_ms < 0) {
    LOG(ERROR) << "--leadership-grace-ms must not be negative";
    return 2;
  }
  if (lease_options.grace_ms < lease_options.max_duration_ms) {
    LOG(WARNING) << "--leadership-grace-ms " << lease_options.grace_ms << " is shorter than the longest lease ("
                 << lease_options.max_duration_ms << " ms): after a restart two masters could hold a quorum";
  }
  auto lease = hafs::LeadershipLease::Open(lease_options, state);
  if (!lease) {
    LOG(ERROR) << "cannot start: " << lease.error().ToString();
    return 1;
  }

  if (hafs::Status secured = hafs::SetUpSecurity(security, hafs::Serves::kRequests); !secured.ok()) {
    LOG(ERROR) << "cannot start: " << secured.ToString();
    return 2;  // like a bad option: restarting will not help
  }
  hafs::DataServiceOptions service_options;
  service_options.token_key = *token_key;
  service_options.listen = options["listen"].as<std::string>();
  service_options.advertise_address = options["advertise-address"].as<std::string>();
  service_options.plain_data_listen = plain_data_listen;
  service_options.workers = options["workers"].as<int>();
  service_options.copy.max_copies = options["max-copies"].as<int>();
  service_options.copy.mib_per_s = options["copy-mib-per-s"].as<uint32_t>();
  if (service_options.copy.max_copies < 1 || service_options.copy.mib_per_s < 1 ||
      service_options.copy.max_copies >= service_options.workers) {
    LOG(ERROR) << "--max-copies and --copy-mib-per-s must be at least 1, and --max-copies below --workers";
    return 2;
  }
  hafs::DataService service(**store, state, service_options, lease->get());
  auto bound = service.Start();
  if (!bound) {
    LOG(ERROR) << "cannot start: " << bound.error().ToString();
    return 1;
  }
  std::string port_file = options["port-file"].as<std::string>();
  if (hafs::Status written = port_file.empty() ? hafs::Status::Ok() : hafs::WriteFileAtomically(port_file, *bound + "\n");
      !written.ok()) {
    LOG(ERROR) << "cannot write the port file: " << written.ToString();
    return 1;
  }

  auto metrics_endpoint = hafs::StartMetricsEndpoint(
      metrics_options,
      [&state] {
        return state.chunkserver_id() == 0 ? hafs::Health{false, "not registered with a master yet"}
                                           : hafs::Health{true, "ok"};
      },
      [&store] { hafs::RefreshStoreMetrics(**store); });
  if (!metrics_endpoint) {
    LOG(ERROR) << "cannot start: " << metrics_endpoint.error().ToString();
    return 1;
  }

  hafs::MasterLinkOptions link_options;
  link_options.masters = SplitCommas(options["master"].as<std::string>());
  if (link_options.masters.empty()) {
    LOG(ERROR) << "--master names no master";
    return 2;
  }
  for (const auto& master : link_options.masters) {
    if (master.find(':') == std::string::npos) {
      LOG(ERROR) << "--master " << master << " is not host:port";
      return 2;
    }
  }
  link_options.label = options["label"].as<std::string>();
  link_options.heartbeat_interval_ms = std::max(10, options["heartbeat-interval-ms"].as<int>());
  hafs::ReplicaVerifier verifier(**store);
  verifier.Start();
  link_options.verify_replica = [&verifier](uint64_t chunk_id) { verifier.Request(chunk_id); };
  hafs::MasterLink master_link(**store, state, link_options, lease->get());
  master_link.Start();

  double scrub_rate_mib = options["scrub-rate-mib"].as<double>();
  if (!(scrub_rate_mib >= 0)) {
    LOG(ERROR) << "--scrub-rate-mib must not be negative";
    return 2;
  }
  std::unique_ptr<hafs::Scrubber> scrubber;
  if (scrub_rate_mib > 0) {
    hafs::ScrubberOptions scrub_options;
    scrub_options.rate_bytes_per_s = std::max<uint64_t>(1, static_cast<uint64_t>(scrub_rate_mib * (1 << 20)));
    scrub_options.position_path = store_options.data_dirs.front() + "/" + hafs::kScrubPositionFile;
    scrub_options.last_client_data_ms = [&state] { return state.last_client_data_ms(); };
    scrubber = std::make_unique<hafs::Scrubber>(**store, scrub_options);
    scrubber->Start();
  }

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP) {
    LOG(INFO) << "SIGHUP: rereading the authorized keys";
    hafs::curve::KeyAuthority::RequestReload();
  }
  LOG(INFO) << "stopping on signal " << signal_number;
  (*metrics_endpoint)->Stop();  // scrapers now see a refused connection, not a daemon half gone
  if (scrubber) scrubber->Stop();
  master_link.Stop();
  verifier.Stop();
  service.Stop();
  return 0;
}
