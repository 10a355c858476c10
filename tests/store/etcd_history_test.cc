// The etcd store's history against a real etcd member: history is answered from each replica's
// archive (fed by the watch, read-your-writes for its own batches), etcd holds each event once,
// and the archive keeps what etcd's bounded log has pruned.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ledger/store.h"
#include "store/etcd/etcd_client.h"
#include "store/etcd/etcd_store.h"
#include "store/register.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"
#include "testing/etcd_cluster.h"

namespace netledger::store {
namespace {

using namespace std::chrono_literals;
using testing_util::event;
using testing_util::Query;

ledger::Millis nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::uint64_t> seqs(const Result<std::vector<ledger::EventRecord>>& r) {
  std::vector<std::uint64_t> out;
  EXPECT_TRUE(r.isOk()) << r.status().toString();
  if (r.isOk()) {
    for (const auto& e : *r) out.push_back(e.seq);
  }
  return out;
}

class EtcdHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinStores();
    ASSERT_TRUE(cluster_.start()) << cluster_.error();
  }
  // A replica with its archive at `history` (memory when empty).
  std::unique_ptr<ledger::Store> open(const std::string& history, const std::string& more = "") {
    std::string url = cluster_.url("hist");
    std::string options = history.empty() ? "" : "history=" + history;
    if (!more.empty()) options += (options.empty() ? "" : "&") + more;
    if (!options.empty()) url += "?" + options;
    auto s = ledger::openStore(url);
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    if (!s.isOk()) return nullptr;
    EXPECT_TRUE((*s)->load().isOk());
    return std::move(*s);
  }
  std::size_t keysUnder(const std::string& section) {
    auto target = etcd::parseEtcdUrl("etcd", "//" + cluster_.endpoints());
    auto client = etcd::EtcdClient::connect(*target, {});
    if (!client) return 999;
    auto r = (*client)->range("/hist/" + section, etcd::prefixEnd("/hist/" + section));
    return r.isOk() ? r->kvs.size() : 999;
  }
  Status putRaw(const std::vector<std::string>& keys) {
    auto target = etcd::parseEtcdUrl("etcd", "//" + cluster_.endpoints());
    auto client = etcd::EtcdClient::connect(*target, {});
    if (!client) return client.status();
    std::vector<etcd::TxnOp> ops;
    for (const auto& k : keys) ops.push_back({false, k, "x"});
    return (*client)->txn({}, ops).status();
  }

  testing_etcd::EtcdTestCluster cluster_{1};
  testing_util::TempDir dir_;
};

TEST_F(EtcdHistoryTest, OwnEventsAnswerAtOnceAndAnotherReplicasArriveWithTheFeed) {
  auto a = open(dir_.file("a.db"));
  auto b = open(dir_.file("b.db"));
  ASSERT_TRUE(a && b);
  NL_ASSERT_OK(a->follow([](std::vector<ledger::Write>&&) { return Status::ok(); }));
  NL_ASSERT_OK(b->follow([](std::vector<ledger::Write>&&) { return Status::ok(); }));
  for (std::uint64_t i = 1; i <= 20; ++i) {
    auto& writer = i % 2 ? a : b;
    NL_ASSERT_OK(writer->apply({ledger::AppendEvent{event(i, 1000 + i, "x", "t", {"ip:1"})}}));
    // The writer's own batch, right away (no waiting in the test: the store waits).
    auto own = seqs(writer->queryEvents(Query().key("ip:1").limit(100)));
    ASSERT_FALSE(own.empty());
    EXPECT_EQ(own.back(), i);
  }
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (seqs(a->queryEvents(Query().key("ip:1").limit(100))).size() < 20 ||
         seqs(b->queryEvents(Query().key("ip:1").limit(100))).size() < 20) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the feed did not bring them";
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(seqs(a->queryEvents(Query().limit(100))), seqs(b->queryEvents(Query().limit(100))));
  EXPECT_EQ(keysUnder("hk/"), 0u) << "an event is kept once in etcd, not under each key";
  a->stopFollowing();
  b->stopFollowing();
}

