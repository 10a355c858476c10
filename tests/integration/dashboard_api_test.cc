// What the dashboard reads, against the real daemon: who am I, the pool heat map, activity rates,
// conflict counts, search as you type, and the embedded page itself.
#include <map>
#include <thread>

#include "integration/harness.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

std::map<char, int> census(const std::string& cells) {
  std::map<char, int> out;
  for (char c : cells) ++out[c];
  return out;
}

class DashboardApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    createPool(obj({{"name", "lab"},
                    {"cidr", "192.0.2.0/24"},
                    {"gateway", "192.0.2.1"},
                    {"reserved", json::array{"192.0.2.2-192.0.2.9"}}}));
  }
  // The wire shows 192.0.2.10 answered by a MAC other than its binding's.
  void seeOtherMacOn10() {
    auto r = api_->post("/v1/observations",
                        obj({{"observations", json::array{obj({{"ip", "192.0.2.10"},
                                                               {"mac", "52:54:00:00:00:99"},
                                                               {"kind", "reply"},
                                                               {"host", "hv1"}})}}}));
    ASSERT_EQ(r.status, 202u) << r.describe();
  }
  std::string cellsOf(const json::value& map) {
    const auto& blocks = map.at("blocks").as_array();
    EXPECT_EQ(blocks.size(), 1u);
    return str(blocks.at(0), "cells");
  }
  // Polls until GET target's JSON satisfies `done`; bounded.
  template <typename Done>
  json::value waitUntil(const std::string& target, Done done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      auto v = mustGet(target);
      if (done(v) || std::chrono::steady_clock::now() > deadline) return v;
      std::this_thread::sleep_for(20ms);
    }
  }
};

TEST_F(DashboardApiTest, WhoAmINamesTheTokenAndItsRole) {
  auto me = mustGet("/v1/whoami");
  EXPECT_EQ(str(me, "name"), "admin");
  EXPECT_EQ(str(me, "role"), "admin");
  auto viewer = server_.client(createToken("eve", "viewer"));
  auto r = viewer->get("/v1/whoami");
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(str(r.json(), "name"), "eve");
  EXPECT_EQ(str(r.json(), "role"), "viewer");
  auto nobody = server_.client("nlt_not_a_token");
  EXPECT_TRUE(isProblem(nobody->get("/v1/whoami"), 401, "unauthorized"));
}

TEST_F(DashboardApiTest, PoolMapPaintsEveryAddressAndSurvivesRestart) {
  auto a = allocate(obj({{"instance", "a"}, {"pool", "lab"}, {"mac", "52:54:00:00:00:0a"}}));
  auto b = allocate(obj({{"instance", "b"}, {"pool", "lab"}}));
  auto c = allocate(obj({{"instance", "c"}, {"pool", "lab"}}));
  ASSERT_EQ(api_->del("/v1/bindings/" + str(b, "id")).status, 200u);
  // A station answering for a's address with another MAC: binding_mismatch on .10.
  ASSERT_NO_FATAL_FAILURE(seeOtherMacOn10());
  auto map = waitUntil("/v1/pools/lab/map", [&](const json::value& m) {
    return cellsOf(m).find('c') != std::string::npos;
  });
  EXPECT_EQ(str(map, "cell_size"), "1");
  EXPECT_EQ(num(map, "cells_total"), 256);
  EXPECT_TRUE(map.at("blocks").at(0).at("fill").is_null());
  std::string cells = cellsOf(map);
  ASSERT_EQ(cells.size(), 256u);
  // network and broadcast unusable; gateway + 8 reserved; .10 in conflict, .11 quarantined
  // (released), .12 used; everything else free.
  EXPECT_EQ(cells.substr(0, 13), "-rrrrrrrrrcqu");
  EXPECT_EQ(cells.back(), '-');
  auto counts = census(cells);
  EXPECT_EQ(counts['-'], 2);
  EXPECT_EQ(counts['r'], 9);
  EXPECT_EQ(counts['c'], 1);
  EXPECT_EQ(counts['q'], 1);
  EXPECT_EQ(counts['u'], 1);
  EXPECT_EQ(counts['.'], 256 - 14);
  EXPECT_EQ(str(map.at("counts"), "used"), "2");
  EXPECT_EQ(str(map.at("counts"), "quarantined"), "1");
  EXPECT_EQ(map.at("legend").at("q").as_string(), "quarantined");
  (void)a;
  (void)c;

  // The ledger's part (used, quarantined, reserved) comes back from the store.
  server_.restart();
  api_ = server_.client(server_.adminToken());
  std::string after = cellsOf(mustGet("/v1/pools/lab/map"));
  EXPECT_EQ(after.substr(11, 2), "qu");
  EXPECT_EQ(census(after)['q'], 1);
}

