// Several netledgerd replicas on one real etcd cluster (members started by the test): any
// replica serves reads and writes, no address is ever handed out twice however the replicas
// race, a replica or an etcd member killed with SIGKILL loses nothing acknowledged.
#include <openssl/evp.h>
#include <algorithm>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness.h"
#include "integration/webhook_receiver.h"
#include "testing/etcd_cluster.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class ReplicasTest : public ::testing::Test {
 protected:
  void startEtcd(int members) {
    etcd_ = std::make_unique<testing_etcd::EtcdTestCluster>(members);
    ASSERT_TRUE(etcd_->start()) << etcd_->error();
  }
  // A replica on the cluster; replicas after the first use the first one's admin token.
  Server& addReplica() {
    auto s = std::make_unique<Server>();
    s->setExtraArgs({"--store", etcd_->url("it")});
    if (!replicas_.empty()) s->setAdminToken(replicas_.front()->adminToken());
    s->start();
    replicas_.push_back(std::move(s));
    return *replicas_.back();
  }
  static std::set<std::string> addressesOn(Server& s) {
    std::set<std::string> out;
    auto client = s.client();
    auto r = client->get("/v1/bindings?limit=1000");
    if (r.status != 200) return out;
    auto v = r.json();
    for (const auto& b : items(v)) {
      for (const auto& a : b.at("addresses").as_array()) out.insert(std::string(a.as_string()));
    }
    return out;
  }

  // Whether `s` says it is the elected replica (its netledger_leader gauge).
  static bool leads(Server& s) {
    auto r = s.client()->get("/metrics");
    return r.status == 200 && r.body.find("\nnetledger_leader 1") != std::string::npos;
  }

  // Declared first: destroyed last, after every replica stopped.
  std::unique_ptr<testing_etcd::EtcdTestCluster> etcd_;
  std::vector<std::unique_ptr<Server>> replicas_;
};

TEST_F(ReplicasTest, EveryReplicaServesAndNoAddressIsGivenTwice) {
  startEtcd(1);
  for (int i = 0; i < 3; ++i) addReplica();
  auto admin = replicas_[0]->client();
  ASSERT_EQ(
      admin->post("/v1/pools", json::parse(R"({"name":"web","cidr":"198.51.100.0/26"})")).status,
      201u);
  for (auto& r : replicas_) {
    ASSERT_TRUE(
        testing_util::eventually([&] { return r->client()->get("/v1/pools/web").status == 200; }));
  }
  // 3 clients per replica race for 62 addresses with 90 requests.
  std::mutex mu;
  std::map<std::string, std::string> holder;  // address -> instance
  std::vector<std::string> unexpected;
  std::atomic<int> created{0}, exhausted{0};
  std::vector<std::thread> clients;
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    for (int c = 0; c < 3; ++c) {
      clients.emplace_back([&, r, c] {
        auto client = replicas_[r]->client();
        for (int i = 0; i < 10; ++i) {
          std::string instance =
              "vm-" + std::to_string(r) + "-" + std::to_string(c) + "-" + std::to_string(i);
          json::object body{{"instance", instance}, {"pool", "web"}};
          auto res = client->post("/v1/bindings", body);
          std::lock_guard lock(mu);
          if (res.status == 201) {
            ++created;
            std::string ip = std::string(json::parse(res.body).at("addresses").at(0).as_string());
            if (!holder.emplace(ip, instance).second) unexpected.push_back("twice: " + ip);
          } else if (res.status == 409 && res.body.find("pool_exhausted") != std::string::npos) {
            ++exhausted;
          } else {
            unexpected.push_back(res.describe());
          }
        }
      });
    }
  }
  for (auto& t : clients) t.join();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " unexpected, first: " << unexpected[0];
  EXPECT_EQ(created.load(), 62);
  EXPECT_EQ(exhausted.load(), 90 - 62);
  EXPECT_EQ(holder.size(), 62u);
  // Every replica lists the same 62 addresses.
  std::set<std::string> expected;
  for (const auto& [ip, instance] : holder) expected.insert(ip);
  for (auto& r : replicas_) {
    EXPECT_TRUE(testing_util::eventually([&] { return addressesOn(*r) == expected; }))
        << "replica " << r->port();
  }
}

