// libFuzzer target over the chunkserver's request handlers, on a chunkserver with chunks
// on disk (tests/fuzz/chunkserver_handlers.cc): what the decoder and CheckRequest let
// through reaches DataService::Handle as a worker passes it. A handler must never crash,
// throw or abort, whatever a peer sends. Built like master_handlers_fuzz.cc (the coverage
// that steers libFuzzer is the decoder's and the checks'); tools/run-fuzz runs it.
#include <cstddef>
#include <cstdint>

#include "common/message_codec.h"
#include "tests/fuzz/chunkserver_handlers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hafs::wire::Envelope request;
  if (!hafs::DecodeEnvelope(data, size, &request).ok()) return 0;
  if (!hafs::CheckRequest(request, request.has_write_chunk() ? 4096 : 0).ok()) return 0;
  hafs::fuzz::ServeOnFuzzedChunkserver(std::move(request));
  return 0;
}
