// MasterState's chunkserver modes: `hafs maintenance` and `hafs decommission` requests,
// their log record (ChunkserverModeChanged, keyed by the member's uuid like
// ChunkserverJoined) and the per-chunkserver lines of the status reports. What the modes
// mean for self-healing: chunkserver_modes.h.
#include <algorithm>
#include <cctype>

#include "common/chunkserver_mode.h"
#include "common/log.h"
#include "master/chunkserver_modes.h"
#include "master/master_state.h"

namespace hafs::master {
namespace {

bool AllDigits(const std::string& text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

Result<std::string> MasterState::FindMember(const std::string& name) const {
  if (members_.contains(name)) return name;
  std::vector<std::string> matches;
  for (const auto& [uuid, member] : members_) {
    const ChunkserverState* chunkserver =
        registry_.chunkservers().contains(member.id) ? &registry_.chunkservers().at(member.id) : nullptr;
    bool same_id = AllDigits(name) && std::stoul(name) == member.id;
    bool same_address = member.address == name || (chunkserver != nullptr && chunkserver->address == name);
    if (same_id || same_address) matches.push_back(uuid);
  }
  if (matches.size() > 1) {
    return Fail(EINVAL, "\"" + name + "\" names " + std::to_string(matches.size()) +
                            " member chunkservers: give its id or uuid instead");
  }
  if (matches.empty()) {
    return Fail(ENOENT, "no member chunkserver has the id, address or uuid \"" + name + "\" (see hafs chunkservers)");
  }
  return matches.front();
}

Result<wire::Reply> MasterState::SetChunkserverMode(const wire::ChunkserverModeRequest& request, int64_t now_ms,
                                                    int64_t now_ns, std::vector<wire::LogRecord>* records) {
  if (request.mode() != wire::MODE_MAINTENANCE && request.mode() != wire::MODE_DECOMMISSION) {
    return Fail(EINVAL, "a chunkserver mode request names maintenance or decommission");
  }
  auto uuid = FindMember(request.chunkserver());
  if (!uuid) return Fail(uuid.error());
  uint32_t id = members_.at(*uuid).id;
  wire::ChunkserverMode current = registry_.Mode(id);
  std::string name = "chunkserver " + std::to_string(id);
  wire::ChunkserverMode wanted = wire::MODE_NORMAL;
  if (request.enable()) {
    // Maintenance would quietly stop a drain that is under way; the operator cancels it
    // first. The other way round is allowed: decommissioning a chunkserver in maintenance
    // (it is not coming back) is what makes its chunks be copied.
    if (request.mode() == wire::MODE_MAINTENANCE && current == wire::MODE_DECOMMISSION) {
      return Fail(EINVAL, name + " is being decommissioned: cancel that first (hafs decommission " +
                              std::to_string(id) + " cancel)");
    }
    wanted = request.mode();
  } else if (current != wire::MODE_NORMAL && current != request.mode()) {
    return Fail(EINVAL,
                name + " is in " + ChunkserverModeName(current) + " mode, not " + ChunkserverModeName(request.mode()));
  }
  if (wanted != current) {
    wire::LogRecord record;
    record.mutable_chunkserver_mode_changed()->set_chunkserver_uuid(*uuid);
    record.mutable_chunkserver_mode_changed()->set_mode(wanted);
    if (auto applied = Log(std::move(record), now_ns, records); !applied) return Fail(applied.error());
    LOG(INFO) << name << " (uuid " << *uuid << "): " << ChunkserverModeName(current) << " mode -> "
              << ChunkserverModeName(wanted);
  }
  wire::Reply reply;
  FillChunkserverInfo(id, registry_.ReplicasByChunkserver()[id], now_ms, reply.add_chunkservers());
  return reply;
}

Result<wire::Reply> MasterState::ApplyModeChanged(const wire::ChunkserverModeChanged& changed) {
  auto member = members_.find(changed.chunkserver_uuid());
  if (member == members_.end()) return Fail(ENOENT, "no member chunkserver " + changed.chunkserver_uuid());
  if (!wire::ChunkserverMode_IsValid(changed.mode())) {
    return Fail(EINVAL, "unknown chunkserver mode " + std::to_string(changed.mode()));
  }
  registry_.SetMode(member->second.id, changed.mode());
  return wire::Reply();
}

void MasterState::FillChunkserverInfo(uint32_t id, uint64_t replica_count, int64_t now_ms,
                                      wire::ChunkserverInfo* info) const {
  info->set_chunkserver_id(id);
  info->set_mode(registry_.Mode(id));
  info->set_replica_count(replica_count);
  auto registered = registry_.chunkservers().find(id);
  if (registered == registry_.chunkservers().end()) {
    // A member that has not registered with this master: down as far as it knows.
    info->set_state("down");
    for (const auto& [uuid, member] : members_) {
      if (member.id == id) info->set_address(member.address);
    }
    return;
  }
  const ChunkserverState& chunkserver = registered->second;
  info->set_address(chunkserver.address);
  info->set_state(!registry_.IsUp(chunkserver, now_ms) ? "down" : chunkserver.full ? "full" : "up");
  info->set_chunk_count(chunkserver.chunk_count);
  *info->mutable_space() = chunkserver.space;
  info->set_last_heartbeat_ns(chunkserver.last_heartbeat_ns);
  info->set_requests_in_flight(chunkserver.requests_in_flight);
  info->set_label(chunkserver.label);
}

}  // namespace hafs::master
