// libFuzzer target over the message decoder every daemon runs on a peer's bytes:
// the first input byte splits the rest into an envelope frame and a data frame.
// Decoding and checking must never crash, whatever the bytes; a message that passes
// both must survive a serialize/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/message_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t envelope_size = data[0] % size;
  const uint8_t* envelope_bytes = data + 1;
  size_t data_frame_size = size - 1 - envelope_size;

  hafs::wire::Envelope envelope;
  if (!hafs::DecodeEnvelope(envelope_bytes, envelope_size, &envelope).ok()) return 0;
  if (!hafs::CheckRequest(envelope, data_frame_size).ok()) return 0;

  std::string bytes = envelope.SerializeAsString();
  hafs::wire::Envelope again;
  if (!hafs::DecodeEnvelope(bytes.data(), bytes.size(), &again).ok()) std::abort();
  if (again.SerializeAsString() != bytes) std::abort();
  return 0;
}
