// What `hafs sessions` prints, as pure functions of the master's ListSessions reply.
// JSON (one object, one line): {"sessions":[{"id","host","mount_point","subdir","version",
//   "client","address","opened_unix_s","renewed_s_ago"}]}
#pragma once

#include <string>

#include "common/proto/hafs.pb.h"

namespace hafs::cli {

std::string SessionsJson(const wire::Reply& reply);
std::string SessionsText(const wire::Reply& reply);

}  // namespace hafs::cli