TEST_F(DashboardApiTest, PoolMapAggregatesBigPoolsIntoBlocks) {
  createPool(obj({{"name", "big"}, {"cidr", "10.20.0.0/16"}}));
  for (int i = 0; i < 200; ++i) {
    allocate(obj({{"instance", "vm-" + std::to_string(i)}, {"pool", "big"}}));
  }
  auto map = mustGet("/v1/pools/big/map?max_cells=256");
  EXPECT_EQ(str(map, "cell_size"), "256");
  std::string cells = cellsOf(map);
  std::string fill = str(map.at("blocks").at(0), "fill");
  ASSERT_EQ(cells.size(), 256u);
  ASSERT_EQ(fill.size(), 256u);
  // 200 of the first /24's 255 allocatable addresses (the network address is not): 7 tenths.
  EXPECT_EQ(cells[0], 'u');
  EXPECT_EQ(fill[0], '7');
  EXPECT_EQ(census(cells)['.'], 255);
  EXPECT_EQ(census(fill)['0'], 255);

  // One cell per address up to the default 65,536: a /16 is drawn address by address.
  auto full = mustGet("/v1/pools/big/map");
  EXPECT_EQ(str(full, "cell_size"), "1");
  EXPECT_EQ(census(cellsOf(full))['u'], 200);

  // An IPv6 /64 fits 65,536 cells of 2^48 addresses.
  createPool(obj({{"name", "v6"}, {"cidr", "2001:db8:1::/64"}}));
  allocate(obj({{"instance", "six"}, {"pool", "v6"}}));
  auto v6 = mustGet("/v1/pools/v6/map");
  EXPECT_EQ(str(v6, "cell_size"), "281474976710656");
  EXPECT_EQ(cellsOf(v6).size(), 65536u);
  EXPECT_EQ(cellsOf(v6)[0], 'u');

  EXPECT_TRUE(
      isProblem(api_->get("/v1/pools/big/map?max_cells=0"), 400, "invalid_argument", "max_cells"));
  EXPECT_TRUE(
      isProblem(api_->get("/v1/pools/big/map?max_cells=1x"), 400, "invalid_argument", "max_cells"));
  EXPECT_TRUE(isProblem(api_->get("/v1/pools/nope/map"), 404, "not_found"));
}

// A parent pool's space is what its children hold: their bindings, quarantine and conflicts
// show on the parent's map (not an empty-looking /24 whose addresses are all in use).
TEST_F(DashboardApiTest, ParentPoolMapShowsItsChildrensBindings) {
  createPool(obj({{"name", "dc"}, {"cidr", "198.51.100.0/24"}}));
  createPool(obj({{"name", "rack1"}, {"parent", "dc"}, {"prefix_length", 26}}));
  createPool(obj({{"name", "rack2"}, {"parent", "dc"}, {"prefix_length", 26}}));
  createPool(obj({{"name", "row1"}, {"parent", "rack2"}, {"prefix_length", 27}}));
  for (int i = 0; i < 3; ++i) {
    allocate(obj({{"instance", "r-" + std::to_string(i)}, {"pool", "rack1"}}));
  }
  auto deep = allocate(obj({{"instance", "deep"}, {"pool", "row1"}, {"mac", "52:54:00:00:00:42"}}));
  auto gone = allocate(obj({{"instance", "gone"}, {"pool", "rack1"}}));
  ASSERT_EQ(api_->del("/v1/bindings/" + str(gone, "id")).status, 200u);
  // A stranger answering for the grandchild's address: a conflict on the grandparent's map.
  mustPost("/v1/observations",
           obj({{"observations", json::array{obj({{"ip", strings(deep, "addresses").at(0)},
                                                  {"mac", "52:54:00:00:00:99"},
                                                  {"kind", "reply"},
                                                  {"host", "hv1"}})}}}),
           202);
  auto map = waitUntil("/v1/pools/dc/map",
                       [&](const json::value& m) { return census(cellsOf(m))['c'] == 1; });
  auto cells = census(cellsOf(map));
  EXPECT_EQ(cells['u'], 3);  // rack1's three (the fourth, deep, is the conflict)
  EXPECT_EQ(cells['c'], 1);
  EXPECT_EQ(cells['q'], 1);
  EXPECT_EQ(census(cellsOf(mustGet("/v1/pools/row1/map")))['c'], 1);
}

