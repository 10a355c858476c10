// Two replicas' engines over one ledger on a real etcd: a conflict one of them opens is listed,
// acknowledged and added to on the other, both follow a policy set on either, and conflicts
// opened on both at once never share an id. Each replica is wired as netledgerd wires it: its
// Ledger's document listener feeds its Engine (the worker takes the changes in).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <vector>

#include "engine/engine.h"
#include "engine/ledger_adapter.h"
#include "ledger/ledger.h"
#include "store/register.h"
#include "testing/etcd_cluster.h"
#include "testing/eventually.h"

namespace netledger::engine {
namespace {

using testing_util::eventually;

constexpr const char* kReplicaMac1 = "52:54:00:00:00:01";
constexpr const char* kReplicaMac2 = "52:54:00:00:00:02";
constexpr const char* kReplicaMac3 = "52:54:00:00:00:03";

struct Replica {
  std::unique_ptr<ledger::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<LedgerAdapter> port;
  std::unique_ptr<Engine> engine;
  std::atomic<Engine*> live{nullptr};  // what the ledger's feed thread hands changes to
};

class EngineReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::registerBuiltinStores();
    ASSERT_TRUE(cluster_.start()) << cluster_.error();
    for (int i = 0; i < 2; ++i) ASSERT_NO_FATAL_FAILURE(add());
  }
  void TearDown() override {
    for (auto& r : replicas_) {
      r->engine->stop();
      r->ledger->close();
    }
  }

  void add() {
    auto s = ledger::openStore(cluster_.url("engines"));
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    auto r = std::make_unique<Replica>();
    r->store = std::move(*s);
    r->ledger = std::make_unique<ledger::Ledger>(*r->store, SystemClock::instance());
    Replica* self = r.get();
    r->ledger->setDocumentListener({Engine::kConflictKind, Engine::kPolicyKind},
                                   [self](ledger::Ledger::DocumentChanges changes) {
                                     if (auto* e = self->live.load()) e->documentsChanged(changes);
                                   });
    ASSERT_TRUE(r->ledger->open().isOk());
    r->port = std::make_unique<LedgerAdapter>(*r->ledger);
    EngineOptions options;
    options.writer_slot = r->store->writerSlot();
    r->engine = std::make_unique<Engine>(*r->port, SystemClock::instance(), options);
    r->live = r->engine.get();
    ASSERT_TRUE(r->engine->open().isOk());
    r->engine->start();
    replicas_.push_back(std::move(r));
  }

  Engine& engine(int i) { return *replicas_[i]->engine; }

  // Two MACs claiming `ip` on replica `i`: a duplicate_ip conflict there.
  void duplicate(int i, const char* ip, const char* m1, const char* m2) {
    for (const char* m : {m1, m2}) {
      Observation o;
      o.ip = addr::IpAddress::parse(ip).value();
      o.mac = addr::Mac::parse(m).value();
      o.network = "lab";
      o.source = Source::kArp;
      o.kind = FrameKind::kArpReply;
      o.time = engine(i).now();
      ASSERT_TRUE(engine(i).submit({o}).isOk());
    }
    engine(i).drain();
  }
  std::vector<Conflict> unresolved(int i) {
    ConflictFilter f;
    f.kind = ConflictKind::kDuplicateIp;
    auto page = engine(i).list(f, "", 1000);
    EXPECT_TRUE(page.isOk());
    std::vector<Conflict> out;
    if (!page.isOk()) return out;
    for (auto& c : page->items) {
      if (c.status != ConflictStatus::kResolved) out.push_back(std::move(c));
    }
    return out;
  }
  static ledger::Applied<Conflict> durable(Replica& r, Result<ledger::Applied<Conflict>> got) {
    EXPECT_TRUE(got.isOk()) << got.status().toString();
    if (!got.isOk()) return {};
    EXPECT_TRUE(r.ledger->waitDurable(got->ticket).isOk());
    return *got;
  }

  testing_etcd::EtcdTestCluster cluster_{1};
  std::vector<std::unique_ptr<Replica>> replicas_;
  ledger::Actor ops_{"ops", ledger::Role::kOperator, {}};
  ledger::Actor admin_{"root", ledger::Role::kAdmin, {}};
};

TEST_F(EngineReplicasTest, AConflictOpenedOnOneIsListedAcknowledgedAndJoinedOnTheOther) {
  ASSERT_NO_FATAL_FAILURE(duplicate(0, "192.0.2.10", kReplicaMac1, kReplicaMac2));
  ASSERT_EQ(unresolved(0).size(), 1u);
  const std::uint64_t id = unresolved(0)[0].id;
  ASSERT_TRUE(eventually([&] { return engine(1).get(id).isOk(); }))
      << "the other replica's engine never learned of the conflict";
  EXPECT_EQ(engine(1).get(id)->subject, "ip:192.0.2.10");

  // Acknowledged on the second replica: the first one's engine follows.
  durable(*replicas_[1], engine(1).acknowledge(ops_, id, "looking"));
  ASSERT_TRUE(eventually([&] {
    auto c = engine(0).get(id);
    return c.isOk() && c->status == ConflictStatus::kAcknowledged;
  }));

  // New evidence seen by the second replica joins the same conflict: no second one opens.
  ASSERT_NO_FATAL_FAILURE(duplicate(1, "192.0.2.10", kReplicaMac1, kReplicaMac3));
  EXPECT_EQ(unresolved(1).size(), 1u);
  EXPECT_EQ(unresolved(1)[0].id, id);
  EXPECT_EQ(unresolved(1)[0].macs.size(), 3u);

  // Resolved on the first: resolved on both.
  durable(*replicas_[0], engine(0).resolve(ops_, id, "fixed"));
  ASSERT_TRUE(eventually([&] { return unresolved(1).empty(); }));
}

TEST_F(EngineReplicasTest, APolicySetOnOneReplicaGovernsTheOther) {
  auto ticket =
      engine(0).setPolicies(admin_, {{ConflictKind::kDuplicateIp, Policy::kQuarantineAndReassign}});
  ASSERT_TRUE(ticket.isOk()) << ticket.status().toString();
  ASSERT_TRUE(replicas_[0]->ledger->waitDurable(*ticket).isOk());
  EXPECT_TRUE(eventually([&] {
    return engine(1).policies().at(ConflictKind::kDuplicateIp) == Policy::kQuarantineAndReassign;
  }));
}

TEST_F(EngineReplicasTest, ConflictsOpenedOnBothAtOnceNeverShareAnId) {
  for (int round = 0; round < 10; ++round) {
    const std::string a = "192.0.2." + std::to_string(20 + round);
    const std::string b = "198.51.100." + std::to_string(20 + round);
    ASSERT_NO_FATAL_FAILURE(duplicate(0, a.c_str(), kReplicaMac1, kReplicaMac2));
    ASSERT_NO_FATAL_FAILURE(duplicate(1, b.c_str(), kReplicaMac1, kReplicaMac2));
  }
  // Every conflict is on both replicas, each under an id of its own.
  ASSERT_TRUE(eventually([&] { return unresolved(0).size() == 20 && unresolved(1).size() == 20; }))
      << unresolved(0).size() << " and " << unresolved(1).size();
  std::set<std::uint64_t> ids;
  std::set<std::string> subjects;
  for (const auto& c : unresolved(0)) {
    ids.insert(c.id);
    subjects.insert(c.subject);
    auto there = engine(1).get(c.id);
    ASSERT_TRUE(there.isOk());
    EXPECT_EQ(there->subject, c.subject);
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(subjects.size(), 20u);
}

}  // namespace
}  // namespace netledger::engine
