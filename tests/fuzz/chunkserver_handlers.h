// A chunkserver with chunks on disk (in a temporary directory, removed at exit), for the
// fuzz target over the chunkserver's request handlers.
#pragma once

#include "common/proto/hafs.pb.h"

namespace hafs::fuzz {

// Handles `request` as a data service worker would (DataService::Handle), with a 4 KiB data
// frame when it is a write. Requests that would connect out (a chain to forward to, a
// copy's source) have that part removed: a fuzzer sends nothing off this machine.
void ServeOnFuzzedChunkserver(wire::Envelope request);

}  // namespace hafs::fuzz