// Host ports are decided under each replica's ledger lock, and two replicas' concurrent batches
// cannot both commit (each appends the next event): the same race for one small range, across
// three replicas, hands out each port once.
TEST_F(ReplicasTest, ReplicasNeverHandOutAHostPortTwice) {
  startEtcd(1);
  for (int i = 0; i < 3; ++i) addReplica();
  auto admin = replicas_[0]->client();
  ASSERT_EQ(admin->post("/v1/pools", json::parse(R"({"name":"vms","cidr":"192.0.2.0/24"})")).status,
            201u);
  auto vm =
      admin->post("/v1/bindings", json::parse(R"({"instance":"vm","pool":"vms","host":"n1"})"));
  ASSERT_EQ(vm.status, 201u) << vm.describe();
  const std::string binding(vm.json().at("id").as_string());
  ASSERT_EQ(admin->request("PUT", "/v1/portranges/n1", R"({"first":42000,"last":42019})").status,
            200u);
  for (auto& r : replicas_) {
    ASSERT_TRUE(testing_util::eventually([&] {
      return r->client()->get("/v1/portranges").body.find("42000") != std::string::npos &&
             r->client()->get("/v1/bindings/" + binding).status == 200;
    }));
  }
  std::mutex mu;
  std::vector<std::int64_t> ports;
  std::vector<std::string> unexpected;
  int full = 0;
  std::vector<std::thread> clients;
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    for (int c = 0; c < 2; ++c) {
      clients.emplace_back([&, r] {
        auto client = replicas_[r]->client();
        for (int i = 0; i < 5; ++i) {
          auto res = client->request("POST", "/v1/portmaps",
                                     R"({"binding_id":)" + binding + R"(,"port":80})");
          std::lock_guard lock(mu);
          if (res.status == 201) {
            ports.push_back(res.json().at("host_port").as_int64());
          } else if (res.status == 409) {
            ++full;
          } else {
            unexpected.push_back(res.describe());
          }
        }
      });
    }
  }
  for (auto& t : clients) t.join();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " unexpected, first: " << unexpected[0];
  EXPECT_EQ(ports.size(), 20u);
  EXPECT_EQ(full, 10);
  EXPECT_EQ(std::set<std::int64_t>(ports.begin(), ports.end()).size(), ports.size());
  for (auto& r : replicas_) {
    EXPECT_TRUE(testing_util::eventually([&] {
      return items(r->client()->get("/v1/portmaps?node=n1").json()).size() == 20u;
    })) << "replica "
        << r->port();
  }
}

TEST_F(ReplicasTest, AKilledReplicaLosesNothingAndTheOthersKeepServing) {
  startEtcd(1);
  Server& a = addReplica();
  Server& b = addReplica();
  auto admin = a.client();
  ASSERT_EQ(
      admin->post("/v1/pools", json::parse(R"({"name":"web","cidr":"203.0.113.0/24"})")).status,
      201u);
  std::set<std::string> acked;
  for (int i = 0; i < 20; ++i) {
    auto res = admin->post("/v1/bindings",
                           json::object{{"instance", "a-" + std::to_string(i)}, {"pool", "web"}});
    ASSERT_EQ(res.status, 201u) << res.describe();
    acked.insert(std::string(json::parse(res.body).at("addresses").at(0).as_string()));
  }
  // An Idempotency-Key answered by a is answered the same by b (the kept answer is in etcd).
  const std::string hook = R"({"url":"http://127.0.0.1:9/h","events":["binding.allocate"]})";
  auto first = admin->request("POST", "/v1/webhooks", hook,
                              {{"Content-Type", "application/json"}, {"Idempotency-Key", "k1"}});
  ASSERT_EQ(first.status, 201u) << first.describe();
  a.kill9();
  auto on_b = b.client();
  std::this_thread::sleep_for(200ms);  // the feed brings the kept answer to b's memory
  auto replayed = on_b->request("POST", "/v1/webhooks", hook,
                                {{"Content-Type", "application/json"}, {"Idempotency-Key", "k1"}});
  EXPECT_EQ(replayed.body, first.body);
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
  for (int i = 0; i < 20; ++i) {
    auto res = on_b->post("/v1/bindings",
                          json::object{{"instance", "b-" + std::to_string(i)}, {"pool", "web"}});
    ASSERT_EQ(res.status, 201u) << res.describe();
    EXPECT_TRUE(
        acked.insert(std::string(json::parse(res.body).at("addresses").at(0).as_string())).second);
  }
  a.start();  // loads everything from etcd, its own acknowledged writes and b's
  EXPECT_EQ(addressesOn(a), acked);
  EXPECT_TRUE(testing_util::eventually([&] { return addressesOn(b) == acked; }));
}

