// Helpers shared by the master's tests (header-only, not part of the library).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "master/master_state.h"
#include "master/posix_acl.h"
#include "master/record_file.h"

namespace hafs::master::testing {

// A mkdir request (for a directory's mode) or a mknod request of `name` in `parent`.
inline wire::Envelope CreateRequest(uint64_t parent, const std::string& name, uint32_t mode,
                                    const wire::Credentials& credentials) {
  wire::Envelope request;
  if (S_ISDIR(mode)) {
    request.mutable_mkdir()->set_parent(parent);
    request.mutable_mkdir()->set_name(name);
    request.mutable_mkdir()->set_mode(mode & 07777);
    *request.mutable_mkdir()->mutable_credentials() = credentials;
  } else {
    request.mutable_mknod()->set_parent(parent);
    request.mutable_mknod()->set_name(name);
    request.mutable_mknod()->set_mode(mode);
    *request.mutable_mknod()->mutable_credentials() = credentials;
  }
  return request;
}

// The xattr bytes of a POSIX ACL of `entries` in that order, as setfacl hands them to
// setxattr(2) (posix_acl.h).
inline std::string AclBytes(std::initializer_list<PosixAcl::Entry> entries, uint32_t version = PosixAcl::kVersion) {
  std::string out;
  auto put = [&out](uint32_t value, int width) {
    for (int i = 0; i < width; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  };
  put(version, 4);
  for (const PosixAcl::Entry& entry : entries) {
    put(entry.tag, 2);
    put(entry.perm, 2);
    put(entry.id, 4);
  }
  return out;
}

// A fresh directory under /tmp, removed at the end of the test.
class TempDirectory {
 public:
  TempDirectory() {
    char pattern[] = "/tmp/hafs-master-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDirectory() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The persistent state as a sorted list of serialized checkpoint records, to compare
// two states whatever their hash maps' iteration order.
inline std::vector<std::string> Dump(const MasterState& state) {
  std::vector<std::string> records;
  Status status = state.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
    std::string bytes;
    AppendRecord(record, &bytes);
    records.push_back(std::move(bytes));
    return Status::Ok();
  });
  std::sort(records.begin(), records.end());
  return records;
}

inline wire::Envelope MknodEnvelope(uint64_t parent, const std::string& name) {
  wire::Envelope envelope;
  wire::MknodRequest* mknod = envelope.mutable_mknod();
  mknod->set_parent(parent);
  mknod->set_name(name);
  mknod->set_mode(S_IFREG | 0644);
  return envelope;
}

// A chunkserver's registration; its address and label derive from the uuid.
inline wire::Envelope RegisterEnvelope(const std::string& uuid,
                                       const std::vector<std::pair<uint64_t, uint64_t>>& chunks, uint64_t free_bytes) {
  wire::Envelope envelope;
  wire::RegisterRequest* body = envelope.mutable_register_();
  body->set_chunkserver_uuid(uuid);
  body->set_address("127.0.0.1:" + std::to_string(7000 + uuid[0]));
  body->mutable_space()->set_total_bytes(2 * free_bytes);
  body->mutable_space()->set_free_bytes(free_bytes);
  body->set_label("rack=" + uuid);
  for (auto [chunk_id, version] : chunks) {
    wire::ChunkReport* report = body->add_chunks();
    report->set_chunk_id(chunk_id);
    report->set_chunk_version(version);
  }
  return envelope;
}

inline wire::Envelope HeartbeatEnvelope(uint32_t chunkserver_id, uint64_t free_bytes) {
  wire::Envelope envelope;
  envelope.mutable_heartbeat()->set_chunkserver_id(chunkserver_id);
  envelope.mutable_heartbeat()->mutable_space()->set_free_bytes(free_bytes);
  return envelope;
}

inline wire::Envelope WriteLeaseEnvelope(uint64_t inode, uint64_t chunk_index, const std::vector<uint32_t>& failed) {
  wire::Envelope envelope;
  envelope.mutable_write_lease()->set_inode(inode);
  envelope.mutable_write_lease()->set_chunk_index(chunk_index);
  for (uint32_t id : failed) envelope.mutable_write_lease()->add_failed_chunkservers(id);
  return envelope;
}

inline wire::Envelope GetChunksEnvelope(uint64_t inode, uint64_t first_index, uint32_t count) {
  wire::Envelope envelope;
  envelope.mutable_get_chunks()->set_inode(inode);
  envelope.mutable_get_chunks()->set_first_index(first_index);
  envelope.mutable_get_chunks()->set_count(count);
  return envelope;
}

inline std::set<uint32_t> ChunkserverIds(const wire::ChunkLocation& location) {
  std::set<uint32_t> ids;
  for (const auto& replica : location.replicas()) ids.insert(replica.chunkserver_id());
  return ids;
}

}  // namespace hafs::master::testing
