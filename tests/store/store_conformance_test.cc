// The generic Store test suite (Kea's GenericLeaseMgrTest pattern): every backend runs every
// test here, so `memory:` and `sqlite:` cannot drift apart. Durable-only parts (reopen,
// snapshot) are skipped for memory:, everything else is shared.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/store.h"
#include "store/register.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"
#include "testing/etcd_cluster.h"

namespace netledger::store {
namespace {

using ledger::EventQuery;
using ledger::EventRecord;
using ledger::StoreState;
using ledger::Write;
using namespace testing_util;  // NOLINT: test helpers

struct Backend {
  std::string name;
  bool durable;  // reopen applies
  std::string (*url)(const TempDir& dir);
  bool etcd = false;  // runs against a real etcd member the test starts
  // The most writes a batch may have (etcd: --max-txn-ops); larger test batches are applied in
  // parts. Atomicity tests use small batches, so they are unaffected.
  std::size_t max_batch = SIZE_MAX;
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    registerBuiltinStores();
    if (GetParam().etcd) {
      etcd_ = std::make_unique<testing_etcd::EtcdTestCluster>(1);
      ASSERT_TRUE(etcd_->start()) << etcd_->error();
    }
    open();
  }

  void open() {
    // etcd: with the history archive a replica of netledgerd keeps in its data directory.
    auto s =
        ledger::openStore(etcd_ ? etcd_->url("conformance") + "?history=" + dir_.file("history.db")
                                : GetParam().url(dir_));
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(*s);
  }

  // Closes the store and opens the same database again; false (nothing done) for memory:.
  bool reopen() {
    if (!GetParam().durable) return false;
    store_.reset();
    open();
    return store_ != nullptr;
  }

  Status apply(std::vector<Write> batch) {
    const std::size_t max = GetParam().max_batch;
    if (batch.size() <= max) return store_->apply(batch);
    for (std::size_t first = 0; first < batch.size(); first += max) {
      auto end = std::min(first + max, batch.size());
      std::vector<Write> part(batch.begin() + static_cast<std::ptrdiff_t>(first),
                              batch.begin() + static_cast<std::ptrdiff_t>(end));
      NL_RETURN_IF_ERROR(store_->apply(part));
    }
    return Status::ok();
  }

  StoreState load() {
    auto s = store_->load();
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return s.isOk() ? *s : StoreState{};
  }

  std::vector<EventRecord> query(const EventQuery& q) {
    auto r = store_->queryEvents(q);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : std::vector<EventRecord>{};
  }