TEST_F(EtcdHistoryTest, TheArchiveKeepsWhatEtcdsBoundedLogPruned) {
  const ledger::Millis now = nowMillis();
  const ledger::Millis old = now - 3 * 3'600'000;  // older than log-hours=1, within retention
  {
    auto a = open(dir_.file("a.db"), "log-hours=1");
    ASSERT_TRUE(a);
    NL_ASSERT_OK(a->apply({ledger::AppendEvent{event(1, old, "x", "t", {"mac:m"})},
                           ledger::AppendEvent{event(2, now, "x", "t", {"mac:m"})}}));
    auto pruned = a->pruneEvents(now - 180LL * 86'400'000);  // retention: nothing goes
    ASSERT_TRUE(pruned.isOk()) << pruned.status().toString();
    EXPECT_EQ(*pruned, 0u);
    EXPECT_EQ(keysUnder("ev/"), 1u) << "etcd keeps the last hour only";
    EXPECT_EQ(seqs(a->queryEvents(Query().key("mac:m"))), (std::vector<std::uint64_t>{1, 2}));
    auto recent = a->eventsAfter(0, 10);  // the global order is etcd's log
    EXPECT_EQ(seqs(recent), (std::vector<std::uint64_t>{2}));
  }
  // The same replica again: its archive on disk still answers; a new one has the log only.
  auto again = open(dir_.file("a.db"));
  ASSERT_TRUE(again);
  EXPECT_EQ(seqs(again->queryEvents(Query().key("mac:m"))), (std::vector<std::uint64_t>{1, 2}));
  auto fresh = open(dir_.file("fresh.db"));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(seqs(fresh->queryEvents(Query().key("mac:m"))), (std::vector<std::uint64_t>{2}));
  // Retention reaches the archive too.
  auto pruned = again->pruneEvents(old + 1);
  ASSERT_TRUE(pruned.isOk());
  EXPECT_EQ(*pruned, 1u);
  EXPECT_EQ(seqs(again->queryEvents(Query().key("mac:m"))), (std::vector<std::uint64_t>{2}));
}

TEST_F(EtcdHistoryTest, AReplicaStartedAfterThePruneCopiesTheOlderHistoryFromAPeer) {
  const ledger::Millis now = nowMillis();
  const ledger::Millis old = now - 3 * 3'600'000;
  auto a = open(dir_.file("a.db"), "log-hours=1");
  ASSERT_TRUE(a);
  std::vector<ledger::Write> batch;
  for (std::uint64_t i = 1; i <= 2 * etcd::EtcdStore::kBackfillPage + 5; ++i)
    batch.push_back(ledger::AppendEvent{
        event(i, old + static_cast<ledger::Millis>(i), "x", "t", {"ip:" + std::to_string(i % 7)})});
  for (std::size_t from = 0; from < batch.size(); from += 100) {
    std::vector<ledger::Write> some(batch.begin() + from,
                                    batch.begin() + std::min(batch.size(), from + 100));
    NL_ASSERT_OK(a->apply(some));
  }
  const std::uint64_t last = batch.size();
  NL_ASSERT_OK(a->apply({ledger::AppendEvent{event(last + 1, now, "x", "t", {"ip:1"})}}));
  ASSERT_TRUE(a->pruneEvents(now - 180LL * 86'400'000).isOk());
  ASSERT_EQ(keysUnder("ev/"), 1u) << "etcd's log keeps the last hour only";

  // A new replica: its archive begins with what the log still holds, then the rest comes from
  // the peer in pages (the first refused once: it tries again).
  auto fresh = open(dir_.file("fresh.db"), "log-hours=1");
  ASSERT_TRUE(fresh);
  std::atomic<int> asked{0};
  fresh->setHistorySource(
      [&](const ledger::EventQuery& q) -> Result<std::vector<ledger::EventRecord>> {
        if (asked++ == 0) return Status::unavailable("the peer is starting");
        return a->queryEvents(q);
      });
  EXPECT_FALSE(fresh->historyComplete());
  NL_ASSERT_OK(fresh->follow([](std::vector<ledger::Write>&&) { return Status::ok(); }));
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!fresh->historyComplete()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the back-fill did not finish";
    std::this_thread::sleep_for(50ms);
  }
  for (const std::string key : {"ip:1", "ip:3"}) {
    EXPECT_EQ(seqs(fresh->queryEvents(Query().key(key).limit(10000))),
              seqs(a->queryEvents(Query().key(key).limit(10000))))
        << key;
  }
  EXPECT_EQ(seqs(fresh->queryEvents(Query().limit(10000))).size(), last + 1) << "every event once";
  EXPECT_GE(asked.load(), 4) << "three pages and the empty one after a refusal";
  fresh->stopFollowing();

  // A ledger whose log was never pruned: nothing to copy, complete without a peer.
  auto unpruned = ledger::openStore(cluster_.url("other") + "?history=" + dir_.file("o.db"));
  ASSERT_TRUE(unpruned.isOk());
  ASSERT_TRUE((*unpruned)->load().isOk());
  NL_ASSERT_OK((*unpruned)->follow([](std::vector<ledger::Write>&&) { return Status::ok(); }));
  deadline = std::chrono::steady_clock::now() + 5s;
  while (!(*unpruned)->historyComplete()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(20ms);
  }
  (*unpruned)->stopFollowing();
}

