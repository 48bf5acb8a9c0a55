#include "cli/reports.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "cli/json_output.h"
#include "cli/text_table.h"
#include "common/chunkserver_mode.h"
#include "common/space_total.h"

namespace hafs::cli {
namespace {

constexpr double kNsPerSecond = 1e9;

// Seconds since the last heartbeat; none when the master never got one.
std::optional<double> HeartbeatAgeSeconds(const wire::ChunkserverInfo& info, int64_t now_ns) {
  if (info.last_heartbeat_ns() <= 0) return std::nullopt;
  return static_cast<double>(std::max<int64_t>(0, now_ns - info.last_heartbeat_ns())) / kNsPerSecond;
}

// The mode as the text reports say it, with a decommission's progress.
std::string ModeText(const wire::ChunkserverInfo& info) {
  if (info.mode() != wire::MODE_DECOMMISSION) return ChunkserverModeName(info.mode());
  if (Drained(info)) return "decommissioned: empty, it can be removed";
  return "decommissioning, " + std::to_string(info.replica_count()) + " chunks left";
}

// "chunkserver 3 (127.0.0.1:9103, down): maintenance"
std::string ModeLine(const wire::ChunkserverInfo& info) {
  return "chunkserver " + std::to_string(info.chunkserver_id()) + " (" + info.address() + ", " + info.state() +
         "): " + ModeText(info);
}

void AddChunkserverModeFields(const wire::ChunkserverInfo& info, Json& json) {
  json["mode"] = ChunkserverModeName(info.mode());
  json["replicas"] = info.replica_count();
  json["drained"] = Drained(info);
}

std::string ChunkIdHex(uint64_t chunk_id) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(chunk_id));
  return buffer;
}

}  // namespace

bool Drained(const wire::ChunkserverInfo& info) {
  return info.mode() == wire::MODE_DECOMMISSION && info.replica_count() == 0 && info.chunk_count() == 0;
}

ClusterSummary Summarize(const wire::Reply& reply) {
  ClusterSummary summary;
  SpaceTotal space;  // a disk several chunkservers share counts once
  for (const wire::ChunkserverInfo& info : reply.chunkservers()) {
    ++summary.total;
    summary.maintenance += info.mode() == wire::MODE_MAINTENANCE;
    summary.decommissioning += info.mode() == wire::MODE_DECOMMISSION;
    if (info.state() == "down") {
      ++summary.down;
      continue;
    }
    ++summary.up;
    space.Add(info.space());
    summary.used_bytes += info.space().used_bytes();
  }
  summary.total_bytes = space.total_bytes();
  summary.free_bytes = space.free_bytes();
  return summary;
}

std::string FileInfoJson(const wire::Reply& reply) {
  Json chunks = Json::array();
  for (const wire::ChunkInfo& chunk : reply.chunks()) {
    Json replicas = Json::array();
    for (const wire::ReplicaInfo& replica : chunk.replicas()) {
      replicas.push_back(
          {{"chunkserver", replica.chunkserver_id()}, {"address", replica.address()}, {"state", replica.state()}});
    }
    chunks.push_back({{"index", chunk.chunk_index()},
                      {"id", chunk.chunk_id()},
                      {"version", chunk.chunk_version()},
                      {"lease_ms_left", chunk.lease_ms_left()},
                      {"replicas", std::move(replicas)}});
  }
  return JsonText({{"chunks", std::move(chunks)}, {"goal", reply.goal()}});
}

std::string FileInfoText(const wire::Reply& reply, const std::string& path, uint64_t inode) {
  std::string out = path + ": inode " + std::to_string(inode) + ", " + std::to_string(reply.chunks_size()) +
                    (reply.chunks_size() == 1 ? " chunk" : " chunks") + ", goal " + std::to_string(reply.goal()) + "\n";
  for (const wire::ChunkInfo& chunk : reply.chunks()) {
    out += "chunk " + std::to_string(chunk.chunk_index()) + ": id " + ChunkIdHex(chunk.chunk_id()) + ", version " +
           std::to_string(chunk.chunk_version()) + ", " + std::to_string(chunk.replicas_size()) + " replica(s)" +
           (chunk.lease_ms_left() ? ", write lease for " + std::to_string(chunk.lease_ms_left()) + " ms" : "") + "\n";
    std::vector<std::vector<std::string>> rows;
    for (const wire::ReplicaInfo& replica : chunk.replicas()) {
      rows.push_back(
          {"    chunkserver " + std::to_string(replica.chunkserver_id()), replica.address(), replica.state()});
    }
    out += FormatTable(rows);
  }
  return out;
}

