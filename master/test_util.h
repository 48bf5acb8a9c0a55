// Helpers shared by the master's tests (header-only, not part of the library).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "master/master_state.h"
#include "master/record_file.h"

namespace hafs::master::testing {

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

}  // namespace hafs::master::testing
