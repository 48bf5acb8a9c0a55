// The master's service loop: one thread owns the MasterState, a ROUTER socket and the
// op log. Each turn drains every request that is ready, applies it in memory, writes
// the batch's log records with one write + fdatasync (group commit), and only then
// sends the batch's replies. Periodic work (stale chunk recovery, checkpoints) runs
// between turns.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "common/status.h"
#include "master/master_state.h"
#include "master/op_log.h"

namespace hafs::master {

struct ServiceOptions {
  std::string listen_address = "127.0.0.1:9420";
  std::string data_directory = "/var/lib/hafs/master";
  std::string port_file;  // empty: none
  MasterOptions master;
  uint64_t checkpoint_every_records = 100000;
  int64_t checkpoint_interval_s = 3600;
};

class MasterService {
 public:
  explicit MasterService(ServiceOptions options);
  ~MasterService();
  MasterService(const MasterService&) = delete;
  MasterService& operator=(const MasterService&) = delete;

  // Locks the data directory, loads the checkpoint, replays the log, starts the next
  // epoch, binds the socket and writes the port file.
  Status Start();
  // Serves until Stop(); an error means the op log could not be written (the state in
  // memory is ahead of the disk, so the process must not go on).
  Status Run();
  // Asks Run to finish its batch and return. Async-signal-safe.
  void Stop() { stop_requested_.store(true); }

  const std::string& bound_address() const { return bound_address_; }
  const MasterState& state() const { return *state_; }

 private:
  Status LockDataDirectory();
  Status WritePortFile();
  // Handles one turn's requests; false when there was nothing to read.
  Status ServeBatch();
  // Group commit of one turn's records; an error means memory is ahead of the disk.
  Status AppendRecords(const std::vector<wire::LogRecord>& records);
  // Every kResolveStaleEveryMs: MasterState::ResolveStaleChunks, its records logged.
  Status MaybeResolveStaleChunks(int64_t now_ms);
  void MaybeCheckpoint(int64_t now_ms);

  ServiceOptions options_;
  std::unique_ptr<MasterState> state_;
  std::unique_ptr<OpLog> log_;
  zmq::socket_t router_;
  std::string bound_address_;
  int lock_fd_ = -1;
  uint64_t records_since_checkpoint_ = 0;
  int64_t last_checkpoint_ms_ = 0;
  int64_t last_stale_check_ms_ = 0;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace hafs::master
