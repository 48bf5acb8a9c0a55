// Write-back namespace changes at the mount (docs/design.md, "Write-back namespace changes").
//
// Holding a directory's delegation (the master's promise that no other mount looks into it or
// changes it until this one gives it back), the mount answers lookups of names that are not
// there, creates files, directories and symlinks with inode numbers granted ahead, removes and
// renames what it made there itself, and sets the times and mode and records the writes (WriteDone) of the
// files it made there, all locally, and answers the application at once. A new file's first
// write lease rides at the end of the batch that makes it: one round trip, not two. The changes queue here
// in order and a thread ships them to the active master in batches (ChangeBatchRequest), within
// --metadata-flush-ms, or at once when something needs them there:
// - a durability point: fsync or fsyncdir (Flush), close with --fsync-on-close;
// - any other request to the master (BeforeCall): it goes after every earlier change, and a
//   change in a delegated directory (a rename, a link, a chmod) gives the delegation back
//   first, so the local copy never has to follow the master's own changes;
// - a recall (another mount needs the directory): flushed, the kernel drops what it was told
//   from the delegation, and the delegation goes back;
// - a new active master: everything is shipped to it (it accepts them while this mount has not
//   confirmed the new epoch) before the mount confirms, and no delegation survives it.
// A change the master refuses is logged once and reported by the next fsync or close of its
// file or directory; nothing is dropped silently.
//
// A delegation is used only while it is sure to be valid: until a lease time after the last
// name watch that the master answered without recalling it (the master waits that long for a
// hung holder before it lets another mount in).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/master_client.h"

namespace hafs::mount {

class WriteBack {
 public:
  static constexpr size_t kMaxQueued = 65536;     // changes waiting; past it, creates go synchronous
  static constexpr int kMaxBatch = 128;            // changes per ChangeBatchRequest (the master's bound)
  static constexpr uint32_t kInodesAhead = 1024;   // inode numbers asked for at a time
  static constexpr int64_t kRefusedBackoffMs = 2000;  // a directory refused or recalled: not asked again for so long
  static constexpr size_t kMaxDelegations = 2048;  // held and retired (the master's bound is 4,096)
  static constexpr size_t kMaxRetired = 64;
  static constexpr size_t kMaxMade = 262144;       // inodes made here and known; past it, creates go synchronous
  static constexpr uint32_t kPlacementsAhead = 16;  // chunks placed ahead asked for at a time, per directory

  // What the kernel may be told from local state: `attr`, cacheable for `lease_ms`.
  struct Answer {
    wire::Attr attr;
    uint32_t lease_ms = 0;
  };
  enum class Known { kAsk, kAbsent, kFound };
  // The kernel's view to drop when a delegation goes back: the names answered in a directory
  // and its attributes (LeaseLedger::DropDirectory).
  using DropDirectory = std::function<void(uint64_t dir)>;

  // `enabled` false (--sync-metadata): every change goes to the master before it returns.
  // A wait for the queue to reach the masters ends after ship_timeout_ms (--master-retry-s).
  WriteBack(MasterClient& master, bool enabled, int64_t flush_ms, int64_t ship_timeout_ms,
            DropDirectory drop_directory);
  ~WriteBack() { Stop(); }
  WriteBack(const WriteBack&) = delete;
  WriteBack& operator=(const WriteBack&) = delete;

  void Start();
  // Ships what is queued (for up to the master client's retry time) and stops the thread.
  void Stop();

  // Lookups: kAbsent (answer ENOENT, cacheable for *lease_ms), kFound (a file made here and
  // not yet shipped: *answer), kAsk (ask the master).
  Known Lookup(uint64_t parent, const std::string& name, const wire::Credentials& credentials, Answer* answer);
  // A delegated directory's attributes, or those of an inode made here and not yet shipped.
  std::optional<Answer> GetAttr(uint64_t inode);
  // Creates made locally, or nullopt: send it to the master (no delegation, no permission by
  // the mode bits alone, no inode numbers, ...).
  std::optional<Answer> Mknod(uint64_t parent, const std::string& name, uint32_t mode, uint32_t rdev,
                              const wire::Credentials& credentials, uint64_t open_generation);
  std::optional<Answer> Mkdir(uint64_t parent, const std::string& name, uint32_t mode,
                              const wire::Credentials& credentials);
  std::optional<Answer> Symlink(uint64_t parent, const std::string& name, const std::string& target,
                                const wire::Credentials& credentials);
  // Removes locally what this mount made under the delegation it still holds; false: send it.
  bool Remove(uint64_t parent, const std::string& name, bool directory, const wire::Credentials& credentials);
  // Renames locally what this mount made, between delegated directories, over nothing or over
  // a file it made too (a directory only within its parent); the moved inode's attributes, or
  // nullopt: send it.
  std::optional<Answer> Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
                               const std::string& new_name, uint32_t flags, const wire::Credentials& credentials);

