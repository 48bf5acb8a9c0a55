// What a mount decides alone about a write-back namespace change (write_back.h): permission
// by a directory's mode bits, the attributes the master will give a new inode, and which
// requests to the master need the queued changes there first. Kept to what the master's
// Namespace does (namespace.cc, namespace_access.cc) for a directory without ACLs.
#pragma once

#include <cstdint>
#include <vector>

#include "common/proto/hafs.pb.h"

namespace hafs::mount {

// Write and search permission in `dir` (a create or removal in it).
bool MayChangeEntries(const wire::Attr& dir, const wire::Credentials& credentials);
// Search permission in `dir` (a lookup).
bool MaySearch(const wire::Attr& dir, const wire::Credentials& credentials);
// The attributes Namespace::NewInode gives inode `inode` made with `mode` in `dir`.
wire::Attr NewAttr(uint64_t inode, uint32_t mode, const wire::Attr& dir, const wire::Credentials& credentials,
                   int64_t now_ns);
// A change in `dir` at now_ns: its mtime and ctime.
void Touch(wire::Attr* dir, int64_t now_ns);
// The directories `request` changes (*dirs: a delegated one stops being used locally), and the
// inodes it reads (*inodes).
void Named(const wire::Envelope& request, std::vector<uint64_t>* dirs, std::vector<uint64_t>* inodes);
// Whether `request` may reach the master before the changes queued here (it changes nothing,
// or is part of the write-back machinery itself); a read of an inode made here still waits.
bool Independent(const wire::Envelope& request);

}  // namespace hafs::mount