std::string ChunkserversJson(const wire::Reply& reply, int64_t now_ns) {
  Json chunkservers = Json::array();
  for (const wire::ChunkserverInfo& info : reply.chunkservers()) {
    std::optional<double> age_s = HeartbeatAgeSeconds(info, now_ns);
    Json entry = {{"id", info.chunkserver_id()},
                  {"address", info.address()},
                  {"label", info.label()},
                  {"state", info.state()},
                  {"chunks", info.chunk_count()},
                  {"used_bytes", info.space().used_bytes()},
                  {"free_bytes", info.space().free_bytes()},
                  {"total_bytes", info.space().total_bytes()},
                  {"last_heartbeat_age_s", age_s ? Json(Rounded(*age_s, 1)) : Json(nullptr)},
                  {"requests_in_flight", info.requests_in_flight()}};
    AddChunkserverModeFields(info, entry);
    chunkservers.push_back(std::move(entry));
  }
  return JsonText({{"chunkservers", std::move(chunkservers)}});
}

std::string ChunkserversText(const wire::Reply& reply, int64_t now_ns) {
  if (reply.chunkservers_size() == 0) return "no chunkservers registered\n";
  std::vector<std::vector<std::string>> rows = {
      {"ID", "ADDRESS", "LABEL", "STATE", "CHUNKS", "USED", "FREE", "HEARTBEAT", "MODE"}};
  for (const wire::ChunkserverInfo& info : reply.chunkservers()) {
    std::string heartbeat = "never";
    if (auto age = HeartbeatAgeSeconds(info, now_ns)) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.1fs ago", *age);
      heartbeat = buffer;
    }
    rows.push_back({std::to_string(info.chunkserver_id()), info.address(), info.label().empty() ? "-" : info.label(),
                    info.state(), std::to_string(info.chunk_count()), HumanBytes(info.space().used_bytes()),
                    HumanBytes(info.space().free_bytes()), heartbeat,
                    info.mode() == wire::MODE_NORMAL ? "-" : ModeText(info)});
  }
  return FormatTable(rows);
}

std::string ChunkserverModeText(const wire::Reply& reply) {
  std::string out;
  for (const wire::ChunkserverInfo& info : reply.chunkservers()) out += ModeLine(info) + "\n";
  return out;
}

bool MasterReachable(const wire::MasterInfo& master, const std::string& answered_by) {
  return master.reachable() || master.address() == answered_by;
}

bool Degraded(const wire::Reply& reply) {
  if (reply.masters_size() < 2) return false;  // a single-master cluster has no standby to lose
  bool active = false;
  bool in_sync_standby = false;
  for (const wire::MasterInfo& master : reply.masters()) {
    if (master.role() == "active") {
      active = true;
    } else if (master.sync() == "in sync") {
      in_sync_standby = true;
    }
  }
  return active && !in_sync_standby;
}