TEST_F(ReplicasTest, AnEtcdMemberKilledMidLoadLosesNoAcknowledgedAllocation) {
  startEtcd(3);
  Server& a = addReplica();
  Server& b = addReplica();
  auto on_a = a.client();
  ASSERT_EQ(on_a->post("/v1/pools", json::parse(R"({"name":"web","cidr":"192.0.2.0/24"})")).status,
            201u);
  ASSERT_TRUE(
      testing_util::eventually([&] { return b.client()->get("/v1/pools/web").status == 200; }));
  std::set<std::string> acked;
  int uncertain = 0;  // 503s: the member died under the request, which may have committed
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> unexpected;
  auto load = [&](Server& s, const std::string& name) {
    auto client = s.client();
    for (int i = 0; i < 60 && !stop; ++i) {
      auto res = client->post(
          "/v1/bindings", json::object{{"instance", name + std::to_string(i)}, {"pool", "web"}});
      std::lock_guard lock(mu);
      if (res.status == 201) {
        if (!acked.insert(std::string(json::parse(res.body).at("addresses").at(0).as_string()))
                 .second) {
          unexpected.push_back("twice");
        }
      } else if (res.status == 503) {  // honest while the cluster elects: outcome unknown
        ++uncertain;
      } else {
        unexpected.push_back(res.describe());
      }
    }
  };
  std::thread ta(load, std::ref(a), "a-"), tb(load, std::ref(b), "b-");
  std::this_thread::sleep_for(300ms);
  etcd_->kill(0);  // the member both replicas talk to first
  ta.join();
  tb.join();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << ", first: " << unexpected[0];
  EXPECT_GT(acked.size(), 60u);
  // A replica started now, with member 0 still dead, sees every acknowledged allocation, and
  // at most one more per request whose answer was lost with the member.
  Server& late = addReplica();
  const std::set<std::string> stored = addressesOn(late);
  EXPECT_TRUE(std::includes(stored.begin(), stored.end(), acked.begin(), acked.end()));
  EXPECT_LE(stored.size(), acked.size() + static_cast<std::size_t>(uncertain));
  ASSERT_TRUE(etcd_->restart(0)) << etcd_->error();
  EXPECT_TRUE(testing_util::eventually(
      [&] { return addressesOn(a) == stored && addressesOn(b) == stored; }));
}

}  // namespace
}  // namespace netledger::it

