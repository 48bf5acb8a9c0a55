// Which cached metadata a request changes, and which its own mount may cache: the two sides
// of metadata leases (metadata_leases.h, docs/design.md "Metadata leases"), by request type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "master/metadata_leases.h"

namespace hafs::master {

class Namespace;

// What other mounts may cache that a change makes wrong: an inode's attributes (kAttr), or
// the name `name` in directory `inode` (kEntries).
struct CachedMetadata {
  uint64_t inode = 0;
  MetadataLeases::Kind kind = MetadataLeases::Kind::kAttr;
  std::string name;
};

// What `request` changes if it succeeds; empty for a request that changes nothing cached.
// Taken before it is applied: an unlink or a rename names the inode it drops or replaces.
std::vector<CachedMetadata> ChangedBy(const wire::Envelope& request, const Namespace& tree);

// Grants `session` the leases on what `reply` (a success) lets its kernel cache, and says
// how long in reply's attr_lease_ms and entry_lease_ms.
void GrantLeases(uint64_t session, const wire::Envelope& request, int64_t now_ms, MetadataLeases& leases,
                 wire::Reply* reply);

}  // namespace hafs::master
