// Notices a chunkserver whose process is gone sooner than its heartbeat timeout. A
// chunkserver silent for two heartbeat intervals gets a TCP connect to its data port; a
// refusal means nothing listens there any more (the process died on a host that is still
// up), so it is down at once and its chunks are re-replicated. A hung process or an
// unreachable host accepts or ignores the connect and still waits out the timeout, as
// does a chunkserver that is only slow: a refused connect is the one sure sign of death.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "master/chunk_registry.h"

namespace hafs::master {

class LivenessProbe {
 public:
  explicit LivenessProbe(int64_t probe_after_ms) : probe_after_ms_(probe_after_ms) {}
  ~LivenessProbe();
  LivenessProbe(const LivenessProbe&) = delete;
  LivenessProbe& operator=(const LivenessProbe&) = delete;

  // Starts a probe of each up chunkserver silent past probe_after_ms (one per silence),
  // and marks down those whose probe was refused. Never blocks.
  void Run(ChunkRegistry& registry, int64_t now_ms);

 private:
  struct Probe {
    int fd = -1;                 // -1: finished
    int64_t heartbeat_ms = -1;   // the silence it probes: the last heartbeat before it
    int64_t started_ms = 0;
  };
  // The connect's outcome: 1 refused, 0 accepted or undecided after a while, -1 pending.
  static int Outcome(const Probe& probe, int64_t now_ms);
  // A non-blocking connect's socket, -1 if none was started, or kRefusedAtOnce.
  static int StartConnect(const std::string& address);
  static void Refused(ChunkRegistry& registry, uint32_t id, const Probe& probe, int64_t now_ms);
  static constexpr int kRefusedAtOnce = -2;

  int64_t probe_after_ms_;
  std::unordered_map<uint32_t, Probe> probes_;  // by chunkserver id
};

}  // namespace hafs::master
