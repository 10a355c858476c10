// copyLedger against real stores: a memory ledger (children listed before their parents, more
// events than one page) into a real etcd member comes out the same record for record, and a
// target that already holds a ledger is refused untouched.
#include "store/migrate.h"

#include <gtest/gtest.h>

#include "store/register.h"
#include "store/store_test_util.h"
#include "testing/etcd_cluster.h"

namespace netledger::store {
namespace {

using testing_util::render;

std::unique_ptr<ledger::Store> sourceLedger() {
  auto from = ledger::openStore("memory:");
  EXPECT_TRUE(from.isOk());
  ledger::PoolRecord root = testing_util::minimalPool("root");
  ledger::PoolRecord kids = testing_util::minimalPool("kids");  // sorts before its parent
  kids.parent = "root";
  kids.cidrs = {testing_util::prefix("192.0.2.0/26")};
  std::vector<ledger::Write> batch{ledger::PutPool{kids, 0}, ledger::PutPool{root, 0},
                                   ledger::PutToken{testing_util::fullToken("ops"), 0},
                                   ledger::PutDocument{{"webhook", "wh-1", "{}", 1, 5}, 0}};
  for (std::uint64_t id = 1; id <= 40; ++id) {
    batch.push_back(ledger::PutBinding{testing_util::minimalBinding(id), 0});
  }
  for (std::uint64_t seq = 1; seq <= 1100; ++seq) {
    batch.push_back(ledger::AppendEvent{testing_util::event(
        seq, 1'700'000'000'000 + static_cast<ledger::Millis>(seq), "binding.allocate", "ci",
        {"binding:" + std::to_string(seq % 40 + 1)})});
  }
  EXPECT_TRUE((*from)->apply(batch).isOk());
  return std::move(*from);
}

std::vector<std::string> allEvents(ledger::Store& s) {
  std::vector<std::string> out;
  ledger::EventQuery q;
  q.limit = 5000;
  auto events = s.queryEvents(q);
  EXPECT_TRUE(events.isOk());
  for (const auto& e : *events) out.push_back(render(e));
  return out;
}

TEST(CopyLedgerTest, AMemoryLedgerArrivesInEtcdRecordForRecordAndOnlyOnce) {
  registerBuiltinStores();
  testing_etcd::EtcdTestCluster cluster{1};
  ASSERT_TRUE(cluster.start()) << cluster.error();
  auto from = sourceLedger();
  auto to = ledger::openStore(cluster.url("moved"));
  ASSERT_TRUE(to.isOk()) << to.status().toString();
  auto copied = copyLedger(*from, **to);
  ASSERT_TRUE(copied.isOk()) << copied.status().toString();
  EXPECT_EQ(copied->pools, 2u);
  EXPECT_EQ(copied->bindings, 40u);
  EXPECT_EQ(copied->events, 1100u);
  auto a = from->load();
  auto b = (*to)->load();
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(render(a->pools.front()) + render(a->pools.back()),
            render(b->pools.front()) + render(b->pools.back()));
  ASSERT_EQ(b->bindings.size(), a->bindings.size());
  for (std::size_t i = 0; i < a->bindings.size(); ++i)
    EXPECT_EQ(render(a->bindings[i]), render(b->bindings[i]));
  EXPECT_EQ(render(a->tokens.at(0)), render(b->tokens.at(0)));
  EXPECT_EQ(b->documents.size(), 1u);
  EXPECT_EQ(allEvents(*from), allEvents(**to));
  EXPECT_EQ(b->last_event_seq, 1100u);

  auto again = copyLedger(*from, **to);
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_NE(again.status().message().find("not empty"), std::string::npos);
  EXPECT_EQ((*to)->load()->bindings.size(), 40u);
}

}  // namespace
}  // namespace netledger::store