TEST_F(DashboardApiTest, RatesCountAllocationsAndReleasesOfTheLastHour) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(
        str(allocate(obj({{"instance", "r" + std::to_string(i)}, {"pool", "lab"}})), "id"));
  }
  ASSERT_EQ(api_->del("/v1/bindings/" + ids[0]).status, 200u);
  auto rates = mustGet("/v1/stats/rates");
  EXPECT_EQ(num(rates, "step_s"), 60);
  const auto& buckets = rates.at("buckets").as_array();
  ASSERT_EQ(buckets.size(), 60u);
  std::int64_t allocations = 0, releases = 0;
  for (const auto& b : buckets) {
    allocations += num(b, "allocations");
    releases += num(b, "releases");
  }
  EXPECT_EQ(allocations, 3);
  EXPECT_EQ(releases, 1);
  // Buckets start on whole minutes, oldest first.
  auto first = parseTimeMs(str(buckets.front(), "t"));
  auto last = parseTimeMs(str(buckets.back(), "t"));
  EXPECT_EQ(first % 60000, 0);
  EXPECT_EQ(last - first, 59 * 60000);

  EXPECT_EQ(mustGet("/v1/stats/rates?window_s=600&step_s=10").at("buckets").as_array().size(), 60u);
  EXPECT_TRUE(isProblem(api_->get("/v1/stats/rates?window_s=600&step_s=7"), 400, "invalid_argument",
                        "step_s"));
  EXPECT_TRUE(
      isProblem(api_->get("/v1/stats/rates?window_s=7200"), 400, "invalid_argument", "window_s"));
  // The counts span every tenant: a tenant-scoped token may not read them.
  auto scoped = server_.client(createToken("t1", "viewer", {"blue"}));
  EXPECT_TRUE(isProblem(scoped->get("/v1/stats/rates"), 403, "forbidden"));
}

TEST_F(DashboardApiTest, RatesRecoverTheHourBeforeARestartFromTheAuditLog) {
  auto sums = [](const json::value& rates) {
    std::pair<std::int64_t, std::int64_t> out{0, 0};
    for (const auto& b : rates.at("buckets").as_array()) {
      out.first += num(b, "allocations");
      out.second += num(b, "releases");
    }
    return out;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(
        str(allocate(obj({{"instance", "r" + std::to_string(i)}, {"pool", "lab"}})), "id"));
  }
  ASSERT_EQ(api_->del("/v1/bindings/" + ids[0]).status, 200u);
  server_.restart();
  api_ = server_.client(server_.adminToken());
  allocate(obj({{"instance", "after-restart"}, {"pool", "lab"}}));  // counted live
  // Done when the counts are complete from an hour before the restart (`since`).
  auto complete = [](const json::value& r) {
    return parseTimeMs(str(r.at("buckets").as_array().back(), "t")) -
               parseTimeMs(str(r, "since")) >=
           3'500'000;
  };
  auto rates = waitUntil("/v1/stats/rates", [&](const json::value& r) { return complete(r); });
  EXPECT_TRUE(complete(rates)) << json::serialize(rates.at("since"));
  EXPECT_EQ(sums(rates), (std::pair<std::int64_t, std::int64_t>{5, 1}));
}