namespace netledger::it {
namespace {

// The work that must run once: one replica is elected, it alone delivers webhooks (each event
// once, whichever replica wrote it, to a subscription another replica created), and when it is
// killed another takes over within the lease TTL (3 s) + 1 s and delivers from then on.
TEST_F(ReplicasTest, OneElectedReplicaDeliversEachEventOnceAndAnotherTakesOverWhenItDies) {
  startEtcd(1);
  Server& a = addReplica();
  Server& b = addReplica();
  ASSERT_TRUE(testing_util::eventually([&] { return leads(a) != leads(b); }))
      << "exactly one should lead";
  Server& leader = leads(a) ? a : b;
  Server& other = leads(a) ? b : a;
  Receiver receiver;
  // Created on the replica that does not deliver: the leader learns of it through the feed.
  auto hook = other.client()->post(
      "/v1/webhooks",
      json::object{{"url", receiver.url()}, {"events", json::array{"binding.allocate"}}});
  ASSERT_EQ(hook.status, 201u) << hook.describe();
  auto pool = leader.client()->post("/v1/pools",
                                    json::object{{"name", "web"}, {"cidr", "198.51.100.0/24"}});
  ASSERT_EQ(pool.status, 201u) << pool.describe();
  ASSERT_TRUE(
      testing_util::eventually([&] { return other.client()->get("/v1/pools/web").status == 200; }));
  for (int i = 0; i < 5; ++i) {
    for (Server* s : {&a, &b}) {
      auto r = s->client()->post(
          "/v1/bindings",
          json::object{{"instance", "vm-" + std::to_string(s->port() * 10 + i)}, {"pool", "web"}});
      ASSERT_EQ(r.status, 201u) << r.describe();
    }
  }
  auto hits = receiver.waitFor(10);
  std::this_thread::sleep_for(1s);  // a second delivery of anything would have come by now
  hits = receiver.waitFor(10, 0ms);
  std::set<std::string> ids;
  for (const auto& h : hits) ids.insert(h.headers.at("x-netledger-delivery") + "/" + h.body);
  EXPECT_EQ(hits.size(), 10u) << "each allocation once, by the leader alone";
  EXPECT_EQ(ids.size(), hits.size());

  leader.kill9();
  const auto t0 = std::chrono::steady_clock::now();
  while (!leads(other) && std::chrono::steady_clock::now() - t0 < 10s)
    std::this_thread::sleep_for(25ms);
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_TRUE(leads(other)) << "nobody took over";
  EXPECT_LT(took.count(), 4000) << "takeover within the lease TTL + 1 s";
  RecordProperty("takeover_ms", static_cast<int>(took.count()));
  auto r =
      other.client()->post("/v1/bindings", json::object{{"instance", "after"}, {"pool", "web"}});
  ASSERT_EQ(r.status, 201u) << r.describe();
  EXPECT_EQ(receiver.waitFor(11).size(), 11u) << "the new leader delivers";
}

// Deliveries the leader still owed when it died (its receiver answering 503, so they wait for
// a retry) are made by the replica that takes over, with the same delivery ids.
TEST_F(ReplicasTest, DeliveriesADeadLeaderOwedAreMadeByItsSuccessorWithTheSameIds) {
  startEtcd(1);
  Server& a = addReplica();
  Server& b = addReplica();
  ASSERT_TRUE(testing_util::eventually([&] { return leads(a) != leads(b); }));
  Server& leader = leads(a) ? a : b;
  Server& other = leads(a) ? b : a;
  Receiver receiver;
  receiver.setStatus(503);
  auto hook = other.client()->post(
      "/v1/webhooks",
      json::object{{"url", receiver.url()}, {"events", json::array{"binding.allocate"}}});
  ASSERT_EQ(hook.status, 201u) << hook.describe();
  auto pool =
      other.client()->post("/v1/pools", json::object{{"name", "web"}, {"cidr", "198.51.100.0/24"}});
  ASSERT_EQ(pool.status, 201u) << pool.describe();
  for (int i = 0; i < 3; ++i) {
    auto r = other.client()->post(
        "/v1/bindings", json::object{{"instance", "vm-" + std::to_string(i)}, {"pool", "web"}});
    ASSERT_EQ(r.status, 201u) << r.describe();
  }
  auto first = receiver.waitFor(3);
  ASSERT_GE(first.size(), 3u) << "the leader's first attempts";
  std::set<std::string> owed;
  for (const auto& h : first) owed.insert(h.headers.at("x-netledger-delivery"));
  ASSERT_EQ(owed.size(), 3u);
  std::this_thread::sleep_for(1500ms);  // the leader stores its cursor (below the three)
  leader.kill9();
  const std::size_t before = receiver.waitFor(0, 0ms).size();
  receiver.setStatus(200);
  ASSERT_TRUE(testing_util::eventually([&] { return leads(other); }, 10s)) << "no takeover";
  std::set<std::string> again;
  ASSERT_TRUE(testing_util::eventually(
      [&] {
        auto hits = receiver.waitFor(before + 3, 100ms);
        for (std::size_t i = before; i < hits.size(); ++i)
          again.insert(hits[i].headers.at("x-netledger-delivery"));
        return again == owed;
      },
      20s))
      << "the successor sent " << again.size() << " of the 3 owed deliveries";
}

// /v1/events serves every replica's events in one order, the same from every replica: live
// subscribers miss none of another replica's events while replicas commit at once, and a
// Last-Event-ID taken from one replica resumes on another with nothing missing or repeated.
TEST_F(ReplicasTest, EveryReplicaStreamsTheSameEventsInOneGlobalOrder) {
  startEtcd(1);
  for (int i = 0; i < 3; ++i) addReplica();
  auto pool = replicas_[0]->client()->post(
      "/v1/pools", json::object{{"name", "web"}, {"cidr", "198.51.100.0/24"}});
  ASSERT_EQ(pool.status, 201u) << pool.describe();
  for (auto& r : replicas_) {
    ASSERT_TRUE(
        testing_util::eventually([&] { return r->client()->get("/v1/pools/web").status == 200; }));
  }
  constexpr std::size_t kPerClient = 15, kClients = 6;  // two per replica
  constexpr std::size_t kEvents = kPerClient * kClients;
  // Live readers, subscribed before the load.
  std::vector<std::vector<SseEvent>> live(replicas_.size());
  std::vector<std::thread> readers;
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    readers.emplace_back([&, r] {
      live[r] =
          readSseEvents(replicas_[r]->port(), replicas_[r]->adminToken(), "binding.*", "", kEvents);
    });
  }
  std::this_thread::sleep_for(500ms);  // the readers' GETs are in
  std::atomic<int> created{0};
  std::vector<std::thread> clients;
  for (std::size_t c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = replicas_[c % replicas_.size()]->client();
      for (std::size_t i = 0; i < kPerClient; ++i) {
        json::object body{{"instance", "vm-" + std::to_string(c) + "-" + std::to_string(i)},
                          {"pool", "web"}};
        if (client->post("/v1/bindings", body).status == 201) ++created;
      }
    });
  }
  for (auto& t : clients) t.join();
  for (auto& t : readers) t.join();
  ASSERT_EQ(created.load(), static_cast<int>(kEvents));
  // The whole log replayed from the start, from each replica: the same, in increasing ids.
  std::vector<std::vector<SseEvent>> replay;
  for (auto& r : replicas_)
    replay.push_back(readSseEvents(r->port(), r->adminToken(), "binding.*", "1", kEvents));
  ASSERT_EQ(replay[0].size(), kEvents);
  std::set<std::string> data;
  for (std::size_t i = 0; i < kEvents; ++i) {
    data.insert(replay[0][i].data);
    if (i > 0) {
      EXPECT_LT(std::stoull(replay[0][i - 1].id), std::stoull(replay[0][i].id));
    }
  }
  EXPECT_EQ(data.size(), kEvents) << "no event twice";
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    EXPECT_EQ(replay[r], replay[0]) << "replica " << r << " replays another order";
    EXPECT_EQ(live[r], replay[0]) << "replica " << r << " streamed live another order or missed "
                                  << kEvents - live[r].size();
  }
  // Resume on another replica from an id the first one gave.
  const std::size_t half = kEvents / 2;
  auto rest = readSseEvents(replicas_[1]->port(), replicas_[1]->adminToken(), "binding.*",
                            replay[0][half - 1].id, kEvents - half);
  EXPECT_EQ(rest, std::vector<SseEvent>(replay[0].begin() + half, replay[0].end()));
}