std::string StatusJson(const wire::Reply& reply, const std::string& answered_by) {
  ClusterSummary summary = Summarize(reply);
  Json masters = Json::array();
  for (const wire::MasterInfo& master : reply.masters()) {
    masters.push_back({{"address", master.address()},
                       {"role", master.role()},
                       {"epoch", master.epoch()},
                       {"log_position", master.log_position()},
                       {"sync", master.sync()},
                       {"lag_records", master.lag_records()},
                       {"reachable", MasterReachable(master, answered_by)}});
  }
  Json modes = Json::array();
  for (const wire::ChunkserverInfo& info : reply.chunkservers()) {
    if (info.mode() == wire::MODE_NORMAL) continue;
    Json entry = {{"id", info.chunkserver_id()}, {"address", info.address()}, {"state", info.state()}};
    AddChunkserverModeFields(info, entry);
    modes.push_back(std::move(entry));
  }
  return JsonText({
      {"answered_by", answered_by},
      {"masters", std::move(masters)},
      {"degraded", Degraded(reply)},
      {"chunkservers",
       {{"up", summary.up},
        {"down", summary.down},
        {"total", summary.total},
        {"maintenance", summary.maintenance},
        {"decommissioning", summary.decommissioning}}},
      {"modes", std::move(modes)},
      {"chunks",
       {{"healthy", reply.chunks_healthy()},
        {"under_replicated", reply.chunks_under_replicated()},
        {"corrupt", reply.chunks_corrupt()},
        {"over_replicated", reply.chunks_over_replicated()},
        {"missing", reply.chunks_missing()}}},
      {"repair",
       {{"being_copied", reply.chunks_being_copied()},
        {"being_moved", reply.chunks_being_moved()},
        {"bytes_to_copy", reply.bytes_to_copy()},
        {"recent", reply.recent_repairs()}}},
      {"space",
       {{"total_bytes", summary.total_bytes}, {"free_bytes", summary.free_bytes}, {"used_bytes", summary.used_bytes}}},
      {"files", {{"inodes", reply.inode_count()}, {"open_unlinked", reply.open_unlinked_files()}}},
  });
}

std::string StatusText(const wire::Reply& reply, const std::string& answered_by) {
  ClusterSummary summary = Summarize(reply);
  std::string out = "masters (answered by " + answered_by + "):\n";
  std::vector<std::vector<std::string>> rows = {{"  ADDRESS", "ROLE", "EPOCH", "LOG POSITION", "SYNC", "LAG"}};
  for (const wire::MasterInfo& master : reply.masters()) {
    bool reachable = MasterReachable(master, answered_by);
    std::string role = master.role().empty() ? "-" : master.role();
    if (!reachable) role += " (unreachable)";
    rows.push_back({"  " + master.address(), role, std::to_string(master.epoch()),
                    std::to_string(master.log_position()), master.sync().empty() ? "-" : master.sync(),
                    master.role() == "active" ? "-" : std::to_string(master.lag_records())});
  }
  out += FormatTable(rows);
  if (Degraded(reply)) {
    out += "degraded: the active master has no in-sync standby (changes are acknowledged by one master only)\n";
  }
  out += "chunkservers: " + std::to_string(summary.up) + " up, " + std::to_string(summary.down) + " down, " +
         std::to_string(summary.total) + " total\n";
  for (const wire::ChunkserverInfo& info : reply.chunkservers()) {
    if (info.mode() != wire::MODE_NORMAL) out += "  " + ModeLine(info) + "\n";
  }
  out += "chunks: " + std::to_string(reply.chunks_healthy()) + " healthy, " +
         std::to_string(reply.chunks_under_replicated()) + " under-replicated, " +
         std::to_string(reply.chunks_corrupt()) + " corrupt (a replica found bad), " +
         std::to_string(reply.chunks_over_replicated()) + " over-replicated, " +
         std::to_string(reply.chunks_missing()) + " missing\n";
  std::string moving = reply.chunks_being_moved() == 0
                           ? ""
                           : " (" + std::to_string(reply.chunks_being_moved()) + " of them to rebalance)";
  out += "self-healing: " + std::to_string(reply.chunks_being_copied()) + " chunks being copied" + moving + ", " +
         HumanBytes(reply.bytes_to_copy()) + " left to copy\n";
  for (const std::string& line : reply.recent_repairs()) out += "  " + line + "\n";
  out += "space: " + HumanBytes(summary.used_bytes) + " used, " + HumanBytes(summary.free_bytes) + " free, " +
         HumanBytes(summary.total_bytes) + " total\n";
  out += "files: " + std::to_string(reply.inode_count()) + " inodes, " + std::to_string(reply.open_unlinked_files()) +
         " open-unlinked (kept until their last close)\n";
  return out;
}

}  // namespace hafs::cli