TEST_F(DashboardApiTest, ConflictSummaryCountsBySeverityStatusAndKind) {
  allocate(obj({{"instance", "a"}, {"pool", "lab"}, {"mac", "52:54:00:00:00:0a"}}));
  auto empty = mustGet("/v1/conflicts/summary");
  EXPECT_EQ(num(empty.at("open"), "high"), 0);
  ASSERT_NO_FATAL_FAILURE(seeOtherMacOn10());
  auto open = waitUntil("/v1/conflicts/summary",
                        [](const json::value& s) { return num(s.at("open"), "high") > 0; });
  EXPECT_EQ(num(open.at("open"), "high"), 1);
  EXPECT_EQ(num(open.at("by_kind"), "binding_mismatch"), 1);
  auto id = std::to_string(num(items(mustGet("/v1/conflicts")).at(0), "id"));
  mustPost("/v1/conflicts/" + id + "/ack", obj({{"note", "looking"}}), 200);
  auto acked = mustGet("/v1/conflicts/summary");
  EXPECT_EQ(num(acked.at("open"), "high"), 0);
  EXPECT_EQ(num(acked.at("acknowledged"), "high"), 1);
  mustPost("/v1/conflicts/" + id + "/resolve", obj({{"note", "fixed"}}), 200);
  auto resolved = mustGet("/v1/conflicts/summary");
  EXPECT_EQ(num(resolved.at("acknowledged"), "high"), 0);
  EXPECT_TRUE(resolved.at("by_kind").as_object().empty());
}

TEST_F(DashboardApiTest, SearchAsYouTypeFindsByAddressMacInstanceAndHost) {
  allocate(obj({{"instance", "web-frontend-1"},
                {"pool", "lab"},
                {"mac", "52:54:00:ab:cd:01"},
                {"host", "Hypervisor-7"}}));
  allocate(obj({{"instance", "db-1"}, {"pool", "lab"}, {"host", "hv-2"}}));
  auto ids = [&](const std::string& q) {
    std::vector<std::string> out;
    auto page = mustGet("/v1/bindings?limit=20&q=" + urlEncode(q));
    for (const auto& b : items(page)) {
      out.push_back(str(b, "instance"));
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("52:54:00:AB"), V{"web-frontend-1"});
  EXPECT_EQ(ids("52-54-00-ab-cd"), V{"web-frontend-1"});
  EXPECT_EQ(ids("FRONTEND"), V{"web-frontend-1"});
  EXPECT_EQ(ids("hypervisor"), V{"web-frontend-1"});
  EXPECT_EQ(ids("192.0.2.11"), V{"db-1"});
  EXPECT_EQ(ids("192.0.2.1").size(), 2u);  // .10 and .11 both start with it
  EXPECT_EQ(ids("-1").size(), 2u);
  EXPECT_TRUE(ids("zzz").empty());
  // Combined with an exact-key filter (served from an index), the text still has to match.
  auto by_mac = mustGet("/v1/bindings?mac=52:54:00:ab:cd:01&q=zzz");
  EXPECT_TRUE(items(by_mac).empty());
  auto by_mac_too = mustGet("/v1/bindings?mac=52:54:00:ab:cd:01&q=front");
  EXPECT_EQ(items(by_mac_too).size(), 1u);
  EXPECT_TRUE(isProblem(api_->get("/v1/bindings?q=" + std::string(300, 'a')), 400,
                        "invalid_argument", "q"));
}

TEST_F(DashboardApiTest, ServesTheEmbeddedPageWithoutATokenAndRevalidates) {
  auto anonymous = server_.client("");
  auto page = anonymous->get("/");
  ASSERT_EQ(page.status, 200u) << page.describe();
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("netledger"), std::string::npos);
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  EXPECT_NE(page.header("content-security-policy").find("frame-ancestors 'none'"),
            std::string::npos);
  const std::string etag = page.header("etag");
  ASSERT_FALSE(etag.empty());
  auto again = anonymous->request("GET", "/", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304u) << again.describe();
  EXPECT_TRUE(again.body.empty());
  auto other = anonymous->request("GET", "/", "", {{"If-None-Match", "\"something-else\""}});
  EXPECT_EQ(other.status, 200u);
  EXPECT_TRUE(isProblem(anonymous->get("/assets/missing.js"), 404, "not_found"));
  EXPECT_TRUE(isProblem(anonymous->get("/assets/..%2F..%2Fetc%2Fpasswd"), 404, "not_found"));
}

}  // namespace
}  // namespace netledger::it
