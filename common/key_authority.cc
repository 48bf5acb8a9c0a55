#include "common/key_authority.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs::curve {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";  // fixed by RFC 27
constexpr int kPollMs = 200;                                 // how soon a reload request is seen

std::atomic<bool> g_reload_requested{false};
std::atomic<uint64_t> g_loads{0};
std::mutex g_mutex;
std::shared_ptr<const AuthorizedKeys> g_keys;  // guarded by g_mutex
std::string g_path;

std::shared_ptr<const AuthorizedKeys> CurrentKeys() {
  std::lock_guard lock(g_mutex);
  return g_keys;
}

Status Load() {
  auto keys = AuthorizedKeys::Load(g_path);
  if (!keys) return keys.error();
  size_t count = keys->size();
  {
    std::lock_guard lock(g_mutex);
    g_keys = std::make_shared<const AuthorizedKeys>(std::move(*keys));
  }
  g_loads.fetch_add(1);
  LOG(INFO) << "authorized keys: " << count << " keys from " << g_path;
  return Status::Ok();
}

// One ZAP request: [version][request id][domain][address][identity][mechanism][key].
void Answer(zmq::socket_t& socket, LogRateLimit& refusals) {
  std::vector<zmq::message_t> frames;
  do {
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::none)) return;
    frames.push_back(std::move(frame));
  } while (frames.back().more() && frames.size() < 16);
  auto text = [&](size_t i) { return i < frames.size() ? frames[i].to_string() : std::string(); };
  std::string key = frames.size() == 7 && text(5) == "CURVE" ? Z85OfBinaryKey(text(6)) : std::string();
  auto role = key.empty() ? std::nullopt : KeyAuthority::RoleOf(key);
  if (!role) {
    rpc::LogAtRate(refusals, "refused a connection from " + text(3),
                   Status::Error(EACCES, key.empty() ? "not a CURVE handshake" : "unknown public key " + key));
  }
  std::vector<std::string> reply = {"1.0", text(1), role ? "200" : "400", role ? "OK" : "unknown key",
                                    role ? key : "", ""};
  for (size_t i = 0; i < reply.size(); ++i) {
    zmq::message_t frame(reply[i].data(), reply[i].size());
    socket.send(frame, i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void Serve(zmq::socket_t socket) {
  LogRateLimit refusals(10, 60'000);
  while (true) {
    try {
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(kPollMs));
      if (g_reload_requested.exchange(false)) {
        if (Status loaded = Load(); !loaded.ok()) {
          LOG(ERROR) << "authorized keys not reloaded, the previous list stays: " << loaded.ToString();
        }
      }
      if (item.revents & ZMQ_POLLIN) Answer(socket, refusals);
    } catch (const zmq::error_t& error) {
      LOG(ERROR) << "ZAP handler: " << error.what();
      if (error.num() == ETERM) return;
    }
  }
}

}  // namespace

Status KeyAuthority::Start(const std::string& authorized_keys_path) {
  g_path = authorized_keys_path;
  if (Status loaded = Load(); !loaded.ok()) return loaded;
  try {
    zmq::socket_t socket(rpc::Context(), zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(kZapEndpoint);
    // Lives as long as the process, like the context it serves.
    std::thread(Serve, std::move(socket)).detach();
  } catch (const zmq::error_t& error) {
    return Status::Error(error.num(), std::string("cannot start the ZAP handler: ") + error.what());
  }
  return Status::Ok();
}

void KeyAuthority::RequestReload() { g_reload_requested.store(true); }

std::optional<Role> KeyAuthority::RoleOf(const std::string& public_key) {
  auto keys = CurrentKeys();
  if (!keys) return std::nullopt;
  return keys->RoleOf(public_key);
}

std::string KeyAuthority::NameOf(const std::string& public_key) {
  auto keys = CurrentKeys();
  return keys ? keys->NameOf(public_key) : std::string();
}

uint64_t KeyAuthority::loads() { return g_loads.load(); }

}  // namespace hafs::curve
