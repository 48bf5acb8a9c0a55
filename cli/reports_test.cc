#include "cli/reports.h"

#include <gtest/gtest.h>

#include "cli/text_table.h"

namespace hafs::cli {
namespace {

constexpr int64_t kNowNs = 1'000'000'000'000;

wire::Reply SampleClusterStatus() {
  wire::Reply reply;
  wire::MasterInfo* master = reply.add_masters();
  master->set_address("127.0.0.1:9000");
  master->set_role("active");
  master->set_epoch(3);
  master->set_log_position(42);
  for (uint32_t id : {1u, 2u}) {
    wire::ChunkserverInfo* info = reply.add_chunkservers();
    info->set_chunkserver_id(id);
    info->set_address("127.0.0.1:910" + std::to_string(id));
    info->set_label(id == 1 ? "rack=\"r1\"" : "");
    info->set_state(id == 1 ? "up" : "down");
    info->set_chunk_count(10 * id);
    info->mutable_space()->set_total_bytes(1000 * id);
    info->mutable_space()->set_free_bytes(600 * id);
    info->mutable_space()->set_used_bytes(400 * id);
    info->set_last_heartbeat_ns(id == 1 ? kNowNs - 1'500'000'000 : 0);
    info->set_requests_in_flight(id);
  }
  reply.set_chunks_healthy(7);
  reply.set_chunks_under_replicated(2);
  reply.set_chunks_corrupt(3);
  reply.set_chunks_missing(1);
  reply.set_chunks_being_copied(1);
  reply.set_bytes_to_copy(128ull << 20);
  reply.add_recent_repairs("copied chunk 9");
  return reply;
}

TEST(ReportsTest, FileInfoJson) {
  wire::Reply reply;
  wire::ChunkInfo* chunk = reply.add_chunks();
  chunk->set_chunk_index(0);
  chunk->set_chunk_id(0x1f);
  chunk->set_chunk_version(5);
  chunk->set_lease_ms_left(1500);
  wire::ReplicaInfo* replica = chunk->add_replicas();
  replica->set_chunkserver_id(2);
  replica->set_address("127.0.0.1:9102");
  replica->set_state("valid");
  reply.add_chunks()->set_chunk_index(1);  // a hole: no id, no replicas
  reply.set_goal(2);
  EXPECT_EQ(
      FileInfoJson(reply),
      R"({"chunks":[{"index":0,"id":31,"version":5,"lease_ms_left":1500,"replicas":[{"chunkserver":2,"address":"127.0.0.1:9102","state":"valid"}]},)"
      R"({"index":1,"id":0,"version":0,"lease_ms_left":0,"replicas":[]}],"goal":2})"
      "\n");
  EXPECT_EQ(FileInfoJson(wire::Reply()), "{\"chunks\":[],\"goal\":0}\n");
  std::string text = FileInfoText(reply, "/mnt/f", 12);
  EXPECT_NE(text.find("inode 12, 2 chunks, goal 2"), std::string::npos) << text;
  EXPECT_NE(text.find("id 000000000000001f, version 5"), std::string::npos) << text;
  EXPECT_NE(text.find("chunkserver 2  127.0.0.1:9102  valid"), std::string::npos) << text;
}

TEST(ReportsTest, ChunkserversJsonEscapesLabelsAndAgesHeartbeats) {
  EXPECT_EQ(ChunkserversJson(SampleClusterStatus(), kNowNs),
            R"({"chunkservers":[)"
            R"({"id":1,"address":"127.0.0.1:9101","label":"rack=\"r1\"","state":"up","chunks":10,"used_bytes":400,)"
            R"("free_bytes":600,"total_bytes":1000,"last_heartbeat_age_s":1.5,"requests_in_flight":1,)"
            R"("mode":"normal","replicas":0,"drained":false},)"
            R"({"id":2,"address":"127.0.0.1:9102","label":"","state":"down","chunks":20,"used_bytes":800,)"
            R"("free_bytes":1200,"total_bytes":2000,"last_heartbeat_age_s":null,"requests_in_flight":2,)"
            R"("mode":"normal","replicas":0,"drained":false}]})"
            "\n");
}

TEST(ReportsTest, ChunkserversTextIsATable) {
  std::string text = ChunkserversText(SampleClusterStatus(), kNowNs);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "ID  ADDRESS         LABEL      STATE  CHUNKS  USED   FREE     HEARTBEAT  MODE");
  EXPECT_NE(text.find("1.5s ago"), std::string::npos) << text;
  EXPECT_NE(text.find("never"), std::string::npos) << text;
  EXPECT_EQ(ChunkserversText(wire::Reply(), kNowNs), "no chunkservers registered\n");
}

TEST(ReportsTest, StatusCountsOnlyLiveChunkserversSpace) {
  EXPECT_EQ(StatusJson(SampleClusterStatus(), "127.0.0.1:9000"),
            R"({"answered_by":"127.0.0.1:9000",)"
            R"("masters":[{"address":"127.0.0.1:9000","role":"active","epoch":3,"log_position":42,)"
            R"("sync":"","lag_records":0,"reachable":true}],"degraded":false,)"
            R"("chunkservers":{"up":1,"down":1,"total":2,"maintenance":0,"decommissioning":0},"modes":[],)"
            R"("chunks":{"healthy":7,"under_replicated":2,"corrupt":3,"over_replicated":0,"missing":1},)"
            R"("repair":{"being_copied":1,"being_moved":0,"bytes_to_copy":134217728,"recent":["copied chunk 9"]},)"
            R"("space":{"total_bytes":1000,"free_bytes":600,"used_bytes":400},)"
            R"("files":{"inodes":0,"open_unlinked":0}})"
            "\n");
  std::string text = StatusText(SampleClusterStatus(), "127.0.0.1:9000");
  EXPECT_NE(text.find("chunkservers: 1 up, 1 down, 2 total"), std::string::npos) << text;
  EXPECT_NE(
      text.find("chunks: 7 healthy, 2 under-replicated, 3 corrupt (a replica found bad), 0 over-replicated, 1 missing"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("self-healing: 1 chunks being copied, 128 MiB left to copy\n  copied chunk 9"), std::string::npos)
      << text;
}

// Chunkserver 1 in maintenance (down), 2 decommissioning with `left` chunks on its list
// and on its disks.
wire::Reply WithModes(uint64_t left) {
  wire::Reply reply = SampleClusterStatus();
  reply.mutable_chunkservers(0)->set_mode(wire::MODE_MAINTENANCE);
  reply.mutable_chunkservers(0)->set_state("down");
  reply.mutable_chunkservers(1)->set_mode(wire::MODE_DECOMMISSION);
  reply.mutable_chunkservers(1)->set_state("up");
  reply.mutable_chunkservers(1)->set_replica_count(left);
  reply.mutable_chunkservers(1)->set_chunk_count(left);
  reply.set_chunks_being_copied(3);
  reply.set_chunks_being_moved(2);
  return reply;
}

TEST(ReportsTest, ModesAndDecommissionProgress) {
  std::string json = StatusJson(WithModes(5), "127.0.0.1:9000");
  EXPECT_NE(
      json.find(
          R"("maintenance":1,"decommissioning":1},"modes":[)"
          R"({"id":1,"address":"127.0.0.1:9101","state":"down","mode":"maintenance","replicas":0,"drained":false},)"
          R"({"id":2,"address":"127.0.0.1:9102","state":"up","mode":"decommission","replicas":5,"drained":false}])"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("being_copied":3,"being_moved":2)"), std::string::npos) << json;
  std::string text = StatusText(WithModes(5), "127.0.0.1:9000");
  EXPECT_NE(text.find("  chunkserver 1 (127.0.0.1:9101, down): maintenance\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  chunkserver 2 (127.0.0.1:9102, up): decommissioning, 5 chunks left\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("3 chunks being copied (2 of them to rebalance)"), std::string::npos) << text;

  wire::Reply drained = WithModes(0);
  EXPECT_TRUE(Drained(drained.chunkservers(1)));
  EXPECT_FALSE(Drained(SampleClusterStatus().chunkservers(0))) << "only a decommissioned chunkserver is drained";
  EXPECT_NE(ChunkserversJson(drained, kNowNs).find(R"("mode":"decommission","replicas":0,"drained":true)"),
            std::string::npos);
  std::string table = ChunkserversText(drained, kNowNs);
  EXPECT_NE(table.find("decommissioned: empty, it can be removed"), std::string::npos) << table;
  EXPECT_NE(table.find("1.5s ago   maintenance"), std::string::npos) << table;
  EXPECT_EQ(ChunkserverModeText(drained),
            "chunkserver 1 (127.0.0.1:9101, down): maintenance\n"
            "chunkserver 2 (127.0.0.1:9102, up): decommissioned: empty, it can be removed\n");
}

wire::Reply TwoMasters(const std::string& standby_sync, bool standby_reachable) {
  wire::Reply reply = SampleClusterStatus();
  wire::MasterInfo* standby = reply.add_masters();
  standby->set_address("127.0.0.1:9001");
  standby->set_role("standby");
  standby->set_epoch(3);
  standby->set_log_position(40);
  standby->set_sync(standby_sync);
  standby->set_lag_records(2);
  standby->set_reachable(standby_reachable);
  return reply;
}

TEST(ReportsTest, StatusShowsEveryMasterWithSyncAndLag) {
  wire::Reply reply = TwoMasters("in sync", true);
  std::string json = StatusJson(reply, "127.0.0.1:9000");
  EXPECT_NE(json.find(R"({"address":"127.0.0.1:9001","role":"standby","epoch":3,"log_position":40,)"
                      R"("sync":"in sync","lag_records":2,"reachable":true})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("degraded":false)"), std::string::npos) << json;
  std::string text = StatusText(reply, "127.0.0.1:9000");
  EXPECT_NE(text.find("ROLE     EPOCH  LOG POSITION  SYNC     LAG"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1:9001  standby  3      40            in sync  2"), std::string::npos) << text;
  EXPECT_EQ(text.find("degraded"), std::string::npos) << text;
}

TEST(ReportsTest, ActiveWithoutAnInSyncStandbyIsDegraded) {
  for (const char* sync : {"out of sync", "catching up"}) {
    wire::Reply reply = TwoMasters(sync, false);
    EXPECT_TRUE(Degraded(reply)) << sync;
    EXPECT_NE(StatusJson(reply, "127.0.0.1:9000").find(R"("degraded":true)"), std::string::npos);
    std::string text = StatusText(reply, "127.0.0.1:9000");
    EXPECT_NE(text.find("degraded:"), std::string::npos) << text;
    EXPECT_NE(text.find("standby (unreachable)"), std::string::npos) << text;
  }
  EXPECT_FALSE(Degraded(SampleClusterStatus()));  // one master: nothing to be degraded from
}

TEST(TextTableTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(300ULL << 20), "300 MiB");
  EXPECT_EQ(HumanBytes(~0ULL), "16 EiB");
}

TEST(TextTableTest, PadsColumnsWithoutTrailingSpaces) {
  EXPECT_EQ(FormatTable({{"A", "BB"}, {"CCC", "D"}}), "A    BB\nCCC  D\n");
}

}  // namespace
}  // namespace hafs::cli
