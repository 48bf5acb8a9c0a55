// Small writes held in the mount until the file's next durability or visibility point.
//
// Each write that reaches a replica costs a trip down the chain of three chunkservers (about
// 1.5 ms here), and programs write small pieces: tar a 10 KiB record at a time, sqlite a
// journal in pieces of 4 to 4,096 bytes. So a write below the limits is kept here, merged
// with its neighbours, and goes out as one write per contiguous extent when the file is
// closed (flush), fsynced, locked or unlocked, truncated, appended to or read where it was
// written; and when its file's buffer is full. A close still returns only when its bytes are
// on every replica (docs/design.md, "Small writes").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hafs::mount {

class WriteBuffer {
 public:
  struct Extent {
    uint64_t offset = 0;
    std::string data;
  };

  // Keeps `data` at `offset`, over whatever was kept there before; touching or overlapping
  // extents become one.
  void Add(uint64_t offset, std::string_view data);
  // Whether a byte of [offset, offset + length) is kept here.
  bool Overlaps(uint64_t offset, uint64_t length) const;
  // Everything kept, in file order, leaving the buffer empty.
  std::vector<Extent> Take();
  uint64_t bytes() const { return bytes_; }
  bool empty() const { return extents_.empty(); }

 private:
  std::map<uint64_t, std::string> extents_;  // by offset; never touching one another
  uint64_t bytes_ = 0;
};

}  // namespace hafs::mount
