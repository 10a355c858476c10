// The etcd store's election against a real etcd member: one follower leads at a time, a leader
// that leaves hands over at once, and a leader whose key is gone (its lease expired while it was
// paused, or an operator deleted it) cannot commit: its transactions are fenced on the key.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ledger/store.h"
#include "store/etcd/etcd_client.h"
#include "store/register.h"
#include "store/store_test_util.h"
#include "testing/etcd_cluster.h"

namespace netledger::store {
namespace {

using namespace std::chrono_literals;

class EtcdLeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinStores();
    ASSERT_TRUE(cluster_.start()) << cluster_.error();
  }
  std::unique_ptr<ledger::Store> follower() {
    auto s = ledger::openStore(cluster_.url("lead"));
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    if (!s.isOk()) return nullptr;
    EXPECT_TRUE((*s)->load().isOk());
    EXPECT_TRUE((*s)->follow([](std::vector<ledger::Write>&&) { return Status::ok(); }).isOk());
    return std::move(*s);
  }
  // How long until exactly one of `stores` leads (nullopt: not within `limit`).
  template <typename Stores>
  std::optional<std::chrono::milliseconds> untilOneLeads(const Stores& stores,
                                                         std::chrono::milliseconds limit) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < limit) {
      int leaders = 0;
      for (const auto* s : stores) leaders += s->leading() ? 1 : 0;
      EXPECT_LE(leaders, 1);
      if (leaders == 1) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - t0);
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }
  std::unique_ptr<etcd::EtcdClient> rawClient() {
    auto target = etcd::parseEtcdUrl("etcd", "//" + cluster_.endpoints());
    auto client = etcd::EtcdClient::connect(*target, {});
    return client.isOk() ? std::move(*client) : nullptr;
  }

  testing_etcd::EtcdTestCluster cluster_{1};
};

TEST_F(EtcdLeaderTest, OneLeadsAndALeaderThatLeavesHandsOverAtOnce) {
  auto a = follower();
  auto b = follower();
  auto c = follower();
  ASSERT_TRUE(a && b && c);
  std::vector<ledger::Store*> all{a.get(), b.get(), c.get()};
  ASSERT_TRUE(untilOneLeads(all, 5s)) << "nobody was elected";
  // Still exactly one a while later (the leader keeps its lease alive past its TTL).
  std::this_thread::sleep_for(4s);
  ASSERT_TRUE(untilOneLeads(all, 100ms));
  auto it = std::find_if(all.begin(), all.end(), [](auto* s) { return s->leading(); });
  (*it)->stopFollowing();  // revokes the lease
  all.erase(it);
  auto took = untilOneLeads(all, 3s);
  ASSERT_TRUE(took) << "nobody took over";
  EXPECT_LT(took->count(), 1500) << "a revoked lease should be taken over at the next look";
  for (auto* s : all) s->stopFollowing();
}

TEST_F(EtcdLeaderTest, ALeaderWhoseKeyIsGoneCannotCommitAndStepsDown) {
  auto a = follower();
  ASSERT_TRUE(a);
  std::vector<ledger::Store*> only{a.get()};
  ASSERT_TRUE(untilOneLeads(only, 5s));
  // As if its lease had expired unseen: the key goes, and a rival's takes its place.
  auto raw = rawClient();
  ASSERT_TRUE(raw);
  const std::string key = "/lead/leader";
  ASSERT_TRUE(raw->txn({}, {{true, key, {}}}).isOk());
  ASSERT_TRUE(raw->txn({}, {{false, key, "rival"}}).isOk());
  Status s = a->apply({ledger::PutPool{testing_util::minimalPool("late"), 0}});
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.toString();
  EXPECT_NE(s.message().find("leadership"), std::string::npos) << s.toString();
  EXPECT_FALSE(a->leading());
  auto loaded = a->load();
  ASSERT_TRUE(loaded.isOk());
  EXPECT_TRUE(loaded->pools.empty()) << "the fenced write must not have landed";
  // Once the rival's key is gone, it is elected again and writes.
  ASSERT_TRUE(raw->txn({}, {{true, key, {}}}).isOk());
  ASSERT_TRUE(untilOneLeads(only, 5s));
  NL_ASSERT_OK(a->apply({ledger::PutPool{testing_util::minimalPool("again"), 0}}));
  a->stopFollowing();
}

TEST_F(EtcdLeaderTest, HealthFailsWhenEtcdIsGoneAndReturnsWithIt) {
  auto a = follower();
  ASSERT_TRUE(a);
  std::this_thread::sleep_for(1s);
  NL_ASSERT_OK(a->health());
  cluster_.kill(0);
  const auto t0 = std::chrono::steady_clock::now();
  while (a->health().isOk() && std::chrono::steady_clock::now() - t0 < 10s)
    std::this_thread::sleep_for(50ms);
  Status down = a->health();
  EXPECT_EQ(down.code(), StatusCode::kUnavailable);
  EXPECT_NE(down.message().find("quorum"), std::string::npos) << down.toString();
  EXPECT_FALSE(a->leading());
  ASSERT_TRUE(cluster_.restart(0)) << cluster_.error();
  const auto t1 = std::chrono::steady_clock::now();
  while (!a->health().isOk() && std::chrono::steady_clock::now() - t1 < 15s)
    std::this_thread::sleep_for(50ms);
  NL_ASSERT_OK(a->health());
  a->stopFollowing();
}

}  // namespace
}  // namespace netledger::store