  // An open of a file this mount made, under a valid delegation: its attributes, and the
  // master's hold of the open file (open_generation) queued with the changes; nullopt: ask
  // the master.
  std::optional<wire::Attr> Open(uint64_t inode, uint64_t open_generation);

  // Durability point: returns once every change queued so far is on the masters, with the
  // first refusal of a change to `inode` (a file made, or a directory changed) since the last.
  Status Flush(uint64_t inode);
  // A refusal of a change to `inode` not yet reported (close without --fsync-on-close).
  Status TakeError(uint64_t inode);
  // Ordering, for every master call (MasterClient::BeforeCalls). An answer when the request
  // was handled here instead: a setattr (mode, times) by the owner or a WriteDone of a file
  // made here, applied locally and queued, or a write lease of a file the master does not have
  // yet, sent at the end of the batch that makes it.
  std::optional<Result<wire::Reply>> BeforeCall(const wire::Envelope& request);
  // The name watch sent at sent_ms was answered; `recalled` are the directories to give back.
  void Watched(int64_t sent_ms, uint64_t epoch, const std::vector<uint64_t>& recalled);
  // A new active master: drops every delegation and ships everything queued to it, waiting
  // up to wait_ms; whether all went. The session renewal confirms the new epoch only then (the
  // batches need the session that an unconfirmed renewal opens at the new active).
  bool NewEpoch(int64_t wait_ms);

  size_t queued() const;
  // How long the master may hold a name watch: short enough that its answers renew the
  // delegations well within a lease (a quarter of it, at most 1 s).
  int WatchHoldMs() const;

 private:
  struct Entry {
    uint64_t inode = 0;
    uint32_t mode = 0;
    bool made_here = false;  // by this mount under the delegation: nobody else knows it
  };
  // A chunk placed ahead for a file made in a delegated directory (docs/design.md, "Placements
  // granted ahead"), and what a write lease would have said with it.
  struct Placement {
    wire::ChunkLocation location;  // the chain at version 1, with its write token
    int64_t usable_until_ms = 0;   // monotonic: the master's lease, from when it was asked for
    uint32_t lease_ms = 0;
    uint32_t replication_goal = 0;
    uint32_t min_write_replicas = 0;
  };
  struct Delegation {
    wire::Attr attr;
    std::map<std::string, Entry, std::less<>> entries;  // the complete listing
    int64_t valid_until_ms = 0;
    uint64_t epoch = 0;  // of the master that granted it
    std::deque<Placement> placements;
    bool refilling = false;          // more placements asked for
    int64_t refill_after_ms = 0;     // the master had none lately: not asked again before this
  };
  struct Refill {
    uint64_t dir = 0;
    wire::Credentials credentials;  // the export admits the request as theirs
    uint64_t after = 0;             // asked once the queue is shipped this far (the directory's mkdir)
  };
  struct Pending {
    wire::Envelope change;
    uint64_t inode = 0;  // the inode it makes or removes
    uint64_t dir = 0;
  };
  // An inode made here: known while it has changes queued or its directory's delegation is
  // held (nobody else can know it then).
  struct Made {
    wire::Attr attr;
    int changes = 0;   // queued changes of this inode not yet shipped
    uint64_t dir = 0;  // the delegated directory that holds it; 0 once that is given back
    std::set<uint64_t> leased_chunks;  // indexes written: the master allocated them
  };
  // A request sent at the end of a batch (BeforeCall), answered when the batch is.
  struct Rider {
    wire::Envelope request;
    std::optional<Result<wire::Reply>> answer;
  };