TEST_F(EtcdHistoryTest, AReplicaAwayLongerThanTheLogCopiesWhatWasPrunedMeanwhile) {
  const ledger::Millis now = nowMillis();
  auto follow = [](ledger::Store& s) {
    return s.follow([](std::vector<ledger::Write>&&) { return Status::ok(); });
  };
  auto a = open(dir_.file("a.db"), "log-hours=1");
  ASSERT_TRUE(a);
  NL_ASSERT_OK(a->apply({ledger::AppendEvent{event(1, now - 5 * 3'600'000, "x", "t", {"ip:9"})}}));
  {
    auto r = open(dir_.file("r.db"), "log-hours=1");  // holds event 1, then goes away
    ASSERT_TRUE(r);
    EXPECT_EQ(seqs(r->queryEvents(Query().key("ip:9"))), (std::vector<std::uint64_t>{1}));
  }
  {
    // ... five hours ago: its archive's marker says when it reached its revision.
    auto archive = SqliteStore::open(dir_.file("r.db"));
    ASSERT_TRUE(archive.isOk());
    auto state = (*archive)->load();
    ASSERT_TRUE(state.isOk());
    bool rewound = false;
    for (auto d : state->documents) {
      if (d.kind != "etcd-archive") continue;
      const std::string revision = d.body.substr(0, d.body.find(' '));
      d.body = revision + " " + std::to_string(now - 5 * 3'600'000);
      const std::uint64_t expected = d.version++;
      NL_ASSERT_OK((*archive)->apply({ledger::PutDocument{d, expected}}));
      rewound = true;
    }
    ASSERT_TRUE(rewound);
  }
  // While it is away: three more events (three hours ago), then the log is pruned.
  NL_ASSERT_OK(a->apply({ledger::AppendEvent{event(2, now - 3 * 3'600'000, "x", "t", {"ip:9"})},
                         ledger::AppendEvent{event(3, now - 3 * 3'600'000, "x", "t", {"ip:9"})},
                         ledger::AppendEvent{event(4, now - 3 * 3'600'000, "x", "t", {})}}));
  ASSERT_TRUE(a->pruneEvents(0).isOk());
  ASSERT_EQ(keysUnder("ev/"), 0u);
  auto r = open(dir_.file("r.db"), "log-hours=1");
  ASSERT_TRUE(r);
  r->setHistorySource([&](const ledger::EventQuery& q) { return a->queryEvents(q); });
  NL_ASSERT_OK(follow(*r));
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seqs(r->queryEvents(Query().limit(100))).size() < 4 || !r->historyComplete()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the back-fill did not finish";
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(seqs(r->queryEvents(Query().key("ip:9"))), (std::vector<std::uint64_t>{1, 2, 3}));
  r->stopFollowing();
}

