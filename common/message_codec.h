// Decoding and checking of peer messages before any handler sees them. This is the one
// place where bytes from the network become a trusted request: the protobuf parse
// rejects malformed bytes, CheckRequest rejects well-formed messages whose fields are
// out of range (names with '/', chunk offsets past 64 MiB, ...). The libFuzzer target
// tests/fuzz/message_codec_fuzz.cc runs over both.
#pragma once

#include <cstddef>
#include <string>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

// Parses one envelope frame. EBADMSG when the bytes are not an Envelope.
Status DecodeEnvelope(const void* data, size_t size, wire::Envelope* envelope);

// Checks the fields of a request envelope: EINVAL (with the reason) when a field is out
// of range, ENAMETOOLONG for names over 255 bytes, EBADMSG when there is no body.
// `data_size` is the size of the bulk data frame (0 when there is none).
Status CheckRequest(const wire::Envelope& envelope, size_t data_size);

// The name of a message's body field ("get_attr", "write_chunk"): the op label of request
// metrics, one of a fixed set; "none" when there is no body.
const std::string& RequestName(const wire::Envelope& envelope);

}  // namespace hafs