  // The delegation of `dir` while it is sure to be valid; null otherwise.
  Delegation* Valid(uint64_t dir);
  // A valid delegation of `dir` (asked for when there is none and it was not refused lately);
  // null otherwise. `lock` is released while asking.
  Delegation* Delegated(uint64_t dir, const wire::Credentials& credentials, std::unique_lock<std::mutex>& lock);
  // A valid delegation of `parent` where `credentials` may make `name`, with an inode number for
  // it in *inode; null: the create goes to the master.
  Delegation* PlaceFor(uint64_t parent, const std::string& name, const wire::Credentials& credentials,
                       std::unique_lock<std::mutex>& lock, uint64_t* inode);
  // A create, mkdir or symlink made locally: `build` fills in the change for the inode number
  // taken and returns the new inode's attributes; nullopt when it must go to the master.
  using Build = std::function<wire::Attr(Delegation& delegation, uint64_t inode, int64_t now_ns, wire::Envelope* change)>;
  std::optional<Answer> MakeLocally(uint64_t parent, const std::string& name, const wire::Credentials& credentials,
                                    bool directory, const Build& build);
  // Records inode `attr` made as `name` in `parent` (delegated) by `change`, and queues it.
  void RecordMade(Delegation& delegation, uint64_t parent, const std::string& name, const wire::Attr& attr,
            wire::Envelope change, int64_t now_ns);
  // An inode number from the ranges granted (asking for more when they run low); 0: none.
  uint64_t NextInode(std::unique_lock<std::mutex>& lock);
  void Enqueue(wire::Envelope change, uint64_t inode, uint64_t dir, int64_t now_ns);
  // A regular file made here with its only name in a valid delegation: its attributes are this
  // mount's to change. Null otherwise.
  Made* OwnFile(uint64_t inode);
  std::optional<Result<wire::Reply>> SetAttrHere(const wire::Envelope& request);
  std::optional<Result<wire::Reply>> WriteDoneHere(const wire::Envelope& request);
  // A write lease for chunk `index` of a file made here, answered from a chunk placed ahead in
  // its directory, the attach queued behind the file's create; nullopt: none to use.
  std::optional<Result<wire::Reply>> PlacedChunk(const wire::WriteLeaseRequest& lease);
  // Asks the master for the placements of the first directory in refills_ (the lock is
  // released meanwhile).
  void RefillOnce(std::unique_lock<std::mutex>& lock);
  // Sends `request` at the end of the next batch and waits for its answer.
  Result<wire::Reply> Ride(const wire::Envelope& request, std::unique_lock<std::mutex>& lock);
  // Stops using `dir`'s delegation: what was made there is forgotten once it is shipped.
  void EndDelegation(uint64_t dir);
  // Forgets inode `inode` made here once it is shipped (the master changes it: an append, a
  // truncate, an ACL).
  void Forget(uint64_t inode);
  // Ships the queue through `through` (a count of changes ever queued), waiting for it.
  Status ShipThrough(uint64_t through, std::unique_lock<std::mutex>& lock);
  // Flushes everything, then gives `dirs` back: the kernel drops what it was told from them.
  void GiveBack(const std::vector<uint64_t>& dirs);
  void Run();
  // One batch from the front of the queue (with the riders when it holds the rest): how many
  // changes and riders were answered; nullopt when the master could not be reached.
  std::optional<size_t> ShipOnce(std::unique_lock<std::mutex>& lock);
  uint32_t LeaseLeft(const Delegation& delegation, int64_t now_ms) const;

  MasterClient& master_;
  const bool enabled_;
  const int64_t flush_ms_;
  const int64_t ship_timeout_ms_;
  const DropDirectory drop_directory_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the shipping thread
  std::condition_variable shipped_;  // waiters for a flush
  bool stopping_ = false;
  bool flush_now_ = false;
  std::thread thread_;
  int64_t lease_ms_ = 0;  // the master's, from the first grant
  std::unordered_map<uint64_t, Delegation> delegations_;
  // Delegations this mount stopped using (its own change there went to the master) that the
  // master still counts as its own: given back at their recall.
  std::set<uint64_t> retired_;
  std::unordered_map<uint64_t, int64_t> refused_until_ms_;  // directories not to ask for now
  std::deque<std::pair<uint64_t, uint64_t>> inode_ranges_;  // [first, end)
  std::deque<Pending> queue_;
  uint64_t queued_total_ = 0;   // changes ever queued
  uint64_t shipped_total_ = 0;  // ... and answered by the master
  int64_t oldest_queued_ms_ = 0;
  std::unordered_map<uint64_t, Made> made_;
  std::vector<Rider*> riders_;  // waiting in Ride
  std::deque<Refill> refills_;  // directories whose placements run low, for the shipping thread
  std::unordered_map<uint64_t, Status> errors_;  // refusals not yet reported, by inode
};

}  // namespace hafs::mount
