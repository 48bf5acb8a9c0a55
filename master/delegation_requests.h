// The requests of write-back namespace changes (docs/design.md, "Write-back namespace
// changes"), between the service loop and DirDelegations: which directories a request needs,
// which changes a mount may ship in a ChangeBatchRequest, and the answer to a
// DelegationRequest.
#pragma once

#include <cstdint>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "master/dir_delegations.h"
#include "master/master_state.h"
#include "master/metadata_leases.h"

namespace hafs::master {

// At most this many changes in one ChangeBatchRequest (half of what RecentResults keeps per
// client, so a batch sent again after a lost reply is answered from there whole), and entries
// in a delegated directory (its listing goes in one reply).
inline constexpr int kMaxBatchChanges = 128;
inline constexpr uint32_t kMaxDelegatedEntries = 4096;

// The directories (and inodes) a namespace request looks into or changes: another session's
// delegation of any of them must end first. Empty for a request that touches none.
std::vector<uint64_t> DirsNamedBy(const wire::Envelope& request, const Namespace& tree);

// The directories a write-back change applies in (a rename: both; a file's setattr or
// WriteDone: the directory of its only name), each of which the batch's session must hold;
// empty for a request that may not travel in a ChangeBatchRequest as one.
std::vector<uint64_t> WriteBackDirs(const wire::Envelope& change, const Namespace& tree);

// Answers `session`'s DelegationRequest: a release, a range of inode numbers (logged in
// *records), and a delegation granted only when nobody else caches the directory (their
// leases end, and the mount asks again later) and the caller may list it.
wire::Reply AnswerDelegation(uint64_t session, const wire::DelegationRequest& request, MasterState& state,
                             DirDelegations& delegations, const MetadataLeases& leases, int64_t now_ms,
                             std::vector<wire::LogRecord>* records);

}  // namespace hafs::master
