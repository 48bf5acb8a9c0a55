#include "common/chunkserver_mode.h"

namespace hafs {

std::string ChunkserverModeName(wire::ChunkserverMode mode) {
  switch (mode) {
    case wire::MODE_MAINTENANCE:
      return "maintenance";
    case wire::MODE_DECOMMISSION:
      return "decommission";
    default:
      return "normal";
  }
}

}  // namespace hafs
