#include "mount/lease_ledger.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace hafs::mount {
namespace {

std::pair<double, double> TimeoutsOf(LeaseLedger& ledger, const LeaseLedger::Ticket& ticket,
                                     const LeaseLedger::Cacheable& what) {
  std::pair<double, double> got;
  ledger.Reply(ticket, [&](const LeaseLedger::Timeouts& timeouts) { got = timeouts(what); });
  return got;
}

TEST(LeaseLedgerTest, TheKernelCachesForWhatIsLeftOfTheLeaseCapped) {
  LeaseLedger ledger(60, 2);
  LeaseLedger::Ticket ticket = ledger.Take();
  auto [entry_s, attr_s] = TimeoutsOf(ledger, ticket, {1, "name", 10000, 5, 10000});
  EXPECT_GT(entry_s, 9.5);
  EXPECT_LE(entry_s, 10.0);
  EXPECT_EQ(attr_s, 2.0) << "capped by --attr-timeout-s";
  EXPECT_EQ(TimeoutsOf(ledger, ticket, {1, "other", 0, 6, 0}), std::make_pair(0.0, 0.0)) << "no lease, no caching";
  ticket.sent_ms -= 20000;
  EXPECT_EQ(TimeoutsOf(ledger, ticket, {1, "late", 10000, 0, 0}).first, 0.0) << "the lease ended on the way";
  EXPECT_EQ(ledger.names(), 1u);
  EXPECT_EQ(ledger.attrs(), 1u);
}

TEST(LeaseLedgerTest, AReplyOverlappingARecallIsNotCached) {
  LeaseLedger ledger(60, 60);
  LeaseLedger::Ticket ticket = ledger.Take();
  bool applied = false;
  ledger.Recall([&] { applied = true; });
  EXPECT_TRUE(applied);
  EXPECT_EQ(TimeoutsOf(ledger, ticket, {1, "name", 10000, 5, 10000}), std::make_pair(0.0, 0.0))
      << "it may carry what the recall dropped";
  EXPECT_GT(TimeoutsOf(ledger, ledger.Take(), {1, "name", 10000, 5, 10000}).first, 0.0);
}

TEST(LeaseLedgerTest, DropAllHandsOverEverythingRecordedAndStopsRepliesInFlight) {
  LeaseLedger ledger(60, 60);
  LeaseLedger::Ticket before = ledger.Take();
  TimeoutsOf(ledger, before, {1, "a", 10000, 5, 10000});
  TimeoutsOf(ledger, before, {2, "", 10000, 0, 0});  // an absent name
  std::vector<std::string> names;
  std::vector<uint64_t> inodes;
  ledger.DropAll([&](uint64_t parent, const std::string& name) { names.push_back(std::to_string(parent) + "/" + name); },
                 [&](uint64_t inode) { inodes.push_back(inode); });
  EXPECT_EQ(names, (std::vector<std::string>{"1/a", "2/"}));
  EXPECT_EQ(inodes, std::vector<uint64_t>{5});
  EXPECT_EQ(ledger.names(), 0u);
  EXPECT_EQ(TimeoutsOf(ledger, before, {1, "a", 10000, 5, 10000}), std::make_pair(0.0, 0.0));
}

TEST(LeaseLedgerTest, DropDirectoryHandsOverThatDirectorysNamesAndAttributesOnly) {
  LeaseLedger ledger(60, 60);
  LeaseLedger::Ticket ticket = ledger.Take();
  TimeoutsOf(ledger, ticket, {7, "a", 10000, 70, 10000});
  TimeoutsOf(ledger, ticket, {7, "b", 10000, 0, 0});
  TimeoutsOf(ledger, ticket, {8, "a", 10000, 7, 10000});  // the directory's own attributes
  std::vector<std::string> names;
  bool attr = false;
  ledger.DropDirectory(7, [&](const std::string& name) { names.push_back(name); }, [&] { attr = true; });
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(attr);
  EXPECT_EQ(ledger.names(), 1u);  // 8's "a" stays
  EXPECT_EQ(ledger.attrs(), 1u);  // 70's stay; 7's went
  EXPECT_EQ(TimeoutsOf(ledger, ticket, {7, "c", 10000, 0, 0}).first, 0.0) << "a reply from before is not cached";
}

}  // namespace
}  // namespace hafs::mount