  TempDir dir_;
  std::unique_ptr<testing_etcd::EtcdTestCluster> etcd_;  // before the store: outlives it
  std::unique_ptr<ledger::Store> store_;
};

std::vector<std::uint64_t> seqs(const std::vector<EventRecord>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

ledger::PutBinding putBinding(ledger::BindingRecord b, std::uint64_t expected) {
  return ledger::PutBinding{std::move(b), expected};
}

// --- round trips ---

TEST_P(StoreConformanceTest, EmptyStoreLoadsEmpty) {
  StoreState s = load();
  EXPECT_TRUE(s.pools.empty() && s.mac_pools.empty() && s.bindings.empty() && s.tokens.empty() &&
              s.quarantine.empty());
  EXPECT_EQ(s.last_event_seq, 0u);
  EXPECT_EQ(s.last_binding_id, 0u);
  EXPECT_TRUE(query({}).empty());
}

TEST_P(StoreConformanceTest, RoundTripsEveryRecordTypeWithEveryField) {
  ledger::QuarantineRecord qip{"ip", "lab", "2001:db8:20::77", 1'700'000'100'000};
  ledger::QuarantineRecord qmac{"mac", "", "02:42:ac:10:00:09", 1'700'000'200'000};
  NL_ASSERT_OK(apply({ledger::PutPool{fullPool("lab"), 0}, ledger::PutPool{minimalPool("min"), 0},
                      ledger::PutMacPool{fullMacPool("macs"), 0},
                      ledger::PutMacPool{namedMacPool("default"), 0}, putBinding(fullBinding(7), 0),
                      putBinding(minimalBinding(3), 0), ledger::PutToken{fullToken("ci"), 0},
                      ledger::PutToken{namedToken("ro"), 0}, ledger::PutQuarantine{qip},
                      ledger::PutQuarantine{qmac}}));
  StoreState s = load();
  ASSERT_EQ(s.pools.size(), 2u);
  ASSERT_EQ(s.bindings.size(), 2u);
  // Bindings come back ascending by id.
  EXPECT_EQ(s.bindings[0].id, 3u);
  EXPECT_EQ(render(s.bindings[0]), render(minimalBinding(3)));
  EXPECT_EQ(render(s.bindings[1]), render(fullBinding(7)));
  StoreState expected;
  expected.pools = {fullPool("lab"), minimalPool("min")};
  expected.mac_pools = {fullMacPool("macs"), namedMacPool("default")};
  expected.bindings = {minimalBinding(3), fullBinding(7)};
  expected.tokens = {fullToken("ci"), namedToken("ro")};
  expected.quarantine = {qip, qmac};
  expected.last_binding_id = 7;
  EXPECT_EQ(render(s), render(expected));
  // Unset optionals stay unset rather than becoming zero values.
  auto min = std::find_if(s.pools.begin(), s.pools.end(), [](auto& p) { return p.name == "min"; });
  ASSERT_NE(min, s.pools.end());
  EXPECT_FALSE(min->gateway.has_value());
  EXPECT_FALSE(min->vlan.has_value());
  EXPECT_FALSE(min->vni.has_value());
  EXPECT_FALSE(s.bindings[0].mac.has_value());
  EXPECT_FALSE(s.bindings[0].host_mac.has_value());
}

TEST_P(StoreConformanceTest, RoundTripsEventsWithEveryField) {
  EventRecord e =
      event(5, 1234, "binding.allocate", "alice \"admin\"",
            {"ip:10.0.0.5", "ip:2001:db8::5", "mac:02:00:00:00:00:05", "instance:vm \xc3\xbc"});
  NL_ASSERT_OK(apply({ledger::AppendEvent{e}}));
  auto got = query({});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(render(got[0]), render(e));
  EXPECT_EQ(load().last_event_seq, 5u);
}

TEST_P(StoreConformanceTest, UpdatesReplaceEveryField) {
  NL_ASSERT_OK(apply({putBinding(fullBinding(1), 0), ledger::PutPool{fullPool("lab"), 0}}));
  ledger::BindingRecord b = minimalBinding(1);
  b.version = 2;
  ledger::PoolRecord p = minimalPool("lab");
  p.version = 2;
  NL_ASSERT_OK(apply({putBinding(b, 1), ledger::PutPool{p, 1}}));
  StoreState s = load();
  ASSERT_EQ(s.bindings.size(), 1u);
  EXPECT_EQ(render(s.bindings[0]), render(b));
  ASSERT_EQ(s.pools.size(), 1u);
  EXPECT_EQ(render(s.pools[0]), render(p));
}

// --- conditional versions and atomicity ---

TEST_P(StoreConformanceTest, BatchWithMismatchInLastWriteAppliesNothing) {
  NL_ASSERT_OK(apply({putBinding(fullBinding(1), 0), ledger::PutPool{fullPool("lab"), 0}}));
  std::string before = render(load());
  ledger::BindingRecord stale = fullBinding(1);
  stale.version = 5;
  Status s = apply(
      {ledger::PutPool{minimalPool("other"), 0}, ledger::PutMacPool{fullMacPool("m"), 0},
       putBinding(minimalBinding(2), 0), ledger::DeletePool{"lab", 1},
       ledger::PutToken{fullToken("t"), 0}, ledger::PutQuarantine{{"ip", "lab", "10.20.0.9", 99}},
       ledger::AppendEvent{event(1, 10, "x", "a", {"ip:10.20.0.9"})}, putBinding(stale, 4)});
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.toString();
  EXPECT_NE(s.message().find("binding 1"), std::string::npos) << s.message();
  EXPECT_EQ(render(load()), before);
  EXPECT_TRUE(query({}).empty());
  EXPECT_TRUE(query(Query().key("ip:10.20.0.9")).empty());
  // The store is still usable after the refused batch.
  NL_EXPECT_OK(apply({putBinding(minimalBinding(2), 0)}));
}

TEST_P(StoreConformanceTest, PutWithExpectedZeroOnExistingRecordConflicts) {
  NL_ASSERT_OK(
      apply({ledger::PutPool{fullPool("lab"), 0}, ledger::PutMacPool{fullMacPool("macs"), 0},
             putBinding(fullBinding(9), 0), ledger::PutToken{fullToken("ci"), 0},
             ledger::AppendEvent{event(1, 1, "x", "a", {})}}));
  struct Case {
    Write write;
    const char* names;
  };
  const Case cases[] = {
      {ledger::PutPool{fullPool("lab"), 0}, "pool \"lab\""},
      {ledger::PutMacPool{fullMacPool("macs"), 0}, "mac pool \"macs\""},
      {putBinding(fullBinding(9), 0), "binding 9"},
      {ledger::PutToken{fullToken("ci"), 0}, "token \"ci\""},
      {ledger::AppendEvent{event(1, 2, "y", "b", {})}, "event 1"},
  };
  for (const Case& c : cases) {
    Status s = apply({c.write});
    EXPECT_EQ(s.code(), StatusCode::kConflict) << c.names << ": " << s.toString();
    EXPECT_NE(s.message().find(c.names), std::string::npos) << s.message();
  }
  EXPECT_EQ(query({})[0].op, "x");
}

TEST_P(StoreConformanceTest, ConflictMessageNamesBothVersions) {
  NL_ASSERT_OK(apply({putBinding(fullBinding(4), 0)}));
  ledger::BindingRecord b = fullBinding(4);
  b.version = 8;
  Status s = apply({putBinding(b, 7)});
  ASSERT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_EQ(s.message(), "binding 4: version conflict: expected version 7, found version 1");
  s = apply({putBinding(fullBinding(5), 3)});
  EXPECT_EQ(s.message(), "binding 5: version conflict: expected version 3, found none");
  s = apply({putBinding(fullBinding(4), 0)});
  EXPECT_EQ(s.message(), "binding 4: version conflict: expected absent, found version 1");
}

TEST_P(StoreConformanceTest, UpdateWithRightVersionSucceedsAndWrongVersionConflicts) {
  NL_ASSERT_OK(
      apply({ledger::PutPool{fullPool("lab"), 0}, ledger::PutMacPool{fullMacPool("macs"), 0},
             ledger::PutToken{fullToken("ci"), 0}}));
  auto pool = fullPool("lab");
  pool.version = 2;
  pool.threshold = 0.5;
  auto macs = fullMacPool("macs");
  macs.version = 2;
  macs.strategy = alloc::MacStrategy::kSequential;
  auto token = fullToken("ci");
  token.version = 2;
  token.role = ledger::Role::kAdmin;
  EXPECT_EQ(apply({ledger::PutPool{pool, 2}}).code(), StatusCode::kConflict);
  EXPECT_EQ(apply({ledger::PutMacPool{macs, 3}}).code(), StatusCode::kConflict);
  EXPECT_EQ(apply({ledger::PutToken{token, 9}}).code(), StatusCode::kConflict);
  NL_ASSERT_OK(
      apply({ledger::PutPool{pool, 1}, ledger::PutMacPool{macs, 1}, ledger::PutToken{token, 1}}));
  StoreState s = load();
  ASSERT_EQ(s.pools.size(), 1u);
  EXPECT_EQ(render(s.pools[0]), render(pool));
  EXPECT_EQ(render(s.mac_pools[0]), render(macs));
  EXPECT_EQ(render(s.tokens[0]), render(token));
}

TEST_P(StoreConformanceTest, DeleteNeedsTheExactVersion) {
  NL_ASSERT_OK(
      apply({ledger::PutPool{fullPool("lab"), 0}, ledger::PutMacPool{fullMacPool("macs"), 0},
             putBinding(fullBinding(9), 0), ledger::PutToken{fullToken("ci"), 0}}));
  const Write wrong[] = {ledger::DeletePool{"lab", 2},    ledger::DeleteMacPool{"macs", 0},
                         ledger::DeleteBinding{9, 3},     ledger::DeleteToken{"ci", 2},
                         ledger::DeletePool{"absent", 1}, ledger::DeleteBinding{10, 1}};
  for (const Write& w : wrong) {
    Status s = apply({w});
    EXPECT_EQ(s.code(), StatusCode::kConflict) << s.toString();
  }
  EXPECT_EQ(load().bindings.size(), 1u);
  NL_ASSERT_OK(apply({ledger::DeletePool{"lab", 1}, ledger::DeleteMacPool{"macs", 1},
                      ledger::DeleteBinding{9, 1}, ledger::DeleteToken{"ci", 1}}));
  StoreState s = load();
  EXPECT_TRUE(s.pools.empty() && s.mac_pools.empty() && s.bindings.empty() && s.tokens.empty());
  // Deleted records can be created again.
  NL_EXPECT_OK(apply({ledger::PutPool{fullPool("lab"), 0}, putBinding(fullBinding(9), 0)}));
}

TEST_P(StoreConformanceTest, WritesInABatchSeeTheEarlierWritesOfTheBatch) {
  auto v2 = fullBinding(1);
  v2.version = 2;
  v2.state = ledger::BindingState::kActive;
  NL_ASSERT_OK(apply({putBinding(fullBinding(1), 0), putBinding(v2, 1),
                      putBinding(minimalBinding(2), 0), ledger::DeleteBinding{2, 1}}));
  StoreState s = load();
  ASSERT_EQ(s.bindings.size(), 1u);
  EXPECT_EQ(render(s.bindings[0]), render(v2));
  // ... and a later write must match the version an earlier write left, not the stored one.
  auto v3 = v2;
  v3.version = 3;
  Status st = apply({putBinding(v3, 2), putBinding(v3, 2)});
  EXPECT_EQ(st.code(), StatusCode::kConflict) << st.toString();
  EXPECT_EQ(load().bindings[0].version, 2u);
  // Two events with one seq in a batch are refused too.
  st = apply({ledger::AppendEvent{event(3, 1, "a", "b", {})},
              ledger::AppendEvent{event(3, 1, "a", "b", {})}});
  EXPECT_EQ(st.code(), StatusCode::kConflict) << st.toString();
  EXPECT_TRUE(query({}).empty());
}

TEST_P(StoreConformanceTest, EventWithoutSeqIsInvalid) {
  Status s = apply({ledger::AppendEvent{event(0, 1, "a", "b", {})}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
}

TEST_P(StoreConformanceTest, EmptyBatchIsANoOp) {
  NL_EXPECT_OK(apply({}));
  EXPECT_EQ(render(load()), render(StoreState{}));
}

TEST_P(StoreConformanceTest, QuarantinePutReplacesAndDeleteRemoves) {
  NL_ASSERT_OK(apply({ledger::PutQuarantine{{"ip", "lab", "10.20.0.7", 100}},
                      ledger::PutQuarantine{{"mac", "macs", "02:42:ac:10:00:07", 200}},
                      ledger::PutQuarantine{{"ip", "lab", "2001:db8:20::7", 300}}}));
  EXPECT_EQ(load().quarantine.size(), 3u);
  // Same kind, pool and key: replaced.
  NL_ASSERT_OK(apply({ledger::PutQuarantine{{"ip", "lab", "10.20.0.7", 150}}}));
  StoreState s = load();
  ASSERT_EQ(s.quarantine.size(), 3u);
  auto it = std::find_if(s.quarantine.begin(), s.quarantine.end(),
                         [](auto& q) { return q.key == "10.20.0.7"; });
  ASSERT_NE(it, s.quarantine.end());
  EXPECT_EQ(it->until, 150);
  // The same address in a pool of another network is a row of its own.
  NL_ASSERT_OK(apply({ledger::PutQuarantine{{"ip", "lab-blue", "10.20.0.7", 175}}}));
  EXPECT_EQ(load().quarantine.size(), 4u);
  // Kind and pool are part of the key: these remove nothing.
  NL_ASSERT_OK(apply({ledger::DeleteQuarantine{"mac", "10.20.0.7", "lab"},
                      ledger::DeleteQuarantine{"ip", "10.20.0.7", "elsewhere"}}));
  EXPECT_EQ(load().quarantine.size(), 4u);
  NL_ASSERT_OK(apply({ledger::DeleteQuarantine{"ip", "10.20.0.7", "lab"},
                      ledger::DeleteQuarantine{"mac", "02:42:ac:10:00:07", "macs"},
                      ledger::DeleteQuarantine{"ip", "never-there", "lab"}}));
  s = load();
  ASSERT_EQ(s.quarantine.size(), 2u);
  for (const auto& q : s.quarantine) {
    EXPECT_TRUE((q.key == "2001:db8:20::7" && q.pool == "lab") ||
                (q.key == "10.20.0.7" && q.pool == "lab-blue"))
        << q.key << " " << q.pool;
  }
}

TEST_P(StoreConformanceTest, DocumentsAreVersionedKeyedByKindAndKeyAndSurviveReopen) {
  auto doc = [](std::string kind, std::string key, std::string body, std::uint64_t version) {
    return ledger::DocumentRecord{std::move(kind), std::move(key), std::move(body), version,
                                  1'700'000'000'000 + static_cast<ledger::Millis>(version)};
  };
  NL_ASSERT_OK(apply({ledger::PutDocument{doc("conflict", "1", R"({"kind":"duplicate_ip"})", 1), 0},
                      ledger::PutDocument{doc("webhook", "1", R"({"url":"http://x/"})", 1), 0},
                      ledger::PutDocument{doc("conflict", "2", "{}", 1), 0}}));
  // Same key, other kind: a record of its own; same kind and key again with expected 0: refused.
  Status dup = apply({ledger::PutDocument{doc("conflict", "1", "{}", 1), 0}});
  EXPECT_EQ(dup.code(), StatusCode::kConflict) << dup.toString();
  EXPECT_NE(dup.message().find("conflict \"1\""), std::string::npos) << dup.message();
  // Update with the right version; a stale version is refused and changes nothing.
  NL_ASSERT_OK(apply({ledger::PutDocument{doc("conflict", "1", R"({"count":2})", 2), 1}}));
  EXPECT_EQ(apply({ledger::PutDocument{doc("conflict", "1", "{}", 3), 1}}).code(),
            StatusCode::kConflict);
  EXPECT_EQ(apply({ledger::DeleteDocument{"conflict", "2", 7}}).code(), StatusCode::kConflict);
  NL_ASSERT_OK(apply({ledger::DeleteDocument{"conflict", "2", 1}}));
  (void)reopen();
  StoreState s = load();
  ASSERT_EQ(s.documents.size(), 2u);
  std::map<std::string, ledger::DocumentRecord> by;
  for (const auto& d : s.documents) by[d.kind + "/" + d.key] = d;
  ASSERT_TRUE(by.contains("conflict/1") && by.contains("webhook/1"));
  EXPECT_EQ(by["conflict/1"].body, R"({"count":2})");
  EXPECT_EQ(by["conflict/1"].version, 2u);
  EXPECT_EQ(by["conflict/1"].updated_at, 1'700'000'000'002);
  EXPECT_EQ(by["webhook/1"].body, R"({"url":"http://x/"})");
}

// --- durability across reopen ---

TEST_P(StoreConformanceTest, ReopenGivesIdenticalState) {
  NL_ASSERT_OK(apply({ledger::PutPool{fullPool("lab"), 0}, ledger::PutPool{minimalPool("m"), 0},
                      ledger::PutMacPool{fullMacPool("macs"), 0}, putBinding(fullBinding(1), 0),
                      putBinding(minimalBinding(2), 0), ledger::PutToken{fullToken("ci"), 0},
                      ledger::PutQuarantine{{"ip", "lab", "10.20.0.7", 100}},
                      ledger::AppendEvent{event(1, 10, "pool.create", "alice", {"pool:lab"})},
                      ledger::AppendEvent{event(2, 20, "binding.allocate", "bob",
                                                {"ip:10.20.0.5", "instance:vm-1"})}}));
  std::string state = render(load());
  std::string events = renderAll(query({}));
  // sqlite: a new connection to the same file; memory: nothing to reopen, so this checks that
  // loading again gives the same state (still a real assertion, not a skip).
  (void)reopen();
  EXPECT_EQ(render(load()), state);
  EXPECT_EQ(renderAll(query({})), events);
  EXPECT_EQ(renderAll(query(Query().key("instance:vm-1"))), render(query({})[1]));
}

TEST_P(StoreConformanceTest, LastBindingIdSurvivesDeletes) {
  NL_ASSERT_OK(apply({putBinding(minimalBinding(5), 0), putBinding(minimalBinding(12), 0)}));
  NL_ASSERT_OK(apply({ledger::DeleteBinding{12, 1}}));
  EXPECT_EQ(load().last_binding_id, 12u);
  NL_ASSERT_OK(apply({ledger::DeleteBinding{5, 1}}));
  EXPECT_EQ(load().last_binding_id, 12u);
  // A lower id does not lower the mark.
  NL_ASSERT_OK(apply({putBinding(minimalBinding(3), 0)}));
  EXPECT_EQ(load().last_binding_id, 12u);
  if (!reopen()) return;
  EXPECT_EQ(load().last_binding_id, 12u);
}

TEST_P(StoreConformanceTest, LastEventSeqSurvivesPruning) {
  NL_ASSERT_OK(apply({ledger::AppendEvent{event(1, 100, "a", "x", {"k"})},
                      ledger::AppendEvent{event(2, 200, "a", "x", {"k"})}}));
  auto pruned = store_->pruneEvents(1000);
  ASSERT_TRUE(pruned.isOk()) << pruned.status().toString();
  EXPECT_EQ(*pruned, 2u);
  EXPECT_TRUE(query({}).empty());
  EXPECT_EQ(load().last_event_seq, 2u);
  if (!reopen()) return;
  EXPECT_EQ(load().last_event_seq, 2u);
}

TEST_P(StoreConformanceTest, LoadsManyBindingsInIdOrder) {
  // Enough rows for the SQLite backend to decode in parallel; ids arrive shuffled, with gaps
  // and deletions, and must come back complete and ascending.
  constexpr std::uint64_t kCount = 30'000;
  std::vector<std::uint64_t> ids;
  for (std::uint64_t i = 1; i <= kCount; ++i) ids.push_back(i * 3 + (i % 2));
  std::mt19937_64 rng(7);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (std::size_t first = 0; first < ids.size(); first += 5'000) {
    std::vector<Write> batch;
    for (std::size_t i = first; i < first + 5'000; ++i) {
      batch.push_back(putBinding(i % 2 ? fullBinding(ids[i]) : minimalBinding(ids[i]), 0));
    }
    NL_ASSERT_OK(apply(batch));
  }
  std::vector<Write> deletes;
  for (std::size_t i = 0; i < 100; ++i) deletes.push_back(ledger::DeleteBinding{ids[i], 1});
  NL_ASSERT_OK(apply(deletes));
  std::map<std::uint64_t, std::string> expected;
  for (std::size_t i = 100; i < ids.size(); ++i) {
    expected[ids[i]] = render(i % 2 ? fullBinding(ids[i]) : minimalBinding(ids[i]));
  }
  reopen();
  StoreState s = load();
  ASSERT_EQ(s.bindings.size(), expected.size());
  auto it = expected.begin();
  for (const auto& b : s.bindings) {
    ASSERT_EQ(b.id, it->first);
    ASSERT_EQ(render(b), it->second);
    ++it;
  }
  EXPECT_EQ(s.last_binding_id, *std::max_element(ids.begin(), ids.end()));
}

// --- event queries ---

class EventQueryTest : public StoreConformanceTest {
 protected:
  // 40 events, a second apart, four history keys each, two actors, three ops.
  void SetUp() override {
    StoreConformanceTest::SetUp();
    std::vector<Write> batch;
    for (std::uint64_t seq = 1; seq <= 40; ++seq) {
      std::string op = seq % 3 == 0   ? "binding.release"
                       : seq % 3 == 1 ? "binding.allocate"
                                      : "pool.update";
      std::string actor = seq % 2 ? "alice" : "bob";
      EventRecord e =
          event(seq, 1'000 * static_cast<ledger::Millis>(seq), op, actor,
                {"ip:10.0.0." + std::to_string(seq % 5), "instance:vm-" + std::to_string(seq % 4),
                 "mac:02:00:00:00:00:0" + std::to_string(seq % 7), "tenant:acme"});
      all_.push_back(e);
      batch.push_back(ledger::AppendEvent{e});
      if (batch.size() == 16) {
        NL_ASSERT_OK(apply(batch));
        batch.clear();
      }
    }
    NL_ASSERT_OK(apply(batch));
  }

  // The naive answer: filter everything, order, truncate.
  std::vector<std::uint64_t> oracle(const EventQuery& q) const {
    std::vector<std::uint64_t> out;
    for (const auto& e : all_) {
      if (q.key && std::find(e.keys.begin(), e.keys.end(), *q.key) == e.keys.end()) continue;
      if (q.op && e.op != *q.op) continue;
      if (q.actor && e.actor != *q.actor) continue;
      if (e.time < q.from || e.time > q.to) continue;
      if (e.seq <= q.after_seq) continue;
      if (q.before_seq != 0 && e.seq >= q.before_seq) continue;
      out.push_back(e.seq);
    }
    if (q.before_seq != 0) std::reverse(out.begin(), out.end());
    if (out.size() > q.limit) out.resize(q.limit);
    return out;
  }

  std::vector<EventRecord> all_;
};

TEST_P(EventQueryTest, ByKey) {
  auto got = query(Query().key("instance:vm-1"));
  EXPECT_EQ(seqs(got), (std::vector<std::uint64_t>{1, 5, 9, 13, 17, 21, 25, 29, 33, 37}));
  EXPECT_EQ(renderAll(got), render(all_[0]) + render(all_[4]) + render(all_[8]) + render(all_[12]) +
                                render(all_[16]) + render(all_[20]) + render(all_[24]) +
                                render(all_[28]) + render(all_[32]) + render(all_[36]));
  EXPECT_TRUE(query(Query().key("ip:192.0.2.1")).empty());
}

TEST_P(EventQueryTest, ByOpAndActor) {
  EXPECT_EQ(seqs(query(Query().op("binding.release").actor("bob"))),
            (std::vector<std::uint64_t>{6, 12, 18, 24, 30, 36}));
  EXPECT_EQ(query(Query().op("pool.update")).size(), 13u);
  EXPECT_EQ(query(Query().actor("alice").limit(1000)).size(), 20u);
  EXPECT_TRUE(query(Query().op("nope")).empty());
}

TEST_P(EventQueryTest, TimeWindowIsInclusive) {
  EXPECT_EQ(seqs(query(Query().from(5'000).to(8'000))), (std::vector<std::uint64_t>{5, 6, 7, 8}));
  EXPECT_EQ(seqs(query(Query().key("tenant:acme").from(39'000))),
            (std::vector<std::uint64_t>{39, 40}));
  EXPECT_TRUE(query(Query().from(41'000)).empty());
}

TEST_P(EventQueryTest, CursorsPageInBothDirections) {
  // Ascending: follow after_seq.
  std::vector<std::uint64_t> forward;
  EventQuery q = Query().key("tenant:acme").limit(7);
  for (;;) {
    auto page = query(q);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 7u);
    for (const auto& e : page) forward.push_back(e.seq);
    q.after_seq = page.back().seq;
  }
  ASSERT_EQ(forward.size(), 40u);
  EXPECT_TRUE(std::is_sorted(forward.begin(), forward.end()));
  // Descending: start from "the newest" (UINT64_MAX, as the Ledger does) and follow before_seq.
  std::vector<std::uint64_t> backward;
  EventQuery d = Query().actor("bob").before(UINT64_MAX).limit(3);
  for (;;) {
    auto page = query(d);
    if (page.empty()) break;
    for (const auto& e : page) backward.push_back(e.seq);
    d.before_seq = page.back().seq;
  }
  std::vector<std::uint64_t> bobs;
  for (std::uint64_t s = 40; s >= 2; s -= 2) bobs.push_back(s);
  EXPECT_EQ(backward, bobs);
  // Both cursors at once: an open interval, descending.
  EXPECT_EQ(seqs(query(Query().after(10).before(14))), (std::vector<std::uint64_t>{13, 12, 11}));
}

// eventsAfter: the event stream's order. Positions strictly increase, every event comes once,
// batches in commit order and a batch's events by seq; resuming from any position (a batch's
// middle included) gives exactly the rest. On one node a position is the seq.
TEST_P(EventQueryTest, EventsAfterPagesEveryEventOnceInCommitOrder) {
  std::vector<EventRecord> stream;
  std::uint64_t after = 0;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = store_->eventsAfter(after, 5);
    ASSERT_TRUE(page.isOk()) << page.status().toString();
    if (page->empty()) break;
    EXPECT_LE(page->size(), 5u);
    for (const auto& e : *page) {
      EXPECT_GT(ledger::positionOf(e), after);
      after = ledger::positionOf(e);
      stream.push_back(e);
    }
  }
  ASSERT_EQ(stream.size(), all_.size());
  for (std::size_t i = 0; i < stream.size(); ++i) {
    EXPECT_EQ(stream[i].seq, all_[i].seq) << "the batches were committed in seq order";
    EXPECT_EQ(render(stream[i]), render(all_[i]));
  }
  for (std::size_t from : {0u, 7u, 16u, 20u, 39u}) {
    auto rest = store_->eventsAfter(ledger::positionOf(stream[from]), 1000);
    ASSERT_TRUE(rest.isOk());
    ASSERT_EQ(rest->size(), stream.size() - from - 1) << "after event " << from;
    for (std::size_t i = 0; i < rest->size(); ++i)
      EXPECT_EQ((*rest)[i].seq, stream[from + 1 + i].seq);
  }
}

TEST_P(EventQueryTest, LimitTruncatesInOrder) {
  EXPECT_EQ(seqs(query(Query().limit(3))), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(seqs(query(Query().before(UINT64_MAX).limit(2))), (std::vector<std::uint64_t>{40, 39}));
  EXPECT_TRUE(query(Query().limit(0)).empty());
  EXPECT_EQ(query(Query().limit(SIZE_MAX)).size(), 40u);
}

TEST_P(EventQueryTest, MatchesTheNaiveFilterForManyCombinations) {
  const std::optional<std::string> keys[] = {std::nullopt, "ip:10.0.0.3", "mac:02:00:00:00:00:05"};
  const std::optional<std::string> ops[] = {std::nullopt, "binding.allocate"};
  const std::optional<std::string> actors[] = {std::nullopt, "alice"};
  const std::pair<ledger::Millis, ledger::Millis> windows[] = {
      {0, INT64_MAX}, {7'000, 30'000}, {-5, 0}};
  const std::pair<std::uint64_t, std::uint64_t> cursors[] = {{0, 0}, {9, 0}, {0, 33}, {4, 30}};
  for (const auto& key : keys) {
    for (const auto& op : ops) {
      for (const auto& actor : actors) {
        for (auto [from, to] : windows) {
          for (auto [after, before] : cursors) {
            for (std::size_t limit : {std::size_t{1}, std::size_t{4}, std::size_t{100}}) {
              EventQuery q = Query()
                                 .key(key)
                                 .op(op)
                                 .actor(actor)
                                 .from(from)
                                 .to(to)
                                 .after(after)
                                 .before(before)
                                 .limit(limit);
              EXPECT_EQ(seqs(query(q)), oracle(q))
                  << "key=" << key.value_or("*") << " op=" << op.value_or("*")
                  << " actor=" << actor.value_or("*") << " from=" << from << " to=" << to
                  << " after=" << after << " before=" << before << " limit=" << limit;
            }
          }
        }
      }
    }
  }
}

TEST_P(EventQueryTest, PruneRemovesOldEventsAndTheirKeys) {
  auto pruned = store_->pruneEvents(11'000);  // seq 1..10
  ASSERT_TRUE(pruned.isOk()) << pruned.status().toString();
  EXPECT_EQ(*pruned, 10u);
  EXPECT_EQ(query(Query().limit(1))[0].seq, 11u);
  EXPECT_EQ(seqs(query(Query().key("instance:vm-1"))),
            (std::vector<std::uint64_t>{13, 17, 21, 25, 29, 33, 37}));
  EXPECT_EQ(query(Query().key("tenant:acme").limit(100)).size(), 30u);
  // Nothing older left: pruning again removes nothing.
  EXPECT_EQ(store_->pruneEvents(11'000).valueOr(99), 0u);
  EXPECT_EQ(load().last_event_seq, 40u);
  // New events keep counting from the high-water mark, old seqs stay refused by nobody: the
  // store accepts any unused seq, the Ledger picks them.
  NL_EXPECT_OK(apply({ledger::AppendEvent{event(41, 41'000, "a", "b", {"instance:vm-1"})}}));
  EXPECT_EQ(seqs(query(Query().key("instance:vm-1").after(37))), (std::vector<std::uint64_t>{41}));
  if (!reopen()) return;
  EXPECT_EQ(query(Query().key("tenant:acme").limit(100)).size(), 30u);
}

// --- concurrency ---

TEST_P(StoreConformanceTest, QueriesRunWhileApplyCommits) {
  constexpr std::uint64_t kBatches = 150;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (std::uint64_t i = 1; i <= kBatches; ++i) {
      Status s = store_->apply({putBinding(minimalBinding(i), 0),
                                ledger::AppendEvent{event(2 * i - 1, 1, "a", "w", {"k"})},
                                ledger::AppendEvent{event(2 * i, 1, "a", "w", {"k"})}});
      if (!s.isOk()) ++failures;
    }
    done = true;
  });
  std::size_t last_seen = 0;
  while (!done) {
    auto r = store_->queryEvents(Query().key("k").limit(1'000));
    if (!r.isOk()) {
      ++failures;
      break;
    }
    // Whole batches only, in order: a reader never sees half a commit.
    EXPECT_EQ(r->size() % 2, 0u);
    EXPECT_GE(r->size(), last_seen);
    for (std::size_t i = 0; i < r->size(); ++i) EXPECT_EQ((*r)[i].seq, i + 1);
    last_seen = r->size();
  }
  writer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(query(Query().key("k").limit(1'000)).size(), 2 * kBatches);
  EXPECT_EQ(load().bindings.size(), kBatches);
}

// --- snapshots ---

TEST_P(StoreConformanceTest, SnapshotReopensAsTheSameState) {
  NL_ASSERT_OK(apply({ledger::PutPool{fullPool("lab"), 0}, putBinding(fullBinding(3), 0),
                      ledger::PutToken{fullToken("ci"), 0},
                      ledger::PutQuarantine{{"ip", "lab", "10.20.0.7", 100}},
                      ledger::AppendEvent{event(1, 10, "pool.create", "alice", {"pool:lab"})}}));
  std::string snapshot = dir_.file("snapshots/one.db");
  Status s = store_->snapshotTo(snapshot);
  // memory: has nothing durable to copy; etcd is copied with etcdctl snapshot save.
  if (!GetParam().durable || GetParam().etcd) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
    return;
  }
  NL_ASSERT_OK(s);
  // Later writes do not reach the snapshot.
  NL_ASSERT_OK(apply({ledger::DeleteBinding{3, 1}}));
  EXPECT_EQ(store_->snapshotTo(snapshot).code(), StatusCode::kConflict);

  auto copy = ledger::openStore("sqlite:" + snapshot);
  ASSERT_TRUE(copy.isOk()) << copy.status().toString();
  auto state = (*copy)->load();
  ASSERT_TRUE(state.isOk());
  EXPECT_EQ(state->bindings.size(), 1u);
  NL_ASSERT_OK(apply({putBinding(fullBinding(3), 0)}));
  EXPECT_EQ(render(*state), render(load()));
  auto events = (*copy)->queryEvents(Query().key("pool:lab"));
  ASSERT_TRUE(events.isOk());
  EXPECT_EQ(renderAll(*events), renderAll(query({})));
}

std::string memoryUrl(const TempDir&) { return "memory:"; }
std::string sqliteUrl(const TempDir& dir) { return "sqlite:" + dir.file("data/ledger.db"); }

std::string noUrl(const TempDir&) { return ""; }

const Backend kBackends[] = {{"memory", false, memoryUrl},
                             {"sqlite", true, sqliteUrl},
                             {"etcd", true, noUrl, /*etcd=*/true, /*max_batch=*/16}};

std::string backendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest, ::testing::ValuesIn(kBackends),
                         backendName);
INSTANTIATE_TEST_SUITE_P(Backends, EventQueryTest, ::testing::ValuesIn(kBackends), backendName);

}  // namespace
}  // namespace netledger::store
