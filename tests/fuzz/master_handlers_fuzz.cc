// libFuzzer target over the master's request handlers, on a state with files: what the
// decoder and CheckRequest let through reaches MasterState::Handle exactly as the service
// loop passes it (tests/fuzz/master_handlers.cc), on an active master with three
// chunkservers, directories, files and chunks. A handler must never crash, throw or
// abort, whatever a peer sends; and every record it logs must apply on the standby.
//
// This file and the decoder are built with clang and -fsanitize=fuzzer, so the coverage
// that steers libFuzzer is the decoder's and the checks': it explores the shapes of
// requests, which the master library (built by g++, uninstrumented) then handles.
// tools/run-fuzz builds and runs it.
#include <cstddef>
#include <cstdint>

#include "common/message_codec.h"
#include "tests/fuzz/master_handlers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hafs::wire::Envelope request;
  if (!hafs::DecodeEnvelope(data, size, &request).ok()) return 0;
  if (!hafs::CheckRequest(request, 0).ok()) return 0;
  // What only the other master sends is answered by the service loop, not MasterState.
  if (request.has_master_hello() || request.has_append_log() || request.has_fetch_checkpoint()) return 0;
  hafs::fuzz::ServeOnFuzzedMaster(request);
  return 0;
}
