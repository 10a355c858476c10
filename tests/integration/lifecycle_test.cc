// Leases, pool growth and restarts: what the daemon does over time and across its own life.
#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "common/huge_pages.h"
#include "integration/harness.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

TEST_F(ServerTest, LeaseExpiresAndTheSweeperReleasesIt) {
  createPool(obj({{"name", "lease"}, {"cidr", "192.0.2.0/24"}}));
  auto shortlived = allocate(obj({{"instance", "tmp"}, {"pool", "lease"}, {"ttl_s", 1}}));
  auto pinned =
      allocate(obj({{"instance", "pin"}, {"pool", "lease"}, {"ttl_s", 1}, {"static", true}}));
  EXPECT_TRUE(pinned.at("expires_at").is_null()) << "a static binding never expires";
  const std::string id = str(shortlived, "id");
  const auto deadline = std::chrono::steady_clock::now() + 6s;
  unsigned status = 200;
  while (status == 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    status = api_->get("/v1/bindings/" + id).status;
  }
  ASSERT_EQ(status, 404u) << "the sweeper did not expire a 1 s lease within 6 s";
  EXPECT_EQ(api_->get("/v1/bindings/" + str(pinned, "id")).status, 200u);
  auto pool = mustGet("/v1/pools/lease");
  EXPECT_EQ(num(pool.at("utilization"), "used"), 1);
  EXPECT_EQ(num(pool.at("utilization"), "quarantined"), 1);
  auto expired = mustGet("/v1/audit?op=binding.expire");
  ASSERT_EQ(items(expired).size(), 1u);
  EXPECT_EQ(str(items(expired)[0], "actor"), "sweeper");
  EXPECT_EQ(str(items(expired)[0], "subject"), "binding:" + id);
  EXPECT_EQ(str(items(expired)[0].at("after"), "state"), "expired");
  auto lineage = mustGet("/v1/history?instance=tmp");
  const auto& entries = lineage.at("entries").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(str(entries[1], "op"), "binding.expire");
  EXPECT_FALSE(entries[1].at("holds").as_bool());
}