// With its only etcd member gone, a replica says it is not ready and refuses writes with 503 and
// Retry-After (never an acknowledgement etcd does not have); reads go on from memory.
TEST_F(ReplicasTest, WithoutQuorumReadyzFailsWritesAre503AndReadsAreServed) {
  startEtcd(1);
  Server& a = addReplica();
  auto client = a.client();
  ASSERT_EQ(
      client->post("/v1/pools", json::object{{"name", "web"}, {"cidr", "192.0.2.0/24"}}).status,
      201u);
  EXPECT_EQ(client->get("/readyz").status, 200u);
  etcd_->kill(0);
  ASSERT_TRUE(testing_util::eventually([&] { return a.client()->get("/readyz").status == 503; }));
  auto ready = a.client()->get("/readyz");
  EXPECT_NE(ready.body.find("quorum"), std::string::npos) << ready.body;
  auto write = a.client()->post("/v1/bindings", json::object{{"instance", "x"}, {"pool", "web"}});
  EXPECT_EQ(write.status, 503u) << write.describe();
  EXPECT_EQ(write.header("Retry-After"), "1");
  EXPECT_EQ(a.client()->get("/v1/pools/web").status, 200u);
  ASSERT_TRUE(etcd_->restart(0)) << etcd_->error();
  ASSERT_TRUE(testing_util::eventually([&] { return a.client()->get("/readyz").status == 200; }));
  // As a client honouring Retry-After would: writes are taken again within seconds.
  HttpResponse after;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing_util::eventually([&] {
    after = a.client()->post("/v1/bindings", json::object{{"instance", "x"}, {"pool", "web"}});
    return after.status == 201;
  })) << after.describe();
  RecordProperty("writes_back_after_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - t0)
                                      .count()));
  // The refused write left nothing behind: one binding, the one made after.
  EXPECT_EQ(addressesOn(a).size(), 1u);
}

}  // namespace
}  // namespace netledger::it

