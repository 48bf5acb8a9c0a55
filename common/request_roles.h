// Which requests each role's key may make (docs/security.md, "Roles"). A server checks
// this for every request on a CURVE socket, against the authorized keys as they are now,
// so a key revoked by a reload loses its connections' rights at once.
#pragma once

#include "common/curve_keys.h"
#include "common/proto/hafs.pb.h"

namespace hafs::curve {

bool MayAsk(Role role, wire::Envelope::BodyCase request);

}  // namespace hafs::curve
