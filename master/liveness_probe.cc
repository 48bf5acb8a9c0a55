#include "master/liveness_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"

namespace hafs::master {
namespace {

// A probe that neither connects nor is refused within this long proves nothing.
constexpr int64_t kProbeTimeoutMs = 1000;

}  // namespace

LivenessProbe::~LivenessProbe() {
  for (auto& [id, probe] : probes_) {
    if (probe.fd >= 0) close(probe.fd);
  }
}

// Numeric IPv4 "a.b.c.d:port" only: resolving a name could block the master's loop, and a
// chunkserver known by name simply waits out its heartbeat timeout.
int LivenessProbe::StartConnect(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in target{};
  target.sin_family = AF_INET;
  int port = std::atoi(address.c_str() + colon + 1);
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, address.substr(0, colon).c_str(), &target.sin_addr) != 1) {
    return -1;
  }
  target.sin_port = htons(static_cast<uint16_t>(port));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0 || errno == EINPROGRESS) return fd;
  int error = errno;
  close(fd);
  return error == ECONNREFUSED ? kRefusedAtOnce : -1;  // on loopback the answer may be immediate
}

int LivenessProbe::Outcome(const Probe& probe, int64_t now_ms) {
  pollfd ready{probe.fd, POLLOUT, 0};
  if (poll(&ready, 1, 0) <= 0) return now_ms - probe.started_ms >= kProbeTimeoutMs ? 0 : -1;
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(probe.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return 0;
  return error == ECONNREFUSED ? 1 : 0;
}

void LivenessProbe::Refused(ChunkRegistry& registry, uint32_t id, const Probe& probe, int64_t now_ms) {
  if (!registry.MarkRefused(id, probe.heartbeat_ms, now_ms)) return;
  LOG(WARNING) << "chunkserver " << id << " (" << registry.FindChunkserver(id)->address
               << ") refused a connection after " << now_ms - probe.heartbeat_ms
               << " ms without a heartbeat: its process is gone, marking it down";
}

void LivenessProbe::Run(ChunkRegistry& registry, int64_t now_ms) {
  for (const auto& [id, chunkserver] : registry.chunkservers()) {
    Probe& probe = probes_[id];
    if (probe.fd >= 0) {
      int outcome = Outcome(probe, now_ms);
      if (outcome < 0) continue;
      close(probe.fd);
      probe.fd = -1;
      if (outcome == 1) Refused(registry, id, probe, now_ms);
      continue;
    }
    bool silent = now_ms - chunkserver.last_heartbeat_ms >= probe_after_ms_;
    if (!silent || probe.heartbeat_ms == chunkserver.last_heartbeat_ms || !registry.IsUp(chunkserver, now_ms)) continue;
    probe.heartbeat_ms = chunkserver.last_heartbeat_ms;  // one probe per silence
    probe.started_ms = now_ms;
    probe.fd = StartConnect(chunkserver.address);
    if (probe.fd == kRefusedAtOnce) {
      probe.fd = -1;
      Refused(registry, id, probe, now_ms);
    }
  }
}

}  // namespace hafs::master