namespace netledger::it {
namespace {

// Runs a command; its exit status and everything it printed.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, ""};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A single-node ledger moved into etcd: every record, event, id and token comes along, the
// replicas serve it as it was, new ids follow the old ones, and a second migration into the
// now non-empty prefix is refused naming what is there.
TEST_F(ReplicasTest, ASingleNodeLedgerMigratesIntoEtcdWhole) {
  startEtcd(1);
  Server single;
  single.start();
  auto c = single.client();
  ASSERT_EQ(c->post("/v1/pools", json::object{{"name", "web"}, {"cidr", "192.0.2.0/24"}}).status,
            201u);
  std::set<std::string> held;
  std::uint64_t last_id = 0;
  for (int i = 0; i < 12; ++i) {
    auto r =
        c->post("/v1/bindings", json::object{{"instance", "vm-" + std::to_string(i)},
                                             {"pool", "web"},
                                             {"mac", "52:54:00:00:10:" + std::to_string(10 + i)}});
    ASSERT_EQ(r.status, 201u) << r.describe();
    auto v = r.json();
    held.insert(std::string(v.at("addresses").at(0).as_string()));
    last_id = std::max<std::uint64_t>(last_id, num(v, "id"));
  }
  // The newest binding is released: its id must not be handed out again after the move.
  ASSERT_EQ(c->request("DELETE", "/v1/bindings/" + std::to_string(last_id)).status, 200u);
  held.clear();
  const json::value listed = c->get("/v1/bindings?limit=100").json();
  for (const auto& b : items(listed)) held.insert(std::string(b.at("addresses").at(0).as_string()));
  auto audit_before = c->get("/v1/audit?limit=1000");
  ASSERT_EQ(single.stop(), 0);

  const std::string migrate = netledgerdPath() + " --data-dir " + single.root() + "/m --store " +
                              etcd_->url("it") + " --migrate-from sqlite:" + single.dataDir() +
                              "/ledger.db";
  auto [code, out] = run(migrate);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("1 pools"), std::string::npos) << out;
  EXPECT_NE(out.find("11 bindings"), std::string::npos) << out;

  // A replica on the migrated prefix creates no token: the single node's admin token is the one.
  auto replica = std::make_unique<Server>();
  replica->setExtraArgs({"--store", etcd_->url("it")});
  replica->setAdminToken(single.adminToken());
  replica->start();
  replicas_.push_back(std::move(replica));
  Server& a = *replicas_.back();
  auto on_a = a.client();
  EXPECT_EQ(addressesOn(a), held);
  const json::value before = audit_before.json(), after = on_a->get("/v1/audit?limit=1000").json();
  EXPECT_EQ(items(after).size(), items(before).size());
  EXPECT_EQ(items(after).size(), 15u);  // the admin token, the pool, 12 allocations, 1 release
  auto fresh = on_a->post("/v1/bindings", json::object{{"instance", "after"}, {"pool", "web"}});
  ASSERT_EQ(fresh.status, 201u) << fresh.describe();
  const json::value made = fresh.json();
  EXPECT_GT(static_cast<std::uint64_t>(num(made, "id")), last_id);
  EXPECT_EQ(held.count(std::string(made.at("addresses").at(0).as_string())), 0u);

  auto [again, why] = run(migrate);
  EXPECT_EQ(again, 1) << why;
  EXPECT_NE(why.find("not empty"), std::string::npos) << why;
}

// etcd's JSON gateway takes keys and values in base64.
std::string base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  return out;
}

std::string seq20(std::uint64_t n) {
  std::string digits = std::to_string(n);
  return std::string(20 - digits.size(), '0') + digits;
}

// The events of `path` on `s` (an audit or export page), as their seqs.
std::vector<std::string> seqsOf(Server& s, const std::string& path, const char* list) {
  std::vector<std::string> out;
  auto r = s.client()->get(path);
  if (r.status != 200) return {"status " + std::to_string(r.status)};
  const json::value page = json::parse(r.body);
  for (const auto& e : page.at(list).as_array()) out.push_back(json::serialize(e.at("seq")));
  return out;
}

