// HistoryArchive (the etcd replica's history) over real stores: it is fed in revision order, never
// takes an event twice, refuses an append that would leave revisions out, keeps its revision
// with its events across a reopen, and holds one ledger's history only.
#include "store/etcd/etcd_archive.h"

#include <gtest/gtest.h>

#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace netledger::store::etcd {
namespace {

using testing_util::event;
using testing_util::Query;

std::vector<std::uint64_t> seqs(HistoryArchive& a) {
  auto r = a.query(Query().limit(1000));
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  std::vector<std::uint64_t> out;
  if (r.isOk()) {
    for (const auto& e : *r) out.push_back(e.seq);
  }
  return out;
}

std::unique_ptr<ledger::Store> sqlite(const std::string& path) {
  auto s = SqliteStore::open(path);
  EXPECT_TRUE(s.isOk()) << s.status().toString();
  return s.isOk() ? std::unique_ptr<ledger::Store>(std::move(*s)) : nullptr;
}

TEST(HistoryArchiveTest, RevisionsAtOrBelowItsOwnAreLeftOutAndAGapIsRefused) {
  HistoryArchive a(std::make_unique<MemoryStore>());
  NL_ASSERT_OK(a.open("/n/"));
  EXPECT_EQ(a.revision(), 0);
  NL_ASSERT_OK(
      a.append({event(1, 1, "x", "t", {"k"}), event(2, 1, "x", "t", {"k"})}, {5, 7}, 1, 9));
  EXPECT_EQ(a.revision(), 9);
  // The same revisions again (a sync and the feed both bring them) and one new one.
  NL_ASSERT_OK(
      a.append({event(2, 1, "x", "t", {"k"}), event(3, 1, "x", "t", {"k"})}, {7, 10}, 6, 10));
  EXPECT_EQ(seqs(a), (std::vector<std::uint64_t>{1, 2, 3}));
  // Revisions 11 and 12 were never in hand: refused, nothing taken.
  Status gap = a.append({event(4, 1, "x", "t", {"k"})}, {13}, 13, 13);
  EXPECT_EQ(gap.code(), StatusCode::kAborted) << gap.toString();
  EXPECT_EQ(a.revision(), 10);
  EXPECT_EQ(seqs(a), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(HistoryArchiveTest, ItsRevisionAndEventsSurviveAReopenAndItHoldsOneLedgerOnly) {
  testing_util::TempDir dir;
  const std::string path = dir.file("history.db");
  {
    HistoryArchive a(sqlite(path));
    NL_ASSERT_OK(a.open("/n/"));
    NL_ASSERT_OK(a.append({event(1, 1, "x", "t", {"ip:1"})}, {4}, 1, 4));
    NL_ASSERT_OK(a.append({event(2, 1, "x", "t", {"ip:1"})}, {6}, 5, 8));
  }
  HistoryArchive again(sqlite(path));
  NL_ASSERT_OK(again.open("/n/"));
  EXPECT_EQ(again.revision(), 8);
  EXPECT_EQ(seqs(again), (std::vector<std::uint64_t>{1, 2}));
  HistoryArchive other(sqlite(path));
  Status s = other.open("/elsewhere/");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/n/"), std::string::npos) << s.message();
}

TEST(HistoryArchiveTest, ABackfillTakesOnlyOlderEventsItLacksAndResumesAfterAReopen) {
  testing_util::TempDir dir;
  const std::string path = dir.file("history.db");
  {
    HistoryArchive a(sqlite(path));
    NL_ASSERT_OK(a.open("/n/"));
    EXPECT_FALSE(a.backfill().has_value()) << "undecided in a new archive";
    // What etcd's log still held when the archive began: seqs 3 and 6 (3 is older than the cut:
    // its writer's clock was behind).
    NL_ASSERT_OK(a.append({event(3, 90, "x", "t", {"ip:1"}), event(6, 500, "x", "t", {"ip:1"})},
                          {7, 9}, 1, 9));
    NL_ASSERT_OK(a.setBackfill({false, 15, 100, 0}));
    // The peer's first page: 1 (older than the window), 2, 3 (held: left out) and 7 (not older
    // than the cut): not asked for, left out.
    auto added = a.appendBackfill(
        *a.backfill(), {event(1, 10, "x", "t", {"ip:1"}), event(2, 20, "x", "t", {}),
                        event(3, 90, "x", "t", {"ip:1"}), event(7, 100, "x", "t", {"ip:1"})});
    ASSERT_TRUE(added.isOk()) << added.status().toString();
    EXPECT_EQ(*added, 1u);
    EXPECT_EQ(a.backfill()->after_seq, 7u);
    EXPECT_FALSE(a.backfill()->done);
  }
  HistoryArchive again(sqlite(path));
  NL_ASSERT_OK(again.open("/n/"));
  ASSERT_TRUE(again.backfill().has_value());
  EXPECT_EQ(again.backfill()->from, 15);
  EXPECT_EQ(again.backfill()->cut, 100);
  EXPECT_EQ(again.backfill()->after_seq, 7u) << "resumes after its last page";
  // A page that overlaps the last one (a retried request) adds only what is new.
  auto added = again.appendBackfill(*again.backfill(),
                                    {event(2, 20, "x", "t", {}), event(8, 40, "x", "t", {})});
  ASSERT_TRUE(added.isOk());
  EXPECT_EQ(*added, 1u);
  // A page asked for under a back-fill that has moved on since (widened by a sync) is dropped.
  const HistoryArchive::Backfill asked = *again.backfill();
  NL_ASSERT_OK(again.setBackfill({false, 0, 100, 0}));
  auto stale = again.appendBackfill(asked, {event(4, 30, "x", "t", {})});
  ASSERT_TRUE(stale.isOk());
  EXPECT_EQ(*stale, 0u);
  EXPECT_EQ(again.backfill()->after_seq, 0u);
  ASSERT_TRUE(again.appendBackfill(*again.backfill(), {}).isOk());
  EXPECT_TRUE(again.backfill()->done);
  EXPECT_EQ(seqs(again), (std::vector<std::uint64_t>{2, 3, 6, 8}));
  EXPECT_EQ(again.revision(), 9) << "a back-fill leaves the revision alone";
  auto by_key = again.query(Query().key("ip:1").limit(10));
  ASSERT_TRUE(by_key.isOk());
  EXPECT_EQ(by_key->size(), 2u) << "history keys come with the copied events";
  EXPECT_GT(again.revisionTime(), 0) << "when it reached its revision, kept across a reopen";
  auto after_done = again.appendBackfill(*again.backfill(), {event(9, 1, "x", "t", {})});
  ASSERT_TRUE(after_done.isOk());
  EXPECT_EQ(*after_done, 0u) << "done: nothing more is taken";
  EXPECT_EQ(seqs(again), (std::vector<std::uint64_t>{2, 3, 6, 8}));
}

}  // namespace
}  // namespace netledger::store::etcd
