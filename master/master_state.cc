#include "master/master_state.h"

#include <algorithm>

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs::master {

MasterState::MasterState(MasterOptions options)
    : options_(std::move(options)),
      namespace_(options_.goal),
      registry_(options_.heartbeat_timeout_ms),
      random_(std::random_device{}()) {}

Result<wire::Reply> MasterState::Apply(const wire::LogRecord& record) {
  if (record.position() != position_ + 1) {
    return Fail(EINVAL,
                "log record " + std::to_string(record.position()) + " after position " + std::to_string(position_));
  }
  auto reply = ApplyEvent(record);
  if (!reply) return reply;
  position_ = record.position();
  if (record.client_id() != 0) {
    recent_.Put(record.client_id(), record.sequence(), record.time_ns(), record.has_result() ? record.result() : *reply);
  }
  return reply;
}

Status MasterState::Replay(const wire::LogRecord& record) {
  auto reply = Apply(record);
  if (reply) return Status::Ok();
  if (record.position() != position_ + 1) return reply.error();
  LOG(WARNING) << "log record " << record.position() << " did not apply again: " << reply.error().ToString();
  position_ = record.position();
  return Status::Ok();
}

void MasterState::FreeChunks(const std::vector<uint64_t>& freed_chunks) { registry_.RemoveChunks(freed_chunks); }

Result<wire::Reply> MasterState::ApplyEvent(const wire::LogRecord& record) {
  int64_t now_ns = record.time_ns();
  wire::Reply reply;
  std::vector<uint64_t> freed_chunks;
  auto set_attr = [&](Result<wire::Attr> attr) -> Result<wire::Reply> {
    if (!attr) return Fail(attr.error());
    *reply.mutable_attr() = std::move(*attr);
    return reply;
  };
  auto set_status = [&](Status status) -> Result<wire::Reply> {
    if (!status.ok()) return Fail(status);
    FreeChunks(freed_chunks);
    return reply;
  };
  switch (record.event_case()) {
    case wire::LogRecord::kSetAttr: {
      auto attr = namespace_.SetAttr(record.set_attr(), now_ns, &freed_chunks);
      FreeChunks(freed_chunks);
      return set_attr(std::move(attr));
    }
    case wire::LogRecord::kMknod:
      return TakeGrantedInode(record, record.mknod().inode(), [&] { return set_attr(namespace_.Mknod(record.mknod(), now_ns)); });
    case wire::LogRecord::kMkdir:
      return TakeGrantedInode(record, record.mkdir().inode(), [&] { return set_attr(namespace_.Mkdir(record.mkdir(), now_ns)); });
    case wire::LogRecord::kInodesGranted: {
      const wire::InodesGranted& granted = record.inodes_granted();
      if (granted.first() != namespace_.next_inode() || granted.count() == 0 ||
          granted.count() > InodeGrants::kMaxPerGrant) {
        return Fail(EINVAL, "inode range " + std::to_string(granted.first()) + "+" + std::to_string(granted.count()) +
                                " is not the next one");
      }
      namespace_.ReserveInodes(granted.count());
      inode_grants_.Add(granted.session(), granted.first(), granted.count());
      reply.set_inode_range_first(granted.first());
      reply.set_inode_range_count(granted.count());
      return reply;
    }
    case wire::LogRecord::kSymlink:
      return TakeGrantedInode(record, record.symlink().inode(), [&] { return set_attr(namespace_.Symlink(record.symlink(), now_ns)); });
    case wire::LogRecord::kLink:
      return set_attr(namespace_.Link(record.link(), now_ns));
    case wire::LogRecord::kWriteDone:
      return set_attr(namespace_.WriteDone(record.write_done()));
    case wire::LogRecord::kUnlink:
      return set_status(namespace_.Unlink(record.unlink(), now_ns, &freed_chunks));
    case wire::LogRecord::kRmdir:
      return set_status(namespace_.Rmdir(record.rmdir(), now_ns));
    case wire::LogRecord::kRename:
      return set_status(namespace_.Rename(record.rename(), now_ns, &freed_chunks));
    case wire::LogRecord::kSetXattr:
      return set_status(namespace_.SetXattr(record.set_xattr(), now_ns));
    case wire::LogRecord::kRemoveXattr:
      return set_status(namespace_.RemoveXattr(record.remove_xattr(), now_ns));
    case wire::LogRecord::kAppend:
      return namespace_.Append(record.append());
    case wire::LogRecord::kFallocate: {
      auto attr = namespace_.Fallocate(record.fallocate(), &freed_chunks);
      FreeChunks(freed_chunks);
      return set_attr(std::move(attr));
    }
    case wire::LogRecord::kReleaseOrphan:
      return set_status(namespace_.ReleaseOrphan(record.release_orphan(), &freed_chunks));
    case wire::LogRecord::kLeaseHolders:
      lease_holders_.assign(record.lease_holders().sessions().begin(), record.lease_holders().sessions().end());
      delegating_holders_.assign(record.lease_holders().delegating().begin(), record.lease_holders().delegating().end());
      return reply;
    case wire::LogRecord::kChunkAllocated: {
      const wire::ChunkAllocated& allocated = record.chunk_allocated();
      if (allocated.chunk_id() == 0 || registry_.Find(allocated.chunk_id())) {
        return Fail(EEXIST, "chunk id " + std::to_string(allocated.chunk_id()) + " is taken");
      }
      if (Status status = namespace_.SetChunk(allocated.inode(), allocated.chunk_index(), allocated.chunk_id());
          !status.ok()) {
        return Fail(status);
      }
      registry_.AddChunk(allocated.chunk_id(), allocated.chunk_version(), *namespace_.Goal(allocated.inode()));
      next_chunk_id_ = std::max(next_chunk_id_, allocated.chunk_id() + 1);
      AddReplicasByUuid(allocated.chunk_id(), allocated.replica_uuids(), allocated.chunk_version());
      placements_.Take(allocated.chunk_id());  // placed ahead and now attached (AttachChunk)
      return reply;
    }
    case wire::LogRecord::kChunksPlaced: {
      const wire::ChunksPlaced& placed = record.chunks_placed();
      uint64_t expected = next_chunk_id_;
      for (const wire::PlacedChunk& chunk : placed.chunks()) {
        if (chunk.chunk_id() != expected++) {
          return Fail(EINVAL, "placed chunk " + std::to_string(chunk.chunk_id()) + " is not the next chunk id");
        }
      }
      if (placed.chunks_size() == 0 || placed.chunks_size() > static_cast<int>(ChunkPlacements::kMaxPerGrant)) {
        return Fail(EINVAL, "a placement of " + std::to_string(placed.chunks_size()) + " chunks");
      }
      // Kept here for two leases, past any write token given with them (and the allowed skew).
      placements_.Add(placed, MonotonicMs() + 2 * options_.lease_ms);
      next_chunk_id_ = expected;
      return reply;
    }
    case wire::LogRecord::kPlacementsExpired:
      for (uint64_t chunk_id : record.placements_expired().chunk_ids()) placements_.Take(chunk_id);
      return reply;
    case wire::LogRecord::kChunkVersionBumped: {
      const wire::ChunkVersionBumped& bumped = record.chunk_version_bumped();
      if (!registry_.Find(bumped.chunk_id())) return Fail(ENOENT, "no chunk " + std::to_string(bumped.chunk_id()));
      registry_.SetVersion(bumped.chunk_id(), bumped.chunk_version());
      AddReplicasByUuid(bumped.chunk_id(), bumped.replica_uuids(), bumped.chunk_version());
      return reply;
    }
    case wire::LogRecord::kReplicaCopied: {
      const wire::ReplicaCopied& copied = record.replica_copied();
      const ChunkState* chunk = registry_.Find(copied.chunk_id());
      if (!chunk || chunk->version != copied.chunk_version()) {
        return Fail(ESTALE, "chunk " + std::to_string(copied.chunk_id()) + " is not at version " +
                                std::to_string(copied.chunk_version()));
      }
      if (ChunkserverState* chunkserver = registry_.FindChunkserverByUuid(copied.replica_uuid())) {
        registry_.AddReplica(copied.chunk_id(), chunkserver->id, copied.chunk_version());
      }
      return reply;
    }
    case wire::LogRecord::kSetGoal:
      return ApplySetGoal(record.set_goal());
    case wire::LogRecord::kChunkserverModeChanged:
      return ApplyModeChanged(record.chunkserver_mode_changed());
    case wire::LogRecord::kEpochStarted:
      epoch_ = record.epoch_started().epoch();
      return reply;
    case wire::LogRecord::kChunkserverJoined:
      if (record.chunkserver_joined().chunkserver_uuid().empty()) return Fail(EINVAL, "member without a uuid");
      if (record.chunkserver_joined().chunkserver_id() == 0) return Fail(EINVAL, "member without an id");
      members_[record.chunkserver_joined().chunkserver_uuid()] = {
          record.chunkserver_joined().address(), record.chunkserver_joined().chunkserver_id(),
          record.chunkserver_joined().public_key()};
      return reply;
    case wire::LogRecord::EVENT_NOT_SET:
      break;
  }
  return Fail(EINVAL, "log record without a known event");
}

void MasterState::ReleaseOrphans(const std::vector<uint64_t>& inodes, int64_t now_ns,
                                 std::vector<wire::LogRecord>* records) {
  for (uint64_t inode : inodes) {
    wire::LogRecord record;
    record.mutable_release_orphan()->set_inode(inode);
    if (auto released = Log(std::move(record), now_ns, records); !released) {
      LOG(WARNING) << "open-unlinked inode " << inode << " not released: " << released.error().ToString();
    }
  }
}

void MasterState::LogLeaseHolders(const std::vector<uint64_t>& sessions, const std::vector<uint64_t>& delegating,
                                  int64_t now_ns, std::vector<wire::LogRecord>* records) {
  wire::LogRecord record;
  record.mutable_lease_holders()->mutable_sessions()->Add(sessions.begin(), sessions.end());
  record.mutable_lease_holders()->mutable_delegating()->Add(delegating.begin(), delegating.end());
  (void)Log(std::move(record), now_ns, records);
}

Result<uint64_t> MasterState::GrantInodes(uint64_t session, uint32_t count, int64_t now_ns,
                                          std::vector<wire::LogRecord>* records) {
  if (!inode_grants_.MayGrant(session, count)) {
    return Fail(ENOSPC, "session " + std::to_string(session) + " holds as many inode numbers as it may");
  }
  wire::LogRecord record;
  record.mutable_inodes_granted()->set_session(session);
  record.mutable_inodes_granted()->set_first(namespace_.next_inode());
  record.mutable_inodes_granted()->set_count(count);
  auto granted = Log(std::move(record), now_ns, records);
  if (!granted) return Fail(granted.error());
  return granted->inode_range_first();
}

Result<wire::Reply> MasterState::TakeGrantedInode(const wire::LogRecord& record, uint64_t inode,
                                                  const std::function<Result<wire::Reply>()>& create) {
  if (inode == 0) return create();
  if (!inode_grants_.Holds(record.client_id(), inode)) {
    return Fail(EACCES, "inode " + std::to_string(inode) + " was not granted to this session");
  }
  auto created = create();
  if (created) inode_grants_.Take(record.client_id(), inode);
  return created;
}

Result<wire::Reply> MasterState::Log(wire::LogRecord record, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  record.set_position(position_ + 1);
  record.set_time_ns(now_ns);
  auto reply = Apply(record);
  if (reply) records->push_back(std::move(record));
  return reply;
}

void MasterState::StartEpoch(int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  StartEpochAt(epoch_ + 1, now_ms, now_ns, records);
}

void MasterState::StartEpochAt(uint64_t epoch, int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  serving_since_ms_ = now_ms;
  bool new_cluster = position_ == 0;
  wire::LogRecord record;
  record.mutable_epoch_started()->set_epoch(std::max(epoch, epoch_ + 1));
  (void)Log(std::move(record), now_ns, records);
  if (new_cluster) LogRootGoal(now_ns, records);
}

void MasterState::ClearPendingDeletions() {
  for (const auto& [id, chunkserver] : registry_.chunkservers()) (void)registry_.TakePendingDeletions(id);
}

void MasterState::AddReplicasByUuid(uint64_t chunk_id, const google::protobuf::RepeatedPtrField<std::string>& uuids,
                                    uint64_t version) {
  for (const std::string& uuid : uuids) {
    if (ChunkserverState* chunkserver = registry_.FindChunkserverByUuid(uuid)) {
      registry_.AddReplica(chunk_id, chunkserver->id, version);
    }
  }
}

void MasterState::SetChainUuids(const std::vector<uint32_t>& chain,
                                google::protobuf::RepeatedPtrField<std::string>* uuids) {
  for (uint32_t id : chain) {
    if (ChunkserverState* chunkserver = registry_.FindChunkserver(id)) *uuids->Add() = chunkserver->uuid;
  }
}

wire::Reply MasterState::Handle(const wire::Envelope& request, int64_t now_ms, int64_t now_ns,
                                std::vector<wire::LogRecord>* records) {
  Result<wire::Reply> reply = wire::Reply();
  auto attr_reply = [](Result<wire::Attr> attr) -> Result<wire::Reply> {
    if (!attr) return Fail(attr.error());
    wire::Reply reply;
    *reply.mutable_attr() = std::move(*attr);
    return reply;
  };
  wire::LogRecord mutation;
  bool deduplicated = false;
  switch (request.body_case()) {
    case wire::Envelope::kSetAttr:
    case wire::Envelope::kMknod:
    case wire::Envelope::kMkdir:
    case wire::Envelope::kUnlink:
    case wire::Envelope::kRmdir:
    case wire::Envelope::kSymlink:
    case wire::Envelope::kLink:
    case wire::Envelope::kRename:
    case wire::Envelope::kWriteDone:
    case wire::Envelope::kAppend:
    case wire::Envelope::kFallocate:
    case wire::Envelope::kWriteLease:
    case wire::Envelope::kAttachChunk:
    case wire::Envelope::kSetGoal:
    case wire::Envelope::kSetXattr:
    case wire::Envelope::kRemoveXattr:
      deduplicated = request.client_id() != 0;
      break;
    default:
      break;
  }
  if (deduplicated) {
    if (const wire::Reply* recorded = recent_.Find(request.client_id(), request.sequence())) {
      LOG(DEBUG) << "client " << request.client_id() << " sequence " << request.sequence()
                 << " was applied already: answering its recorded result";
      return *recorded;
    }
  }
  size_t records_before = records->size();
  switch (request.body_case()) {
    case wire::Envelope::kLookup:
      if (Status allowed = namespace_.MayLookup(request.lookup()); !allowed.ok()) {
        reply = Fail(allowed);
      } else {
        reply = attr_reply(namespace_.Lookup(request.lookup().parent(), request.lookup().name()));
      }
      break;
    case wire::Envelope::kGetAttr:
      reply = attr_reply(namespace_.GetAttr(request.get_attr().inode()));
      break;
    case wire::Envelope::kReadlink:
      if (auto target = namespace_.Readlink(request.readlink().inode())) {
        reply->set_link_target(*target);
      } else {
        reply = Fail(target.error());
      }
      break;
    case wire::Envelope::kReadDir:
      if (Status status = namespace_.MayReadDir(request.read_dir()); !status.ok()) {
        reply = Fail(status);
      } else if (status = namespace_.ReadDir(request.read_dir(), &*reply); !status.ok()) {
        reply = Fail(status);
      }
      break;
    case wire::Envelope::kStatFs:
      reply = StatFs(now_ms);
      break;
    case wire::Envelope::kGetXattr:
      if (Status status = namespace_.GetXattr(request.get_xattr(), &*reply); !status.ok()) reply = Fail(status);
      break;
    case wire::Envelope::kListXattr:
      if (Status status = namespace_.ListXattr(request.list_xattr(), &*reply); !status.ok()) reply = Fail(status);
      break;
    case wire::Envelope::kSetXattr:
      *mutation.mutable_set_xattr() = request.set_xattr();
      break;
    case wire::Envelope::kRemoveXattr:
      *mutation.mutable_remove_xattr() = request.remove_xattr();
      break;
    case wire::Envelope::kGetChunks:
      if (Status allowed = namespace_.MayReadData(request.get_chunks().inode(), request.get_chunks().credentials());
          !allowed.ok()) {
        reply = Fail(allowed);
      } else {
        reply = GetChunks(request.get_chunks(), now_ms);
      }
      break;
    case wire::Envelope::kFileInfo:
      reply = FileInfo(request.file_info(), now_ms);
      break;
    case wire::Envelope::kClusterStatus:
      reply = ClusterStatus(now_ms);
      break;
    case wire::Envelope::kGetGoal:
      reply = GetGoal(request.get_goal());
      break;
    case wire::Envelope::kChunkserverMode:
      reply = SetChunkserverMode(request.chunkserver_mode(), now_ms, now_ns, records);
      break;
    case wire::Envelope::kWriteLease:
      if (Status allowed = namespace_.MayWriteData(request.write_lease().inode(), request.write_lease().credentials());
          !allowed.ok()) {
        reply = Fail(allowed);
      } else {
        reply = WriteLease(request.write_lease(), request.client_id(), now_ms, now_ns, records);
      }
      break;
    case wire::Envelope::kAttachChunk:
      if (Status allowed = namespace_.MayWriteData(request.attach_chunk().inode(), request.attach_chunk().credentials());
          !allowed.ok()) {
        reply = Fail(allowed);
      } else {
        reply = AttachChunk(request.attach_chunk(), request.client_id(), now_ms, now_ns, records);
      }
      break;
    case wire::Envelope::kReleaseLeases:
      ReleaseLeases(request.release_leases().leases(), request.client_id(), now_ms);
      break;
    case wire::Envelope::kReportBadReplica: {
      // A client's word alone drops nothing: the chunkserver is asked to check its replica.
      const wire::ReportBadReplicaRequest& report = request.report_bad_replica();
      static LogRateLimit report_log(20, 10000);
      rpc::LogAtRate(report_log,
                     "replica of chunk " + std::to_string(report.chunk_id()) + " on chunkserver " +
                         std::to_string(report.chunkserver_id()) +
                         " reported bad by a client: asking the chunkserver to check it",
                     Status::Error(report.error(), report.reason()));
      registry_.RequestVerification(report.chunk_id(), report.chunkserver_id());
      break;
    }
    case wire::Envelope::kRegister:
      reply = Register(request.register_(), now_ms, now_ns, records);
      break;
    case wire::Envelope::kHeartbeat:
      reply = Heartbeat(request.heartbeat(), now_ms, now_ns, records);
      break;
    case wire::Envelope::kSetAttr:
      *mutation.mutable_set_attr() = request.set_attr();
      break;
    case wire::Envelope::kMknod:
      *mutation.mutable_mknod() = request.mknod();
      break;
    case wire::Envelope::kMkdir:
      *mutation.mutable_mkdir() = request.mkdir();
      break;
    case wire::Envelope::kUnlink:
      *mutation.mutable_unlink() = request.unlink();
      break;
    case wire::Envelope::kRmdir:
      *mutation.mutable_rmdir() = request.rmdir();
      break;
    case wire::Envelope::kSymlink:
      *mutation.mutable_symlink() = request.symlink();
      break;
    case wire::Envelope::kLink:
      *mutation.mutable_link() = request.link();
      break;
    case wire::Envelope::kRename:
      *mutation.mutable_rename() = request.rename();
      break;
    case wire::Envelope::kWriteDone:
      *mutation.mutable_write_done() = request.write_done();
      mutation.mutable_write_done()->clear_release_leases();  // volatile: see ReleaseLeases
      break;
    case wire::Envelope::kSetGoal:
      *mutation.mutable_set_goal() = request.set_goal();
      break;
    case wire::Envelope::kAppend:
      *mutation.mutable_append() = request.append();
      break;
    case wire::Envelope::kFallocate:
      if (Status space = CheckFallocate(request.fallocate(), now_ms); !space.ok()) {
        reply = Fail(space);
        break;
      }
      *mutation.mutable_fallocate() = request.fallocate();
      break;
    default:
      reply = Fail(EINVAL, "the master does not answer this kind of message");
      break;
  }
  if (mutation.event_case() != wire::LogRecord::EVENT_NOT_SET) {
    if (deduplicated) {
      mutation.set_client_id(request.client_id());
      mutation.set_sequence(request.sequence());
    }
    // Checked here, before the record is made, and not in Apply: replay applies what was
    // allowed when it was logged.
    if (Status allowed = namespace_.Authorize(&mutation); !allowed.ok()) {
      reply = Fail(allowed);
    } else {
      reply = Log(std::move(mutation), now_ns, records);
    }
    if (reply && request.has_write_done()) {
      ReleaseLeases(request.write_done().release_leases(), request.client_id(), now_ms);
    }
  } else if (deduplicated && reply && records->size() > records_before) {
    // A write lease that logged: its reply (the chain) is recorded with the record.
    wire::LogRecord& last = records->back();
    last.set_client_id(request.client_id());
    last.set_sequence(request.sequence());
    *last.mutable_result() = *reply;
    recent_.Put(request.client_id(), request.sequence(), last.time_ns(), *reply);
  }
  if (reply) return std::move(*reply);
  wire::Reply error;
  error.set_error(reply.error().error());
  error.set_error_message(reply.error().message());
  return error;
}

Status MasterState::ForEachCheckpointRecord(const std::function<Status(const wire::CheckpointRecord&)>& emit) const {
  wire::CheckpointRecord record;
  wire::CheckpointHeader* header = record.mutable_header();
  header->set_position(position_);
  header->set_epoch(epoch_);
  header->set_next_inode(namespace_.next_inode());
  header->set_next_chunk_id(next_chunk_id_);
  header->set_inode_count(namespace_.inode_count());
  header->set_entry_count(namespace_.entry_count());
  header->set_chunk_count(registry_.chunks().size());
  header->set_member_count(members_.size());
  header->set_recent_result_count(recent_.size());
  header->mutable_lease_holders()->Add(lease_holders_.begin(), lease_holders_.end());
  header->mutable_delegating_holders()->Add(delegating_holders_.begin(), delegating_holders_.end());
  for (wire::InodesGranted& range : inode_grants_.All()) *header->add_inode_grants() = std::move(range);
  for (wire::ChunksPlaced& placed : placements_.All()) *header->add_placements() = std::move(placed);
  if (Status status = emit(record); !status.ok()) return status;
  for (const auto& [uuid, member] : members_) {
    record.Clear();
    record.mutable_member()->set_chunkserver_uuid(uuid);
    record.mutable_member()->set_address(member.address);
    record.mutable_member()->set_chunkserver_id(member.id);
    record.mutable_member()->set_mode(registry_.Mode(member.id));
    record.mutable_member()->set_public_key(member.public_key);
    if (Status status = emit(record); !status.ok()) return status;
  }
  if (Status status = recent_.ForEach([&](const wire::CheckpointRecentResult& result) {
        record.Clear();
        *record.mutable_recent_result() = result;
        return emit(record);
      });
      !status.ok()) {
    return status;
  }
  // Chunks before inodes: restoring an inode hands its goal to its chunks (see Restore).
  for (const auto& [chunk_id, chunk] : registry_.chunks()) {
    record.Clear();
    record.mutable_chunk()->set_chunk_id(chunk_id);
    record.mutable_chunk()->set_chunk_version(chunk.version);
    record.mutable_chunk()->set_highest_version(chunk.highest_version);
    if (Status status = emit(record); !status.ok()) return status;
  }
  return namespace_.ForEachCheckpointRecord(emit);
}

Status MasterState::Restore(const wire::CheckpointRecord& record) {
  switch (record.item_case()) {
    case wire::CheckpointRecord::kHeader:
      position_ = record.header().position();
      epoch_ = record.header().epoch();
      next_chunk_id_ = record.header().next_chunk_id();
      namespace_.Clear(record.header().next_inode());
      registry_.Clear();
      members_.clear();
      recent_.Clear();
      lease_holders_.assign(record.header().lease_holders().begin(), record.header().lease_holders().end());
      delegating_holders_.assign(record.header().delegating_holders().begin(),
                                 record.header().delegating_holders().end());
      inode_grants_.Clear();
      for (const wire::InodesGranted& range : record.header().inode_grants()) {
        if (range.count() > InodeGrants::kMaxPerGrant) return Status::Error(EBADMSG, "an inode range is too long");
        inode_grants_.Add(range.session(), range.first(), range.count());
      }
      placements_.Clear();
      for (const wire::ChunksPlaced& placed : record.header().placements()) {
        placements_.Add(placed, MonotonicMs() + 2 * options_.lease_ms);
      }
      return Status::Ok();
    case wire::CheckpointRecord::kMember:
      if (!wire::ChunkserverMode_IsValid(record.member().mode())) {
        return Status::Error(EBADMSG, "member " + record.member().chunkserver_uuid() + " has an unknown mode");
      }
      members_[record.member().chunkserver_uuid()] = {record.member().address(), record.member().chunkserver_id(),
                                                      record.member().public_key()};
      registry_.SetMode(record.member().chunkserver_id(), record.member().mode());
      return Status::Ok();
    case wire::CheckpointRecord::kRecentResult:
      recent_.Restore(record.recent_result());
      return Status::Ok();
    case wire::CheckpointRecord::kChunk:
      // --goal stands in until the chunk's file is restored (checkpoints from before goals
      // list chunks last; their inodes get --goal too).
      registry_.AddChunk(record.chunk().chunk_id(), record.chunk().chunk_version(), options_.goal,
                         record.chunk().highest_version());
      return Status::Ok();
    default:
      if (Status status = namespace_.Restore(record); !status.ok()) return status;
      if (record.has_inode()) {
        const auto& chunk_ids = record.inode().chunk_ids();
        registry_.SetGoal(std::span(chunk_ids.data(), chunk_ids.size()),
                          *namespace_.Goal(record.inode().attr().inode()));
      }
      return Status::Ok();
  }
}

}  // namespace hafs::master
