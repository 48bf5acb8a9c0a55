// Self-healing on the active master: MasterService's side of re-replication, trimming and
// rebalancing (docs/design.md, "Self-healing"). RepairPlanner and Rebalancer decide,
// CopyDispatcher carries copies out; finished copies are logged as ReplicaCopied so a
// standby knows the new replicas.
#include <sstream>

#include "common/clock.h"
#include "common/log.h"
#include "master/master_metrics.h"
#include "master/master_service.h"

namespace hafs::master {
namespace {

// How often the chunks are scanned for repairs (a scan visits every chunk).
constexpr int64_t kRepairPlanEveryMs = 200;
// Lines of recent repairs `hafs status` shows.
constexpr size_t kRecentRepairs = 10;

std::string Describe(const CopyOrder& order) {
  return "chunk " + std::to_string(order.chunk_id) + " v" + std::to_string(order.version) + " from chunkserver " +
         std::to_string(order.source) + " to " + std::to_string(order.destination) +
         (order.move_from != 0 ? " (rebalancing)" : "");
}

}  // namespace

void MasterService::NoteRepair(std::string line) {
  std::time_t now = WallClockNs() / 1000000000;
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ", std::localtime(&now));
  recent_repairs_.push_back(stamp + std::move(line));
  while (recent_repairs_.size() > kRecentRepairs) recent_repairs_.pop_front();
}

Status MasterService::MaybeRepair(int64_t now_ms) {
  if (role_.load() != Role::kActive) {
    if (repair_planner_.copies_in_flight() > 0) {
      copy_dispatcher_.Clear();
      repair_planner_.Clear();
    }
    return Status::Ok();
  }
  std::vector<wire::LogRecord> records;
  for (const CopyDispatcher::Outcome& outcome : copy_dispatcher_.Poll(
           now_ms, [&](uint32_t id) { return state_->registry().IsUp(id, now_ms); })) {
    repair_planner_.Finished(outcome.order);
    Metrics().repair_copies.With(outcome.status.ok() ? "ok" : "failed").Increment();
    if (!outcome.status.ok()) {
      LOG(WARNING) << "copy of " << Describe(outcome.order) << " failed: " << outcome.status.ToString();
      NoteRepair("copy of " + Describe(outcome.order) + " failed: " + outcome.status.message());
      continue;
    }
    state_->CopyFinished(outcome.order, WallClockNs(), &records);
    std::string line = "copied " + Describe(outcome.order);
    if (outcome.order.move_from != 0 && !FinishMove(state_->registry(), outcome.order, now_ms)) {
      line += "; kept the replica on chunkserver " + std::to_string(outcome.order.move_from) +
              " (the chunk changed or would fall below its goal)";
    }
    LOG(INFO) << line;
    NoteRepair(std::move(line));
  }
  if (now_ms - last_repair_plan_ms_ >= kRepairPlanEveryMs && state_->RepairsAllowed(now_ms)) {
    last_repair_plan_ms_ = now_ms;
    ChunkRegistry& registry = state_->registry();
    std::vector<CopyOrder> repairs = repair_planner_.PlanCopies(registry, now_ms, random_);
    // Repairs come first: chunks move for balance only while no repair is planned or running.
    bool repairing = !repairs.empty() || repair_planner_.copies_in_flight() > repair_planner_.moves_in_flight().size();
    StartCopies(repairs, now_ms);
    if (!repairing) StartCopies(rebalancer_.Plan(registry, repair_planner_, now_ms), now_ms);
    for (const SurplusReplica& surplus : repair_planner_.PlanTrims(registry, now_ms)) {
      registry.DropReplica(surplus.chunk_id, surplus.chunkserver_id);
      bool leaving = registry.Mode(surplus.chunkserver_id) == wire::MODE_DECOMMISSION;
      std::string line = std::string(leaving ? "dropped the replica" : "dropped surplus replica") + " of chunk " +
                         std::to_string(surplus.chunk_id) + " on " + (leaving ? "decommissioning " : "") +
                         "chunkserver " + std::to_string(surplus.chunkserver_id);
      LOG(INFO) << line;
      NoteRepair(std::move(line));
    }
  }
  return AppendRecords(records);
}

void MasterService::StartCopies(const std::vector<CopyOrder>& orders, int64_t now_ms) {
  ChunkRegistry& registry = state_->registry();
  for (const CopyOrder& order : orders) {
    const ChunkserverState* source = registry.FindChunkserver(order.source);
    const ChunkserverState* destination = registry.FindChunkserver(order.destination);
    wire::ChunkToken token = token_issuer_.CopyToken(order.chunk_id, order.version, source->address, WallClockMs());
    Status sent = copy_dispatcher_.Send(order, {destination->address, destination->public_key},
                                        {source->address, source->public_key}, token, state_->epoch(), now_ms);
    if (!sent.ok()) {
      Metrics().repair_copies.With("not_started").Increment();
      LOG(WARNING) << "copy of " << Describe(order) << " not started: " << sent.ToString();
      continue;
    }
    repair_planner_.Started(order);
    LOG(INFO) << "copying " << Describe(order) << " (" << order.valid_replicas << " valid replicas)";
  }
}

void MasterService::FillRepairs(wire::Reply* reply) {
  reply->set_chunks_being_copied(repair_planner_.copies_in_flight());
  reply->set_chunks_being_moved(repair_planner_.moves_in_flight().size());
  for (const std::string& line : recent_repairs_) reply->add_recent_repairs(line);
}

}  // namespace hafs::master
