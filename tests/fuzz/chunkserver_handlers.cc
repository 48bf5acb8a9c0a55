// The chunkserver side of tests/fuzz/chunkserver_handlers_fuzz.cc, built with g++ like the
// chunkserver library it drives (clang 14 has no std::expected).
#include "tests/fuzz/chunkserver_handlers.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_state.h"
#include "chunkserver/data_service.h"
#include "chunkserver/leadership_lease.h"
#include "common/log.h"

namespace hafs::fuzz {
namespace {

struct Chunkserver {
  std::string dir;
  std::unique_ptr<ChunkStore> store;
  ChunkserverState state;
  std::unique_ptr<LeadershipLease> lease;
  std::unique_ptr<DataService> service;
};

std::string g_dir;
void RemoveDir() { std::filesystem::remove_all(g_dir); }

zmq::message_t Block() { return zmq::message_t(std::string(4096, 'x')); }

// Chunks 1-3 at version 1 (64 KiB each) and a lease granted at epoch 1.
Chunkserver& State() {
  static Chunkserver* chunkserver = [] {
    SetLogLevel(LogLevel::kError);
    auto* made = new Chunkserver;
    g_dir = (std::filesystem::temp_directory_path() / ("hafs-fuzz-cs-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(g_dir);
    std::atexit(RemoveDir);
    ChunkStoreOptions options;
    options.data_dirs = {g_dir};
    options.reserve_bytes = 0;
    auto store = ChunkStore::Open(options);
    if (!store) std::abort();
    made->store = std::move(*store);
    made->state.set_chunkserver_id(1);
    LeadershipLeaseOptions lease_options;
    lease_options.dir = g_dir;
    lease_options.grace_ms = 0;
    auto lease = LeadershipLease::Open(lease_options, made->state);
    if (!lease) std::abort();
    made->lease = std::move(*lease);
    made->service = std::make_unique<DataService>(*made->store, made->state, DataServiceOptions{}, made->lease.get());
    for (uint64_t chunk_id = 1; chunk_id <= 3; ++chunk_id) {
      for (uint64_t offset = 0; offset < 65536; offset += 4096) {
        wire::Envelope write;
        write.mutable_write_chunk()->set_chunk_id(chunk_id);
        write.mutable_write_chunk()->set_chunk_version(1);
        write.mutable_write_chunk()->set_offset(offset);
        zmq::message_t data = Block();
        bool has_data = true;
        made->service->Handle(write, &data, &has_data);
      }
    }
    return made;
  }();
  return *chunkserver;
}

}  // namespace

void ServeOnFuzzedChunkserver(wire::Envelope request) {
  if (request.has_replicate_chunk()) return;  // all it does is read from `source`
  if (request.has_write_chunk()) request.mutable_write_chunk()->clear_chain();
  if (request.has_truncate_chunk()) request.mutable_truncate_chunk()->clear_chain();
  if (request.has_fallocate_chunk()) request.mutable_fallocate_chunk()->clear_chain();
  zmq::message_t data = request.has_write_chunk() ? Block() : zmq::message_t();
  bool has_data = request.has_write_chunk();
  State().service->Handle(request, &data, &has_data);
}

}  // namespace hafs::fuzz
