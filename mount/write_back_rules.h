// What a mount decides alone about a write-back namespace change (write_back.h): permission
// by a directory's mode bits, the attributes the master will give a new inode, and which
// requests to the master need the queued changes there first. Kept to what the master's
// Namespace does (namespace.cc, namespace_access.cc) for a directory without ACLs.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "common/proto/hafs.pb.h"

namespace hafs::mount {

// Write and search permission in `dir` (a create or removal in it).
bool MayChangeEntries(const wire::Attr& dir, const wire::Credentials& credentials);
// Search permission in `dir` (a lookup).
bool MaySearch(const wire::Attr& dir, const wire::Credentials& credentials);
// Whether `credentials` own `file` or are root: who may set its times and mode.
bool OwnerOrRoot(const wire::Attr& file, const wire::Credentials& credentials);
// The permission bits a chmod to `mode` by the owner or root leaves: the setgid bit goes
// unless root or in the file's group, as AccessCheck::MaySetAttr does.
uint32_t ChmodBits(const wire::Attr& file, uint32_t mode, const wire::Credentials& credentials);
// The attributes Namespace::NewInode gives inode `inode` made with `mode` in `dir`.
wire::Attr NewAttr(uint64_t inode, uint32_t mode, const wire::Attr& dir, const wire::Credentials& credentials,
                   int64_t now_ns);
// A change in `dir` at now_ns: its mtime and ctime.
void Touch(wire::Attr* dir, int64_t now_ns);
// The directories `request` changes (*dirs: a delegated one stops being used locally), and the
// inodes it reads (*inodes).
void Named(const wire::Envelope& request, std::vector<uint64_t>* dirs, std::vector<uint64_t>* inodes);
// The inode whose attributes `request` changes at the master (0: none); one made here is
// then no longer answered for locally.
uint64_t ChangedInode(const wire::Envelope& request);
// Bytes of a file of `size` in the chunks `leased` (st_blocks), as the master's MakeAttr counts.
uint64_t AllocatedBytes(const std::set<uint64_t>& leased, uint64_t size);
// Whether `request` may reach the master before the changes queued here (it changes nothing,
// or is part of the write-back machinery itself); a read of an inode made here still waits.
bool Independent(const wire::Envelope& request);

}  // namespace hafs::mount
