// Many clients at once: no address is handed out twice, exhaustion is exact, and it all
// survives a restart.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/harness.h"

namespace netledger::it {
namespace {

TEST_F(ServerTest, SixtyFourClientsExhaustASlash24) {
  createPool(obj({{"name", "c24"}, {"cidr", "192.0.2.0/24"}}));
  constexpr int kClients = 64;
  struct Outcome {
    std::vector<std::string> addresses;
    int exhausted = 0;
    std::vector<std::string> unexpected;
    int connects = 0;
  };
  std::vector<Outcome> outcomes(kClients);
  std::atomic<int> connected{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Outcome& out = outcomes[t];
      HttpClient client(server_.port(), server_.adminToken());
      std::string err;
      // Open the keep-alive connection first, so all 64 start allocating together.
      if (!client.tryRequest("GET", "/readyz", {}, {}, &err)) out.unexpected.push_back(err);
      connected.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 1000; ++i) {
        auto body = json::serialize(obj(
            {{"instance", "c" + std::to_string(t) + "-" + std::to_string(i)}, {"pool", "c24"}}));
        auto r = client.tryRequest("POST", "/v1/bindings", body, {}, &err);
        if (!r) {
          out.unexpected.push_back("transport: " + err);
          break;
        }
        if (r->status == 201) {
          out.addresses.push_back(strings(r->json(), "addresses").at(0));
          continue;
        }
        if (isProblem(*r, 409, "pool_exhausted", "c24")) {
          ++out.exhausted;
        } else {
          out.unexpected.push_back(r->describe());
        }
        break;
      }
      out.connects = client.connects();
    });
  }
  while (connected.load() < kClients) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();

  std::set<std::string> distinct;
  std::size_t total = 0;
  int exhausted = 0;
  for (int t = 0; t < kClients; ++t) {
    const auto& o = outcomes[t];
    EXPECT_TRUE(o.unexpected.empty()) << "client " << t << ": " << o.unexpected.front();
    EXPECT_EQ(o.connects, 1) << "client " << t << " lost its keep-alive connection";
    total += o.addresses.size();
    exhausted += o.exhausted;
    distinct.insert(o.addresses.begin(), o.addresses.end());
  }
  EXPECT_EQ(total, 254u);
  EXPECT_EQ(distinct.size(), total) << "an address was handed out twice";
  EXPECT_EQ(exhausted, kClients) << "every client ends on 409 pool_exhausted";
  ASSERT_FALSE(distinct.empty());
  EXPECT_EQ(*distinct.begin(), "192.0.2.1");
  for (const auto& a : distinct) {
    EXPECT_EQ(a.rfind("192.0.2.", 0), 0u) << a;
    EXPECT_NE(a, "192.0.2.0");
    EXPECT_NE(a, "192.0.2.255");
  }
  auto pool = mustGet("/v1/pools/c24");
  EXPECT_EQ(num(pool.at("utilization"), "used"), 254);
  EXPECT_EQ(num(pool.at("utilization"), "free"), 0);

  // Durable: after SIGTERM and a fresh start the same 254 bindings are there.
  EXPECT_EQ(server_.stop(), 0);
  server_.start();
  api_ = server_.client();
  pool = mustGet("/v1/pools/c24");
  EXPECT_EQ(num(pool.at("utilization"), "used"), 254);
  EXPECT_EQ(num(pool, "bindings"), 254);
  auto all = allBindings(*api_, 100);
  std::set<std::string> listed;
  for (const auto& b : all) listed.insert(strings(b, "addresses").at(0));
  EXPECT_EQ(all.size(), 254u);
  EXPECT_EQ(listed, distinct);
  EXPECT_TRUE(isProblem(api_->post("/v1/bindings", obj({{"instance", "late"}, {"pool", "c24"}})),
                        409, "pool_exhausted"));
}

// Runs `body(t, client)` on `n` threads at once, each with its own keep-alive connection.
template <typename Fn>
void together(const Server& server, int n, Fn body) {
  std::atomic<int> connected{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(server.port(), server.adminToken());
      std::string err;
      (void)client.tryRequest("GET", "/readyz", {}, {}, &err);
      connected.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      body(t, client);
    });
  }
  while (connected.load() < n) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
}

TEST_F(ServerTest, ConcurrentRetriesOfOneAllocationYieldOneBinding) {
  createPool(obj({{"name", "idem"}, {"cidr", "192.0.2.0/24"}}));
  constexpr int kClients = 32;
  std::vector<HttpResponse> answers(kClients);
  together(server_, kClients, [&](int t, HttpClient& client) {
    answers[t] = client.post("/v1/bindings", obj({{"instance", "cni-retry"}, {"pool", "idem"}}));
  });
  int created = 0;
  std::set<std::string> ids, addresses;
  for (const auto& r : answers) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.describe();
    created += r.status == 201;
    ids.insert(str(r.json(), "id"));
    addresses.insert(strings(r.json(), "addresses").at(0));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(addresses.size(), 1u);
  EXPECT_EQ(num(mustGet("/v1/pools/idem").at("utilization"), "used"), 1);
}

TEST_F(ServerTest, ConcurrentClaimsOfOneAddressAndMacHaveOneWinner) {
  createPool(obj({{"name", "vip"}, {"cidr", "192.0.2.0/24"}}));
  constexpr int kClients = 32;
  std::vector<HttpResponse> by_ip(kClients), by_mac(kClients);
  together(server_, kClients, [&](int t, HttpClient& client) {
    by_ip[t] = client.post("/v1/bindings", obj({{"instance", "ip-" + std::to_string(t)},
                                                {"pool", "vip"},
                                                {"address", "192.0.2.100"}}));
    by_mac[t] = client.post("/v1/bindings", obj({{"instance", "mac-" + std::to_string(t)},
                                                 {"pool", "vip"},
                                                 {"mac", "02:00:00:00:aa:01"}}));
  });
  for (const auto* answers : {&by_ip, &by_mac}) {
    int won = 0;
    for (const auto& r : *answers) {
      if (r.status == 201) {
        ++won;
      } else {
        EXPECT_TRUE(isProblem(r, 409, "conflict", "held by binding"));
      }
    }
    EXPECT_EQ(won, 1);
  }
  EXPECT_EQ(num(mustGet("/v1/pools/vip").at("utilization"), "used"), 2);
  EXPECT_EQ(items(mustGet("/v1/bindings?ip=192.0.2.100")).size(), 1u);
  EXPECT_EQ(items(mustGet("/v1/bindings?mac=02:00:00:00:aa:01")).size(), 1u);
}

}  // namespace
}  // namespace netledger::it