TEST_F(ReplicasTest, AReplicaAddedAfterEtcdsLogWasPrunedCopiesTheOlderHistoryFromAPeer) {
  startEtcd(1);
  const std::string store = etcd_->url("it") + "?log-hours=1";
  Server a;
  a.setExtraArgs({"--store", store});
  a.start();
  // Three events a replica wrote three hours ago, as the etcd store keeps them under ev/.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  HttpClient gateway(static_cast<std::uint16_t>(std::stoi(etcd_->endpoints().substr(10))));
  for (std::uint64_t seq = 900001; seq <= 900003; ++seq) {
    json::object event{{"seq", seq},
                       {"time", now - 3 * 3'600'000 + static_cast<std::int64_t>(seq % 10)},
                       {"actor", "token:old"},
                       {"op", "binding.allocate"},
                       {"subject", "binding:" + std::to_string(seq)},
                       {"keys", json::array{"ip:198.51.100.7"}},
                       {"before", ""},
                       {"after", ""}};
    json::object put{{"key", base64("/it/ev/" + seq20(seq))},
                     {"value", base64(json::serialize(event))}};
    ASSERT_EQ(gateway.post("/v3/kv/put", put).status, 200u);
  }
  const std::string audit = "/v1/audit?ip=198.51.100.7";
  const std::vector<std::string> all{"900003", "900002", "900001"};
  ASSERT_TRUE(testing_util::eventually([&] { return seqsOf(a, audit, "items") == all; }))
      << "the watch brings them into a's archive";
  // a's export pages them by seq, each with its history keys.
  const std::string before = "before=" + std::to_string(now / 1000 - 3600);
  auto page = a.client()->get("/v1/history/export?" + before + "&limit=2");
  ASSERT_EQ(page.status, 200u) << page.describe();
  auto first = json::parse(page.body);
  EXPECT_EQ(first.at("events").as_array().size(), 2u);
  EXPECT_EQ(first.at("events").at(0).at("keys").at(0), "ip:198.51.100.7");
  EXPECT_EQ(first.at("next_after_seq"), "900002");
  EXPECT_EQ(seqsOf(a, "/v1/history/export?" + before + "&after_seq=900002", "events"),
            std::vector<std::string>{"900003"});
  EXPECT_EQ(a.client()->get("/v1/history/export?after_seq=x").status, 400u);

  // etcd's log drops them, as the elected replica's prune does (with the mark of their seqs).
  ASSERT_EQ(gateway
                .post("/v3/kv/deleterange",
                      json::object{{"key", base64("/it/ev/")}, {"range_end", base64("/it/ev0")}})
                .status,
            200u);
  ASSERT_EQ(gateway
                .post("/v3/kv/put",
                      json::object{{"key", base64("/it/hw/seq/" + seq20(900003))}, {"value", ""}})
                .status,
            200u);

  // A replica added now, without a peer, says its history is incomplete; with a peer, it copies
  // them and answers as a does.
  Server alone;
  alone.setAdminToken(a.adminToken());
  alone.setExtraArgs({"--store", store});
  alone.start();
  const std::string token_file = a.root() + "/peer-token";
  {
    std::ofstream out(token_file);
    out << a.adminToken() << "\n";
  }
  Server b;
  b.setAdminToken(a.adminToken());
  b.setExtraArgs({"--store", store, "--history-peer",
                  "http://127.0.0.1:1,http://127.0.0.1:" + std::to_string(a.port()),
                  "--history-peer-token-file", token_file});
  b.start();
  auto complete = [](Server& s) {
    auto r = s.client()->get("/metrics");
    return r.body.find("\nnetledger_history_complete 1") != std::string::npos;
  };
  ASSERT_TRUE(testing_util::eventually([&] { return complete(b); }, std::chrono::seconds(20)))
      << b.log();
  EXPECT_EQ(seqsOf(b, audit, "items"), all);
  EXPECT_FALSE(complete(alone));
  EXPECT_TRUE(seqsOf(alone, audit, "items").empty());
  EXPECT_EQ(alone.client()->get("/v1/history/export").status, 503u)
      << "an incomplete history is not handed on as the whole";
  // A malformed peer URL is refused at start, by name.
  Server bad;
  bad.setExtraArgs(
      {"--store", store, "--history-peer", "not a url", "--history-peer-token-file", token_file});
  EXPECT_THROW(bad.start(), std::runtime_error);
  EXPECT_NE(bad.log().find("history_peer"), std::string::npos) << bad.log();
}

}  // namespace
}  // namespace netledger::it