TEST_F(EtcdHistoryTest, AnArchiveOfTheBuildBeforeTheBackfillIsTakenAsItWas) {
  const ledger::Millis now = nowMillis();
  {
    auto a = open(dir_.file("a.db"), "log-hours=1");
    ASSERT_TRUE(a);
    NL_ASSERT_OK(a->apply({ledger::AppendEvent{event(1, now - 3 * 3'600'000, "x", "t", {})}}));
    ASSERT_TRUE(a->pruneEvents(0).isOk());  // etcd's log pruned: a mark exists
    EXPECT_TRUE(a->historyComplete()) << "it held the event before the prune";
  }
  {
    // What the build before kept: the revision marker alone, no back-fill marker.
    auto archive = SqliteStore::open(dir_.file("a.db"));
    ASSERT_TRUE(archive.isOk());
    auto state = (*archive)->load();
    ASSERT_TRUE(state.isOk());
    for (const auto& d : state->documents) {
      if (d.kind == "etcd-archive-backfill")
        NL_ASSERT_OK((*archive)->apply({ledger::DeleteDocument{d.kind, d.key, d.version}}));
    }
  }
  auto again = open(dir_.file("a.db"), "log-hours=1");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->historyComplete()) << "not before its first sync in this process";
  EXPECT_EQ(seqs(again->queryEvents(Query())), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(again->historyComplete())
      << "an archive that was complete stays so: no replica waits for a back-fill after upgrading";
}

TEST_F(EtcdHistoryTest, CopiesUnderHistoryKeysFromOlderBuildsGoAtThePrune) {
  // More than one chunk of them (256 a transaction).
  for (int k = 0; k < 700; k += 100) {
    std::vector<std::string> keys;
    for (int i = k; i < k + 100; ++i)
      keys.push_back("/hist/hk/ip:" + std::to_string(i) + '\0' + "00000000000000000001");
    NL_ASSERT_OK(putRaw(keys));
  }
  ASSERT_EQ(keysUnder("hk/"), 700u);
  auto a = open("");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->pruneEvents(0).isOk());
  EXPECT_EQ(keysUnder("hk/"), 0u);
}

TEST_F(EtcdHistoryTest, AnArchiveKeptForAnotherClusterOrPrefixIsRefused) {
  {
    auto a = open(dir_.file("a.db"));
    ASSERT_TRUE(a);
    for (std::uint64_t i = 1; i <= 30; ++i)
      NL_ASSERT_OK(a->apply({ledger::AppendEvent{event(i, 1000, "x", "t", {"ip:1"})}}));
    ASSERT_EQ(seqs(a->queryEvents(Query().limit(100))).size(), 30u);
  }
  // A new cluster is far behind the revision the archive reached on the old one.
  testing_etcd::EtcdTestCluster fresh{1};
  ASSERT_TRUE(fresh.start()) << fresh.error();
  auto there = ledger::openStore(fresh.url("hist") + "?history=" + dir_.file("a.db"));
  ASSERT_FALSE(there.isOk());
  EXPECT_EQ(there.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(there.status().message().find("another cluster"), std::string::npos)
      << there.status().toString();
  // Another ledger (prefix) on the same cluster.
  auto other = ledger::openStore(cluster_.url("other") + "?history=" + dir_.file("a.db"));
  ASSERT_FALSE(other.isOk());
  EXPECT_NE(other.status().message().find("/hist/"), std::string::npos)
      << other.status().toString();
}

TEST_F(EtcdHistoryTest, AnArchiveThatIsNotANetledgerDatabaseIsRefusedByName) {
  const std::string path = dir_.file("not-a-db");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not SQLite\n", f);
  std::fclose(f);
  auto s = ledger::openStore(cluster_.url("hist") + "?history=" + path);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find("history="), std::string::npos) << s.status().toString();
}

}  // namespace
}  // namespace netledger::store
