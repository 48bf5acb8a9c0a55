#include "master/session_table.h"

#include <algorithm>
#include <utility>

#include "common/key_authority.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs::master {
namespace {

std::string Describe(uint64_t id, const wire::SessionInfo& info) {
  return "session " + std::to_string(id) + " (" + info.host() + ":" + info.mount_point() + ")";
}

}  // namespace

SessionOwner SessionOwnerOf(const rpc::Incoming& incoming) {
  return {incoming.peer_key, curve::KeyAuthority::NameOf(incoming.peer_key), incoming.peer_address};
}

wire::Reply SessionTable::Handle(uint64_t id, const wire::SessionRequest& request, const SessionOwner& owner,
                                 int64_t now_ms, int64_t wall_ms) {
  wire::Reply reply;
  auto found = sessions_.find(id);
  if (found != sessions_.end() && found->second.owner_key != owner.key) {
    static LogRateLimit refusals(20, 10000);
    rpc::LogAtRate(refusals, "refused a session request",
                   Status::Error(EACCES, Describe(id, found->second.info) + " belongs to another key"));
    reply.set_error(EACCES);
    reply.set_error_message("session " + std::to_string(id) + " belongs to another key");
    return reply;
  }
  if (request.end()) {
    if (found != sessions_.end()) {
      LOG(INFO) << Describe(id, found->second.info) << " ended by its mount";
      Erase(found);
    }
    return reply;
  }
  if (found == sessions_.end()) {
    if (sessions_.size() >= kMaxSessions || per_key_[owner.key] >= kMaxSessionsPerKey) {
      reply.set_error(ENOSPC);
      reply.set_error_message("too many sessions");
      return reply;
    }
    Session session;
    wire::SessionInfo& info = session.info;
    info.set_session_id(id);
    info.set_host(request.host());
    info.set_mount_point(request.mount_point());
    info.set_version(request.version());
    info.set_subdir(request.subdir());
    info.set_client(owner.name.empty() ? owner.key : owner.name);
    info.set_address(owner.address);
    info.set_opened_ms(wall_ms);
    session.owner_key = owner.key;
    LOG(INFO) << Describe(id, info) << " opened by " << (info.client().empty() ? "a client" : info.client())
              << " from " << owner.address;
    found = sessions_.emplace(id, std::move(session)).first;
    per_key_[owner.key]++;
    reply.set_session_reopened(true);
  }
  found->second.renewed_ms = now_ms;
  found->second.info.set_address(owner.address);
  reply.set_session_timeout_ms(static_cast<uint32_t>(timeout_ms_));
  return reply;
}

bool SessionTable::OwnedBy(uint64_t id, const std::string& key) const {
  auto found = sessions_.find(id);
  return found != sessions_.end() && found->second.owner_key == key;
}

wire::Reply SessionTable::List(int64_t now_ms) const {
  wire::Reply reply;
  for (const auto& [id, session] : sessions_) {
    wire::SessionInfo* info = reply.add_sessions();
    *info = session.info;
    info->set_renewed_ms_ago(static_cast<uint32_t>(std::max<int64_t>(0, now_ms - session.renewed_ms)));
  }
  std::sort(reply.mutable_sessions()->begin(), reply.mutable_sessions()->end(),
            [](const wire::SessionInfo& a, const wire::SessionInfo& b) {
              return std::make_pair(a.opened_ms(), a.session_id()) < std::make_pair(b.opened_ms(), b.session_id());
            });
  return reply;
}

std::vector<uint64_t> SessionTable::Expire(int64_t now_ms) {
  std::vector<uint64_t> ended;
  for (auto session = sessions_.begin(); session != sessions_.end();) {
    auto next = std::next(session);
    if (now_ms - session->second.renewed_ms > timeout_ms_) {
      LOG(WARNING) << Describe(session->first, session->second.info) << " not renewed for " << timeout_ms_
                   << " ms: ended";
      ended.push_back(session->first);
      Erase(session);
    }
    session = next;
  }
  return ended;
}

std::vector<uint64_t> SessionTable::MaybeExpire(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < kSweepEveryMs) return {};
  last_sweep_ms_ = now_ms;
  return Expire(now_ms);
}

void SessionTable::Clear() {
  sessions_.clear();
  per_key_.clear();
}

void SessionTable::Erase(std::unordered_map<uint64_t, Session>::iterator session) {
  auto owner = per_key_.find(session->second.owner_key);
  if (owner != per_key_.end() && --owner->second == 0) per_key_.erase(owner);
  sessions_.erase(session);
}

}  // namespace hafs::master
