// An active master (with a hot standby replaying its log) holding three chunkservers,
// directories, files and chunks, for the fuzz target over the master's request handlers.
#pragma once

#include "common/proto/hafs.pb.h"

namespace hafs::fuzz {

// Handles `request` on the active as the service loop would and applies what it logged on
// the standby. Aborts when a record does not apply there (the pair would diverge); a crash
// or an exception that escapes a handler ends the process as well.
void ServeOnFuzzedMaster(const wire::Envelope& request);

}  // namespace hafs::fuzz
