// Asks the active master of a cluster: sends the request to every master at once and
// takes the first real answer. A master that does not answer, or answers that it is not
// the active one (ENOTCONN / "not active", as a standby does), is skipped; when that
// answer names the active (Reply.active_address) and it was not asked yet, it is asked too.
// Only the active acts on a request, so asking all is safe for changes too. A standby that
// hears no active answers cluster status itself (its masters(0).role is not "active"):
// that answer is taken only when no active answers.
#pragma once

#include <string>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::cli {

struct MasterAnswer {
  std::string address;  // the master that answered
  wire::Envelope envelope;
};

// True when `reply` says "ask another master" rather than reporting a real failure.
bool IsNotActiveReply(const wire::Reply& reply);

// Waits up to timeout_ms for each master asked. A reply with any other error ends the
// search with that error (e.g. ENOENT for an unknown inode).
Result<MasterAnswer> AskActiveMaster(const std::vector<std::string>& masters, const wire::Envelope& request,
                                     int timeout_ms);

}  // namespace hafs::cli
