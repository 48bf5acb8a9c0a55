// MasterService's metrics and health (docs/design.md, "Metrics and health"): the service
// loop copies a cluster status into the gauges, so the HTTP endpoint's threads never read the state.
#include "common/clock.h"
#include "master/master_metrics.h"
#include "master/master_service.h"

namespace hafs::master {
namespace {

constexpr int64_t kPublishMetricsEveryMs = 500;
// A loop turn takes at most a poll (100 ms) and a batch; this long without one is a hang.
constexpr int64_t kStalledAfterMs = 5000;

}  // namespace

void MasterService::MaybePublishMetrics(int64_t now_ms) {
  last_turn_ms_.store(now_ms);
  if (now_ms - last_metrics_ms_ < kPublishMetricsEveryMs) return;
  last_metrics_ms_ = now_ms;
  wire::Reply status = state_->ClusterStatus(now_ms);
  if (HasPeer()) FillMasters(&status);
  FillRepairs(&status);

  MasterMetrics& metrics = Metrics();
  bool active = role_.load() == Role::kActive;
  metrics.role.With("active").Set(active ? 1 : 0);
  metrics.role.With("standby").Set(active ? 0 : 1);
  const wire::MasterInfo& self = status.masters(0);
  metrics.epoch.Set(static_cast<double>(self.epoch()));
  metrics.sessions.Set(static_cast<double>(sessions_.size()));
  metrics.open_unlinked_files.Set(static_cast<double>(status.open_unlinked_files()));
  metrics.locks.Set(static_cast<double>(locks_.size()));
  metrics.lock_waiters.Set(static_cast<double>(locks_.waiters()));
  metrics.metadata_leases.Set(static_cast<double>(leases_.size()));
  metrics.log_position.Set(static_cast<double>(self.log_position()));
  // An active shows how far its standby is behind, a standby how far it is itself.
  uint64_t lag = active && HasPeer() ? status.masters(1).lag_records() : self.lag_records();
  metrics.standby_lag_records.Set(static_cast<double>(lag));
  metrics.chunks.With("healthy").Set(static_cast<double>(status.chunks_healthy()));
  metrics.chunks.With("under_replicated").Set(static_cast<double>(status.chunks_under_replicated()));
  metrics.chunks.With("over_replicated").Set(static_cast<double>(status.chunks_over_replicated()));
  metrics.chunks.With("corrupt").Set(static_cast<double>(status.chunks_corrupt()));
  metrics.chunks.With("missing").Set(static_cast<double>(status.chunks_missing()));
  uint64_t down = 0;
  for (const wire::ChunkserverInfo& chunkserver : status.chunkservers()) down += chunkserver.state() == "down";
  metrics.chunkservers.With("up").Set(static_cast<double>(status.chunkservers_size() - down));
  metrics.chunkservers.With("down").Set(static_cast<double>(down));
  metrics.repair_copies_in_flight.Set(static_cast<double>(status.chunks_being_copied()));
  metrics.repair_bytes_to_copy.Set(static_cast<double>(status.bytes_to_copy()));

  Health health = HealthFromStatus(status);
  std::lock_guard lock(health_mutex_);
  health_ = std::move(health);
}

Health MasterService::HealthFromStatus(const wire::Reply& status) const {
  if (role_.load() == Role::kActive) return {true, "active"};
  if (resync_needed_ || resync_when_active_found_) return {false, "standby resynchronising"};
  uint64_t lag = status.masters(0).lag_records();
  if (lag > 0) return {false, "standby catching up, " + std::to_string(lag) + " records behind"};
  return {true, "standby in sync"};
}

Health MasterService::health() const {
  int64_t last_turn_ms = last_turn_ms_.load();
  if (last_turn_ms == 0) return {false, "starting"};
  if (int64_t silent_ms = MonotonicMs() - last_turn_ms; silent_ms > kStalledAfterMs) {
    return {false, "service loop stalled for " + std::to_string(silent_ms) + " ms"};
  }
  std::lock_guard lock(health_mutex_);
  return health_;
}

}  // namespace hafs::master
