// What this mount's kernel caches under metadata leases (docs/design.md, "Metadata leases"),
// and for how long: the kernel caches an inode's attributes, and a name (or its absence), for
// the timeout a reply gives it, which is what is left of the master's lease.
//
// Two races are closed here:
// - A reply that left the master before another mount's change, handed to the kernel after
//   that change's recall was applied here, would cache the old value. A recall counts itself
//   before it is applied, and a reply is handed over under a shared guard, cacheable only if
//   no recall came since its request was sent (its Ticket).
// - Recalls can be lost (a bounded queue at the master) and a new active master does not know
//   what an earlier one granted: then everything recorded here is dropped (DropAll).
// Bounded: past kMaxNames names or kMaxAttrs inodes recorded, replies are not cached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace hafs::mount {

class LeaseLedger {
 public:
  static constexpr size_t kMaxNames = size_t{1} << 20;
  static constexpr size_t kMaxAttrs = size_t{1} << 20;

  // Taken before a request is sent: a lease counts from then.
  struct Ticket {
    int64_t sent_ms = 0;
    uint64_t recalls = 0;
  };
  // What a reply lets the kernel cache: the name `name` in `parent` (parent 0: none) for
  // entry_lease_ms, `inode`'s attributes (0: none) for attr_lease_ms.
  struct Cacheable {
    uint64_t parent = 0;
    std::string_view name;
    uint32_t entry_lease_ms = 0;
    uint64_t inode = 0;
    uint32_t attr_lease_ms = 0;
  };

  // entry_cap_s, attr_cap_s: the longest the kernel may cache either (--entry-timeout-s,
  // --attr-timeout-s).
  LeaseLedger(double entry_cap_s, double attr_cap_s) : entry_cap_s_(entry_cap_s), attr_cap_s_(attr_cap_s) {}

  Ticket Take() const;
  // The kernel's timeouts (entry_s, attr_s) for what a reply lets it cache; records it.
  using Timeouts = std::function<std::pair<double, double>(const Cacheable& what)>;
  // Runs `reply`, which hands the kernel its answer with the timeouts it asks for, under the
  // guard.
  void Reply(const Ticket& ticket, const std::function<void(const Timeouts& timeouts)>& reply);
  // Counts a recall, then runs `apply` (outside the guard: it calls into the kernel).
  void Recall(const std::function<void()>& apply);
  // Counts a recall and forgets everything recorded, then hands each name and inode to
  // `name` and `attr` for the kernel to drop.
  void DropAll(const std::function<void(uint64_t parent, const std::string& name)>& name,
               const std::function<void(uint64_t inode)>& attr);

  // Like DropAll for the names recorded in directory `parent` and its own attributes (a
  // write-back delegation given back: what was answered from it).
  void DropDirectory(uint64_t parent, const std::function<void(const std::string& name)>& name,
                     const std::function<void()>& attr);

  size_t names() const;
  size_t attrs() const;

 private:
  // The seconds left of a lease of lease_ms from sent_ms, less a margin for clock rates.
  static double Remaining(int64_t sent_ms, uint32_t lease_ms, int64_t now_ms, double cap_s);
  // Drops ended leases when a table is full (at most once a second).
  void PruneIfFull(int64_t now_ms);

  const double entry_cap_s_;
  const double attr_cap_s_;
  mutable std::shared_mutex guard_;
  uint64_t recalls_ = 0;                  // under guard_, exclusively written
  mutable std::mutex tables_mutex_;       // the tables, under a shared guard_
  std::map<std::pair<uint64_t, std::string>, int64_t> names_;  // -> until (monotonic ms)
  std::unordered_map<uint64_t, int64_t> attrs_;
  int64_t last_prune_ms_ = 0;
};

}  // namespace hafs::mount
