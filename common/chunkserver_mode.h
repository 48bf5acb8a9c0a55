// The names of chunkserver modes (wire::ChunkserverMode) as logs, errors and the admin
// tool's reports say them: "normal", "maintenance", "decommission". What the modes mean:
// master/chunkserver_modes.h.
#pragma once

#include <string>

#include "common/proto/hafs.pb.h"

namespace hafs {

std::string ChunkserverModeName(wire::ChunkserverMode mode);

}  // namespace hafs
