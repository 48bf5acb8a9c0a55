// The master side of tests/fuzz/master_handlers_fuzz.cc, built with g++ like the master
// library it drives (clang 14 has no std::expected, which the master's headers use): an
// active master and its standby, with files, behind a plain interface.
#include "tests/fuzz/master_handlers.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "master/export_guard.h"
#include "master/lock_table.h"
#include "master/master_state.h"

namespace hafs::fuzz {
namespace {

using master::MasterOptions;
using master::MasterState;

constexpr int64_t kWallClockNs = 1'700'000'000'000'000'000;

struct Pair {
  std::unique_ptr<MasterState> active;
  std::unique_ptr<MasterState> standby;
  int64_t now_ms = 1000;
};

// Handles `request` on the active and replays what it logged on the standby. Locks go to
// the active's lock table, as the service loop sends them (a session for even client ids).
wire::Reply Serve(Pair& pair, const wire::Envelope& request) {
  if (request.has_lock()) {
    static master::LockTable locks(3000, {.locks_per_session = 64, .waiters_per_session = 8, .locks = 256});
    return locks.Handle(request.client_id(), request.client_id() % 2 == 0, request.lock(), pair.active->name_space(),
                        pair.now_ms);
  }
  std::vector<wire::LogRecord> records;
  wire::Reply reply = pair.active->Handle(request, pair.now_ms, kWallClockNs + pair.now_ms * 1'000'000, &records);
  for (const wire::LogRecord& record : records) {
    if (!pair.standby->Apply(record)) std::abort();  // the standby would diverge
  }
  return reply;
}

uint64_t Create(Pair& pair, uint64_t parent, const std::string& name, uint32_t mode) {
  wire::Envelope request;
  if (S_ISDIR(mode)) {
    request.mutable_mkdir()->set_parent(parent);
    request.mutable_mkdir()->set_name(name);
    request.mutable_mkdir()->set_mode(mode);
  } else {
    request.mutable_mknod()->set_parent(parent);
    request.mutable_mknod()->set_name(name);
    request.mutable_mknod()->set_mode(mode);
  }
  return Serve(pair, request).attr().inode();
}

// Three chunkservers, /d, /d/f (two chunks, 100 MiB), /g (empty), /d/link.
Pair& State() {
  static Pair* pair = [] {
    SetLogLevel(LogLevel::kError);
    auto* made = new Pair;
    MasterOptions options;
    options.goal = 3;
    made->active = std::make_unique<MasterState>(options);
    made->standby = std::make_unique<MasterState>(options);
    made->active->set_active(true);
    std::vector<wire::LogRecord> records;
    made->active->StartEpoch(made->now_ms, kWallClockNs, &records);
    for (const wire::LogRecord& record : records) {
      if (!made->standby->Apply(record)) std::abort();
    }
    for (char uuid : {'a', 'b', 'c'}) {
      wire::Envelope request;
      wire::RegisterRequest* body = request.mutable_register_();
      body->set_chunkserver_uuid(std::string(1, uuid));
      body->set_address("127.0.0.1:" + std::to_string(7000 + uuid));
      body->mutable_space()->set_total_bytes(1ull << 40);
      body->mutable_space()->set_free_bytes(1ull << 39);
      body->set_label(std::string("rack=") + uuid);
      Serve(*made, request);
    }
    uint64_t directory = Create(*made, 1, "d", S_IFDIR | 0755);
    uint64_t file = Create(*made, directory, "f", S_IFREG | 0644);
    Create(*made, 1, "g", S_IFREG | 0600);
    for (uint64_t index : {0, 1}) {
      wire::Envelope lease;
      lease.mutable_write_lease()->set_inode(file);
      lease.mutable_write_lease()->set_chunk_index(index);
      Serve(*made, lease);
    }
    wire::Envelope done;
    done.mutable_write_done()->set_inode(file);
    done.mutable_write_done()->set_end_offset(100ull << 20);
    Serve(*made, done);
    wire::Envelope symlink;
    symlink.mutable_symlink()->set_parent(directory);
    symlink.mutable_symlink()->set_name("link");
    symlink.mutable_symlink()->set_target("f");
    Serve(*made, symlink);
    return made;
  }();
  return *pair;
}

// The export a guarded request's client is held to: /d, root squashed, goals 1-3.
master::ExportGuard& Guard() {
  static master::ExportGuard* guard = [] {
    std::string path = (std::filesystem::temp_directory_path() / "hafs-fuzz-exports").string();
    std::ofstream(path) << "fuzzer /d rw,root_squash,goal=1-3\n";
    auto* made = new master::ExportGuard(path);
    if (!made->Load().ok()) std::abort();
    return made;
  }();
  return *guard;
}

}  // namespace

void ServeOnFuzzedMaster(const wire::Envelope& request) {
  Pair& pair = State();
  pair.now_ms += 7;
  // Odd request ids come from a client held to its export, as a client key's requests are.
  if (request.request_id() % 2 == 0) {
    Serve(pair, request);
    return;
  }
  master::ExportClient client{"", "fuzzer", "127.0.0.1"};
  if (request.has_mount()) {
    (void)Guard().Mount(&client, request.mount(), pair.active->name_space());
    return;
  }
  wire::Envelope guarded = request;
  if (Guard().Admit(client, &guarded, pair.active->name_space()).ok()) Serve(pair, guarded);
}

}  // namespace hafs::fuzz