// A renew without ttl_s keeps the binding's lease length. Migrating first must not shorten it.
TEST_F(ServerTest, RenewAfterMigrateKeepsTheLeaseLength) {
  createPool(obj({{"name", "mig"}, {"cidr", "192.0.2.0/24"}}));
  auto b = allocate(obj({{"instance", "vm"}, {"pool", "mig"}, {"host", "hv1"}, {"ttl_s", 60}}));
  const std::string id = str(b, "id");
  std::this_thread::sleep_for(1200ms);
  auto m = api_->post("/v1/bindings/" + id + "/migrate", obj({{"host", "hv2"}}));
  ASSERT_EQ(m.status, 200u) << m.describe();
  EXPECT_EQ(str(m.json(), "expires_at"), str(b, "expires_at")) << "migration is not a renewal";
  auto r = api_->request("POST", "/v1/bindings/" + id + "/renew");
  ASSERT_EQ(r.status, 200u) << r.describe();
  auto renewed = r.json();
  EXPECT_EQ(parseTimeMs(str(renewed, "expires_at")) - parseTimeMs(str(renewed, "updated_at")),
            60'000)
      << "renew after migrate shortened the 60 s lease: " << r.body;
}

TEST_F(ServerTest, PoolRangesLimitAllocation) {
  auto p = createPool(obj({{"name", "narrow"},
                           {"cidr", "203.0.113.0/24"},
                           {"ranges", json::array{"203.0.113.100-203.0.113.101"}}}));
  EXPECT_EQ(num(p.at("utilization"), "allocatable"), 2);
  EXPECT_EQ(strings(allocate(obj({{"instance", "n1"}, {"pool", "narrow"}})), "addresses"),
            std::vector<std::string>{"203.0.113.100"});
  EXPECT_EQ(strings(allocate(obj({{"instance", "n2"}, {"pool", "narrow"}})), "addresses"),
            std::vector<std::string>{"203.0.113.101"});
  EXPECT_TRUE(isProblem(api_->post("/v1/bindings", obj({{"instance", "n3"}, {"pool", "narrow"}})),
                        409, "pool_exhausted", "narrow"));
  // An explicit address inside the CIDR but outside the ranges is refused, naming it.
  EXPECT_TRUE(isProblem(
      api_->post("/v1/bindings",
                 obj({{"instance", "n4"}, {"pool", "narrow"}, {"address", "203.0.113.7"}})),
      400, "invalid_argument", "203.0.113.7 is outside the pool's allocation ranges"));
}

TEST_F(ServerTest, AutoExpandTakesAnotherPrefixFromTheParent) {
  createPool(obj({{"name", "region"}, {"cidr", "203.0.113.0/24"}}));
  auto kids = createPool(obj({{"name", "kids"},
                              {"parent", "region"},
                              {"prefix_length", 28},
                              {"auto_expand", true},
                              {"threshold", 0.5}}));
  EXPECT_EQ(strings(kids, "cidrs"), std::vector<std::string>{"203.0.113.0/28"});
  EXPECT_EQ(num(kids.at("utilization"), "allocatable"), 14);
  for (int i = 0; i < 6; ++i)
    allocate(obj({{"instance", "k" + std::to_string(i)}, {"pool", "kids"}}));
  EXPECT_EQ(strings(mustGet("/v1/pools/kids"), "cidrs").size(), 1u);
  EXPECT_FALSE(mustGet("/v1/pools/kids").at("alert").as_bool());
  allocate(obj({{"instance", "k6"}, {"pool", "kids"}}));  // 7 of 14: the threshold
  auto grown = mustGet("/v1/pools/kids");
  EXPECT_EQ(strings(grown, "cidrs"),
            (std::vector<std::string>{"203.0.113.0/28", "203.0.113.16/28"}));
  EXPECT_EQ(num(grown.at("utilization"), "allocatable"), 28);
  EXPECT_EQ(num(grown.at("utilization"), "used"), 7);
  EXPECT_FALSE(grown.at("alert").as_bool());
  EXPECT_EQ(items(mustGet("/v1/audit?op=pool.expand")).size(), 1u);
  // The grown pool and its parent's carve survive a restart.
  EXPECT_EQ(server_.stop(), 0);
  server_.start();
  api_ = server_.client();
  EXPECT_EQ(strings(mustGet("/v1/pools/kids"), "cidrs").size(), 2u);
  auto sibling = createPool(obj({{"name", "sib"}, {"parent", "region"}, {"prefix_length", 28}}));
  EXPECT_EQ(str(sibling, "cidr"), "203.0.113.32/28");
}

TEST_F(ServerTest, RestartChangesNothingObservable) {
  createPool(obj({{"name", "v4"}, {"cidr", "192.0.2.0/24"}, {"gateway", "192.0.2.1"}}));
  createPool(obj({{"name", "v6"}, {"cidr", "2001:db8:2::/64"}, {"tenant", "red"}}));
  createPool(obj({{"name", "dc"}, {"cidr", "198.51.100.0/24"}}));
  createPool(obj({{"name", "rack"}, {"parent", "dc"}, {"prefix_length", 25}}));
  mustPost("/v1/mac-pools", obj({{"name", "hashy"}, {"prefix", "02:42"}, {"strategy", "hash"}}));
  ASSERT_EQ(
      api_->patch("/v1/pools/v4", obj({{"reserved", json::array{"192.0.2.2-192.0.2.5"}}})).status,
      200u);
  auto a =
      allocate(obj({{"instance", "a"}, {"pool", "v4"}, {"mac_pool", "hashy"}, {"ttl_s", 3600}}));
  auto b = allocate(obj({{"instance", "b"}, {"pool", "v4"}, {"host", "hv"}}));
  auto c = allocate(obj({{"instance", "c"}, {"pool", "rack"}, {"mac", "02:00:00:00:00:0c"}}));
  auto d = allocate(obj({{"instance", "d"}, {"pool", "v6"}}));
  ASSERT_EQ(api_->del("/v1/bindings/" + str(b, "id")).status, 200u);  // quarantined
  const std::string operator_secret = createToken("op", "operator");
  const std::string revoked_secret = createToken("gone", "viewer");
  ASSERT_EQ(api_->del("/v1/tokens/gone").status, 204u);

  const std::string before = fingerprint();
  const auto history_before = api_->get("/v1/history?instance=b").body;
  EXPECT_EQ(server_.stop(), 0);
  server_.start();
  api_ = server_.client();
  EXPECT_EQ(fingerprint(), before);
  EXPECT_EQ(api_->get("/v1/history?instance=b").body, history_before);
  EXPECT_EQ(num(mustGet("/v1/pools/v4").at("utilization"), "quarantined"), 1);

  // Tokens: the operator's still works, the revoked one still does not.
  EXPECT_EQ(server_.client(operator_secret)->get("/v1/pools").status, 200u);
  EXPECT_TRUE(isProblem(server_.client(revoked_secret)->get("/v1/pools"), 401, "unauthorized"));
  // Idempotent repeat after the restart returns the same binding.
  auto again =
      api_->post("/v1/bindings", obj({{"instance", "a"}, {"pool", "v4"}, {"mac_pool", "hashy"}}));
  ASSERT_EQ(again.status, 200u) << again.describe();
  EXPECT_EQ(str(again.json(), "id"), str(a, "id"));
  EXPECT_EQ(str(again.json(), "mac"), str(a, "mac"));
  // New allocations do not collide with anything held or quarantined before the restart.
  auto e = allocate(obj({{"instance", "e"}, {"pool", "v4"}}));
  const std::string e_ip = strings(e, "addresses")[0];
  EXPECT_NE(e_ip, strings(a, "addresses")[0]);
  EXPECT_NE(e_ip, strings(b, "addresses")[0]) << "a quarantined address was reused after restart";
  EXPECT_GT(std::stoull(str(e, "id")), std::stoull(str(d, "id"))) << "binding ids are reused";
  EXPECT_TRUE(isProblem(
      api_->post("/v1/bindings",
                 obj({{"instance", "x"}, {"pool", "rack"}, {"mac", "02:00:00:00:00:0c"}})),
      409, "conflict", "held by binding " + str(c, "id")));
  auto rack2 = createPool(obj({{"name", "rack2"}, {"parent", "dc"}, {"prefix_length", 25}}));
  EXPECT_EQ(str(rack2, "cidr"), "198.51.100.128/25");
}

TEST_F(ServerTest, DeletedPoolLeavesNoQuarantineBehind) {
  createPool(obj({{"name", "q"}, {"cidr", "192.0.2.0/24"}}));
  auto b = allocate(obj({{"instance", "q1"}, {"pool", "q"}}));
  ASSERT_EQ(api_->del("/v1/bindings/" + str(b, "id")).status, 200u);
  EXPECT_EQ(num(mustGet("/v1/pools/q").at("utilization"), "quarantined"), 1);
  ASSERT_EQ(api_->del("/v1/pools/q").status, 204u);
  // A new pool of the same name and CIDR starts empty, before and after a restart.
  createPool(obj({{"name", "q"}, {"cidr", "192.0.2.0/24"}}));
  EXPECT_EQ(num(mustGet("/v1/pools/q").at("utilization"), "quarantined"), 0);
  EXPECT_EQ(server_.stop(), 0);
  server_.start();
  api_ = server_.client();
  EXPECT_EQ(num(mustGet("/v1/pools/q").at("utilization"), "quarantined"), 0)
      << "the deleted pool's quarantine came back into the new pool after a restart";
}

// Overlapping pools in two networks quarantine the same address independently, across restarts.
TEST_F(ServerTest, QuarantineSurvivesRestartInEachNetwork) {
  createPool(obj({{"name", "red"}, {"network", "red"}, {"cidr", "192.0.2.0/24"}}));
  createPool(obj({{"name", "blue"}, {"network", "blue"}, {"cidr", "192.0.2.0/24"}}));
  for (const char* pool : {"red", "blue"}) {
    auto b = allocate(
        obj({{"instance", std::string("q-") + pool}, {"pool", pool}, {"address", "192.0.2.7"}}));
    ASSERT_EQ(api_->del("/v1/bindings/" + str(b, "id")).status, 200u);
    EXPECT_EQ(num(mustGet(std::string("/v1/pools/") + pool).at("utilization"), "quarantined"), 1);
  }
  EXPECT_EQ(server_.stop(), 0);
  server_.start();
  api_ = server_.client();
  for (const char* pool : {"red", "blue"}) {
    SCOPED_TRACE(pool);
    EXPECT_EQ(num(mustGet(std::string("/v1/pools/") + pool).at("utilization"), "quarantined"), 1)
        << "the quarantine of 192.0.2.7 was lost in the restart";
    auto r = api_->post("/v1/bindings", obj({{"instance", std::string("again-") + pool},
                                             {"pool", pool},
                                             {"address", "192.0.2.7"}}));
    EXPECT_EQ(r.status, 409u) << "a quarantined address was handed out again: " << r.describe();
  }
}

// The same IP in two networks is two bindings; ?ip= must still honour limit and the cursor.
TEST_F(ServerTest, SearchByIpAcrossNetworksHonoursLimit) {
  createPool(obj({{"name", "red"}, {"network", "red"}, {"cidr", "192.0.2.0/24"}}));
  createPool(obj({{"name", "blue"}, {"network", "blue"}, {"cidr", "192.0.2.0/24"}}));
  auto r = allocate(obj({{"instance", "r"}, {"pool", "red"}, {"address", "192.0.2.7"}}));
  auto b = allocate(obj({{"instance", "b"}, {"pool", "blue"}, {"address", "192.0.2.7"}}));
  EXPECT_EQ(items(mustGet("/v1/bindings?ip=192.0.2.7")).size(), 2u);
  auto page = mustGet("/v1/bindings?ip=192.0.2.7&limit=1");
  ASSERT_EQ(items(page).size(), 1u) << "limit=1 returned more: " << json::serialize(page);
  EXPECT_EQ(str(items(page)[0], "id"), str(r, "id"));
  ASSERT_FALSE(str(page, "next_cursor").empty());
  auto next = mustGet("/v1/bindings?ip=192.0.2.7&limit=1&cursor=" + str(page, "next_cursor"));
  ASSERT_EQ(items(next).size(), 1u);
  EXPECT_EQ(str(items(next)[0], "id"), str(b, "id"));
}

// netledgerd re-executes itself once (same PID) with glibc's huge page tunable, which
// docs/PERFORMANCE.md credits with a third of the start-up time; NETLEDGER_HUGE_PAGES=0 opts out.
TEST_F(ServerTest, DaemonRunsWithHugePageMallocUnlessOptedOut) {
  auto environOf = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(env.begin(), env.end(), '\0', '\n');
    return env;
  };
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode((std::istreambuf_iterator<char>(thp)), std::istreambuf_iterator<char>());
  const bool thp_on = mode.find("[never]") == std::string::npos && !mode.empty();
  const std::string env = environOf(server_.pid());
  EXPECT_EQ(env.find("glibc.malloc.hugetlb=1") != std::string::npos, thp_on) << "THP: " << mode;
  // Re-executed by its real path: the process keeps its name (ps, pgrep, journald).
  std::ifstream comm("/proc/" + std::to_string(server_.pid()) + "/comm");
  std::string name;
  std::getline(comm, name);
  EXPECT_EQ(name, "netledgerd");
  // /proc/PID/environ is what the exec was given: the marker of the one re-exec is there.
  EXPECT_EQ(env.find(kHugePageMarker) != std::string::npos, thp_on);
  EXPECT_EQ(api_->get("/v1/pools").status, 200u) << "the re-executed daemon serves";

  ::setenv("NETLEDGER_HUGE_PAGES", "0", 1);
  server_.restart();
  ::unsetenv("NETLEDGER_HUGE_PAGES");
  api_->setPort(server_.port());
  EXPECT_EQ(environOf(server_.pid()).find("glibc.malloc.hugetlb"), std::string::npos);
  EXPECT_EQ(api_->get("/v1/pools").status, 200u);
}

}  // namespace
}  // namespace netledger::it
