// Every endpoint of REST API v1 over the wire, against the real daemon.
#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include "integration/harness.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

json::value poolCounts(const json::value& pool) { return pool.at("utilization"); }

std::vector<std::string> idsOf(const json::value& page) {
  std::vector<std::string> out;
  for (const auto& b : items(page)) out.push_back(str(b, "id"));
  return out;
}

TEST_F(ServerTest, PoolsCrudPatchAndUtilization) {
  auto created = api_->post("/v1/pools", obj({{"name", "lab"},
                                              {"cidr", "192.0.2.0/24"},
                                              {"gateway", "192.0.2.1"},
                                              {"vlan", 100},
                                              {"cluster", "east"}}));
  ASSERT_EQ(created.status, 201u) << created.describe();
  EXPECT_EQ(created.header("Location"), "/v1/pools/lab");
  auto p = created.json();
  EXPECT_EQ(str(p, "name"), "lab");
  EXPECT_EQ(str(p, "network"), "default");
  EXPECT_EQ(str(p, "cidr"), "192.0.2.0/24");
  EXPECT_EQ(str(p, "gateway"), "192.0.2.1");
  EXPECT_EQ(str(p, "cluster"), "east");
  EXPECT_EQ(num(p, "vlan"), 100);
  EXPECT_EQ(num(p, "version"), 1);
  EXPECT_EQ(num(p, "quarantine_s"), 300);
  // 256 addresses; network, broadcast and gateway are never handed out.
  EXPECT_EQ(num(poolCounts(p), "size"), 256);
  EXPECT_EQ(num(poolCounts(p), "allocatable"), 253);
  EXPECT_EQ(num(poolCounts(p), "reserved"), 3);
  EXPECT_EQ(num(poolCounts(p), "used"), 0);
  EXPECT_EQ(num(poolCounts(p), "free"), 253);

  auto list = mustGet("/v1/pools");
  ASSERT_EQ(items(list).size(), 1u);
  EXPECT_EQ(str(items(list)[0], "name"), "lab");
  EXPECT_EQ(str(mustGet("/v1/pools/lab"), "cidr"), "192.0.2.0/24");

  // PATCH: reserve 192.0.2.2-192.0.2.11 (10 addresses) and lower the alert threshold.
  auto patched =
      api_->patch("/v1/pools/lab",
                  obj({{"reserved", json::array{"192.0.2.2-192.0.2.11"}}, {"threshold", 0.5}}));
  ASSERT_EQ(patched.status, 200u) << patched.describe();
  p = patched.json();
  EXPECT_EQ(num(p, "version"), 2);
  EXPECT_EQ(strings(p, "reserved"), std::vector<std::string>{"192.0.2.2-192.0.2.11"});
  EXPECT_DOUBLE_EQ(p.at("threshold").to_number<double>(), 0.5);
  EXPECT_EQ(num(poolCounts(p), "reserved"), 13);
  EXPECT_EQ(num(poolCounts(p), "allocatable"), 243);
  EXPECT_EQ(str(p, "gateway"), "192.0.2.1") << "PATCH must keep fields it does not name";
  EXPECT_EQ(num(p, "vlan"), 100);

  // Allocation skips the gateway and the reserved range.
  std::vector<std::string> ids, ips;
  for (int i = 0; i < 3; ++i) {
    auto b = allocate(obj({{"instance", "vm-" + std::to_string(i)}, {"pool", "lab"}}));
    ids.push_back(str(b, "id"));
    ips.push_back(strings(b, "addresses").at(0));
  }
  EXPECT_EQ(ips, (std::vector<std::string>{"192.0.2.12", "192.0.2.13", "192.0.2.14"}));
  p = mustGet("/v1/pools/lab");
  EXPECT_EQ(num(poolCounts(p), "used"), 3);
  EXPECT_EQ(num(poolCounts(p), "free"), 240);
  EXPECT_EQ(num(p, "bindings"), 3);
  EXPECT_NEAR(poolCounts(p).at("utilization").to_number<double>(), 3.0 / 243, 1e-9);

  // Reserving an address a binding holds is refused and changes nothing.
  auto bad = api_->patch("/v1/pools/lab", obj({{"reserved", json::array{"192.0.2.12"}}}));
  EXPECT_TRUE(isProblem(bad, 409, "conflict", "192.0.2.12"));
  EXPECT_EQ(num(mustGet("/v1/pools/lab"), "version"), 2);

  // Release: the address goes to quarantine (300 s by default), not back to free.
  ASSERT_EQ(api_->del("/v1/bindings/" + ids[0]).status, 200u);
  p = mustGet("/v1/pools/lab");
  EXPECT_EQ(num(poolCounts(p), "used"), 2);
  EXPECT_EQ(num(poolCounts(p), "quarantined"), 1);
  EXPECT_EQ(num(poolCounts(p), "free"), 240);
  EXPECT_EQ(num(p, "bindings"), 2);

  // DELETE refuses while bindings remain, then works.
  EXPECT_TRUE(isProblem(api_->del("/v1/pools/lab"), 409, "conflict", "bindings"));
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_EQ(api_->del("/v1/bindings/" + ids[i]).status, 200u);
  }
  auto deleted = api_->del("/v1/pools/lab");
  EXPECT_EQ(deleted.status, 204u) << deleted.describe();
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_TRUE(isProblem(api_->get("/v1/pools/lab"), 404, "not_found", "lab"));
  EXPECT_TRUE(items(mustGet("/v1/pools")).empty());
  EXPECT_EQ(api_->connects(), 1) << "the client's keep-alive connection was not kept";
}

TEST_F(ServerTest, PoolDhcpSettingsAreKeptPatchedAndCleared) {
  auto created = api_->post(
      "/v1/pools",
      obj({{"name", "lan"},
           {"cidr", "192.0.2.0/24"},
           {"gateway", "192.0.2.1"},
           {"dhcp", obj({{"lease_s", 600}, {"dns_servers", json::array{"192.0.2.53"}}})}}));
  ASSERT_EQ(created.status, 201u) << created.describe();
  auto d = created.json().at("dhcp");
  EXPECT_EQ(num(d, "lease_s"), 600);
  EXPECT_EQ(strings(d, "dns_servers"), std::vector<std::string>{"192.0.2.53"});
  EXPECT_TRUE(d.at("enabled").as_bool());
  EXPECT_TRUE(d.at("probe").as_bool());  // defaults filled in
  EXPECT_EQ(num(d, "decline_limit"), 3);
  EXPECT_TRUE(d.at("domain").is_null());
  // Kept across a restart (the store's pool data).
  server_.restart();
  api_->setPort(server_.port());
  EXPECT_EQ(num(mustGet("/v1/pools/lan").at("dhcp"), "lease_s"), 600);
  auto patched = api_->patch("/v1/pools/lan", obj({{"dhcp", obj({{"domain", "example.test"}})}}));
  ASSERT_EQ(patched.status, 200u) << patched.describe();
  d = patched.json().at("dhcp");
  EXPECT_EQ(str(d, "domain"), "example.test");
  EXPECT_EQ(num(d, "lease_s"), 3600);  // replaced whole: the default again
  auto off = api_->patch("/v1/pools/lan", obj({{"dhcp", nullptr}}));
  ASSERT_EQ(off.status, 200u) << off.describe();
  EXPECT_TRUE(off.json().at("dhcp").is_null());
  EXPECT_TRUE(mustGet("/v1/pools").at("items").as_array()[0].at("dhcp").is_null());
}

TEST_F(ServerTest, ChildPoolsCarvedByPrefixLength) {
  createPool(obj({{"name", "dc"}, {"cidr", "198.51.100.0/24"}}));
  auto r1 = createPool(obj({{"name", "rack1"}, {"parent", "dc"}, {"prefix_length", 26}}));
  auto r2 = createPool(obj({{"name", "rack2"}, {"parent", "dc"}, {"prefix_length", 26}}));
  EXPECT_EQ(str(r1, "cidr"), "198.51.100.0/26");
  EXPECT_EQ(str(r2, "cidr"), "198.51.100.64/26");
  EXPECT_EQ(str(r1, "parent"), "dc");
  EXPECT_EQ(num(poolCounts(r1), "size"), 64);
  EXPECT_EQ(num(poolCounts(r1), "allocatable"), 62);
  // An explicit child CIDR inside the parent takes the rest; then nothing is left.
  auto r3 = createPool(obj({{"name", "rack3"}, {"parent", "dc"}, {"cidr", "198.51.100.128/25"}}));
  EXPECT_EQ(str(r3, "cidr"), "198.51.100.128/25");
  EXPECT_TRUE(isProblem(
      api_->post("/v1/pools", obj({{"name", "rack4"}, {"parent", "dc"}, {"prefix_length", 26}})),
      409, "pool_exhausted", "pool \"dc\""));
  // Overlapping a sibling is refused as well.
  EXPECT_EQ(api_->post("/v1/pools",
                       obj({{"name", "rack5"}, {"parent", "dc"}, {"cidr", "198.51.100.64/27"}}))
                .status,
            409u);

  auto dc = mustGet("/v1/pools/dc");
  EXPECT_EQ(strings(dc, "children"), (std::vector<std::string>{"rack1", "rack2", "rack3"}));
  // Allocation happens in the children, never in the parent.
  EXPECT_TRUE(isProblem(api_->post("/v1/bindings", obj({{"instance", "x"}, {"pool", "dc"}})), 409,
                        "conflict", "parent pool"));
  auto b = allocate(obj({{"instance", "pod-1"}, {"pool", "rack2"}}));
  EXPECT_EQ(strings(b, "addresses"), std::vector<std::string>{"198.51.100.65"});
  EXPECT_TRUE(isProblem(api_->del("/v1/pools/dc"), 409, "conflict", "child pools"));

  // Deleting a child frees its prefix in the parent: the next carve reuses it.
  ASSERT_EQ(api_->del("/v1/pools/rack1").status, 204u);
  auto again = createPool(obj({{"name", "rack6"}, {"parent", "dc"}, {"prefix_length", 26}}));
  EXPECT_EQ(str(again, "cidr"), "198.51.100.0/26");
}

TEST_F(ServerTest, MacPoolsAndGeneratedMacs) {
  auto kvm = api_->post("/v1/mac-pools",
                        obj({{"name", "kvm"}, {"prefix", "52:54:00"}, {"strategy", "sequential"}}));
  ASSERT_EQ(kvm.status, 201u) << kvm.describe();
  EXPECT_EQ(kvm.header("Location"), "/v1/mac-pools/kvm");
  EXPECT_EQ(str(kvm.json(), "prefix"), "52:54:00/24");
  EXPECT_EQ(str(kvm.json(), "strategy"), "sequential");
  EXPECT_EQ(num(kvm.json(), "size"), 1 << 24);
  auto rnd = mustPost("/v1/mac-pools", obj({{"name", "rnd"}, {"prefix", "02:00:00"}}));
  EXPECT_EQ(str(rnd, "strategy"), "random");

  auto list = mustGet("/v1/mac-pools");
  ASSERT_EQ(items(list).size(), 2u);
  EXPECT_EQ(str(items(list)[0], "name"), "kvm");
  EXPECT_EQ(str(items(list)[1], "name"), "rnd");
  EXPECT_EQ(str(mustGet("/v1/mac-pools/kvm"), "prefix"), "52:54:00/24");

  // MAC-only bindings (no IP pool): generated from the pool, unique, in the prefix.
  auto a = allocate(obj({{"instance", "vm-a"}, {"mac_pool", "kvm"}}));
  auto b = allocate(obj({{"instance", "vm-b"}, {"mac_pool", "kvm"}}));
  auto c = allocate(obj({{"instance", "vm-c"}, {"mac_pool", "rnd"}}));
  EXPECT_EQ(str(a, "mac_pool"), "kvm");
  EXPECT_EQ(str(a, "mac").substr(0, 9), "52:54:00:");
  EXPECT_EQ(str(b, "mac").substr(0, 9), "52:54:00:");
  EXPECT_NE(str(a, "mac"), str(b, "mac"));
  EXPECT_EQ(str(c, "mac").substr(0, 9), "02:00:00:");
  EXPECT_NE(str(c, "mac"), "02:00:00:00:00:00");
  EXPECT_TRUE(strings(a, "addresses").empty());
  // Who has that MAC?
  EXPECT_EQ(str(mustGet("/v1/macs/" + str(b, "mac")), "id"), str(b, "id"));

  EXPECT_TRUE(isProblem(api_->del("/v1/mac-pools/kvm"), 409, "conflict", "kvm"));
  ASSERT_EQ(api_->del("/v1/bindings/" + str(a, "id")).status, 200u);
  ASSERT_EQ(api_->del("/v1/bindings/" + str(b, "id")).status, 200u);
  EXPECT_EQ(api_->del("/v1/mac-pools/kvm").status, 204u);
  EXPECT_TRUE(isProblem(api_->get("/v1/mac-pools/kvm"), 404, "not_found", "kvm"));
  EXPECT_EQ(items(mustGet("/v1/mac-pools")).size(), 1u);
}

TEST_F(ServerTest, AllocateIdempotentDualStackExplicit) {
  createPool(obj({{"name", "v4"}, {"cidr", "192.0.2.0/24"}}));
  createPool(obj({{"name", "v6"}, {"cidr", "2001:db8:1::/64"}}));
  auto body = obj({{"instance", "web-1"},
                   {"pools", json::array{"v4", "v6"}},
                   {"host", "node-a"},
                   {"service", "web"},
                   {"labels", obj({{"app", "web"}})}});
  auto first = api_->post("/v1/bindings", body);
  ASSERT_EQ(first.status, 201u) << first.describe();
  auto b = first.json();
  const std::string id = str(b, "id");
  EXPECT_EQ(first.header("Location"), "/v1/bindings/" + id);
  auto addrs = strings(b, "addresses");
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_EQ(addrs[0], "192.0.2.1");
  EXPECT_EQ(addrs[1].rfind("2001:db8:1::", 0), 0u) << addrs[1];
  EXPECT_EQ(str(b.at("address_pools").as_array()[0], "pool"), "v4");
  EXPECT_EQ(str(b.at("address_pools").as_array()[1], "pool"), "v6");
  EXPECT_EQ(str(b, "interface"), "eth0");
  EXPECT_EQ(str(b, "host"), "node-a");
  EXPECT_EQ(str(b, "service"), "web");
  EXPECT_EQ(str(b.at("labels"), "app"), "web");
  EXPECT_EQ(str(b, "state"), "active");
  EXPECT_EQ(num(b, "version"), 1);

  // The same (instance, interface) again: 200 with the same binding, nothing new allocated.
  auto second = api_->post("/v1/bindings", body);
  ASSERT_EQ(second.status, 200u) << second.describe();
  EXPECT_EQ(str(second.json(), "id"), id);
  EXPECT_EQ(strings(second.json(), "addresses"), addrs);
  EXPECT_EQ(num(poolCounts(mustGet("/v1/pools/v4")), "used"), 1);
  EXPECT_EQ(num(poolCounts(mustGet("/v1/pools/v6")), "used"), 1);
  // A second interface of the same instance is a different binding.
  auto eth1 = allocate(obj({{"instance", "web-1"}, {"interface", "eth1"}, {"pool", "v4"}}));
  EXPECT_NE(str(eth1, "id"), id);
  EXPECT_EQ(strings(eth1, "addresses"), std::vector<std::string>{"192.0.2.2"});

  // Explicit address and MAC (accepted in any notation, returned canonical).
  auto db = allocate(obj({{"instance", "db-1"},
                          {"pool", "v4"},
                          {"address", "192.0.2.77"},
                          {"mac", "AA-BB-CC-00-11-22"},
                          {"static", true}}));
  EXPECT_EQ(strings(db, "addresses"), std::vector<std::string>{"192.0.2.77"});
  EXPECT_EQ(str(db, "mac"), "aa:bb:cc:00:11:22");
  EXPECT_TRUE(db.at("static").as_bool());
  auto v6 = allocate(obj({{"instance", "db-2"},
                          {"pool", "v6"},
                          {"address", "2001:DB8:1:0::0:50"},
                          {"mac", "0200.0000.0abc"}}));
  EXPECT_EQ(strings(v6, "addresses"), std::vector<std::string>{"2001:db8:1::50"});
  EXPECT_EQ(str(v6, "mac"), "02:00:00:00:0a:bc");
  EXPECT_EQ(str(mustGet("/v1/addresses/2001:db8:1::50"), "instance"), "db-2");
  // An address outside every pool is recorded unpooled.
  auto ext = allocate(obj({{"instance", "ext-1"}, {"address", "203.0.113.9"}}));
  EXPECT_EQ(strings(ext, "addresses"), std::vector<std::string>{"203.0.113.9"});
  EXPECT_TRUE(ext.at("address_pools").as_array()[0].at("pool").is_null());
  EXPECT_EQ(str(mustGet("/v1/addresses/203.0.113.9"), "id"), str(ext, "id"));
}

TEST_F(ServerTest, SearchBindingsFiltersAndCursorPagination) {
  createPool(obj({{"name", "s"}, {"cidr", "192.0.2.0/24"}}));
  createPool(obj({{"name", "t"}, {"cidr", "198.51.100.0/24"}}));
  const std::vector<std::string> hosts = {"h1", "h1", "h2", "h2", "h3"};
  std::vector<json::value> made;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    made.push_back(allocate(obj({{"instance", "inst-" + std::to_string(i + 1)},
                                 {"pool", "s"},
                                 {"host", hosts[i]},
                                 {"mac", "02:00:00:00:01:0" + std::to_string(i + 1)}})));
  }
  made.push_back(allocate(obj({{"instance", "inst-6"}, {"pool", "t"}, {"host", "h3"}})));
  auto ids = idsOf;
  auto id = [&](std::size_t i) { return str(made[i], "id"); };

  const std::string ip3 = strings(made[2], "addresses")[0];
  EXPECT_EQ(ids(mustGet("/v1/bindings?ip=" + ip3)), std::vector<std::string>{id(2)});
  EXPECT_EQ(ids(mustGet("/v1/bindings?mac=02:00:00:00:01:04")), std::vector<std::string>{id(3)});
  EXPECT_EQ(ids(mustGet("/v1/bindings?mac=0200.0000.0104")), std::vector<std::string>{id(3)});
  EXPECT_EQ(ids(mustGet("/v1/bindings?instance=inst-5")), std::vector<std::string>{id(4)});
  EXPECT_EQ(ids(mustGet("/v1/bindings?host=h2")), (std::vector<std::string>{id(2), id(3)}));
  EXPECT_EQ(ids(mustGet("/v1/bindings?pool=t")), std::vector<std::string>{id(5)});
  EXPECT_EQ(ids(mustGet("/v1/bindings?host=h3&pool=s")), std::vector<std::string>{id(4)});
  EXPECT_EQ(ids(mustGet("/v1/bindings?state=active")).size(), 6u);
  EXPECT_TRUE(ids(mustGet("/v1/bindings?state=released")).empty());
  EXPECT_TRUE(ids(mustGet("/v1/bindings?instance=nobody")).empty());
  EXPECT_TRUE(ids(mustGet("/v1/bindings?ip=203.0.113.1")).empty());

  // limit=2: three pages of two, in id order, each page's cursor leading to the next.
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = mustGet("/v1/bindings?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    auto page_ids = ids(page);
    EXPECT_LE(page_ids.size(), 2u);
    seen.insert(seen.end(), page_ids.begin(), page_ids.end());
    cursor = str(page, "next_cursor");
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < made.size(); ++i) expected.push_back(id(i));
  EXPECT_EQ(seen, expected);
  // Pagination with a filter: host=h1 has two, limit=1 gives two pages.
  auto p1 = mustGet("/v1/bindings?host=h1&limit=1");
  EXPECT_EQ(ids(p1), std::vector<std::string>{id(0)});
  ASSERT_FALSE(str(p1, "next_cursor").empty());
  auto p2 = mustGet("/v1/bindings?host=h1&limit=1&cursor=" + str(p1, "next_cursor"));
  EXPECT_EQ(ids(p2), std::vector<std::string>{id(1)});
  EXPECT_TRUE(str(p2, "next_cursor").empty());

  EXPECT_EQ(str(mustGet("/v1/bindings/" + id(3)), "instance"), "inst-4");

  // Names with spaces, slashes and non-ASCII survive percent-encoding.
  const std::string odd = "web server/1 \xc3\xa9";
  auto o = allocate(obj({{"instance", odd}, {"pool", "t"}, {"host", "rack 7"}}));
  EXPECT_EQ(idsOf(mustGet("/v1/bindings?instance=" + urlEncode(odd))),
            std::vector<std::string>{str(o, "id")});
  EXPECT_EQ(idsOf(mustGet("/v1/bindings?host=" + urlEncode("rack 7"))),
            std::vector<std::string>{str(o, "id")});
  EXPECT_EQ(str(mustGet("/v1/bindings/" + str(o, "id")), "instance"), odd);
}

TEST_F(ServerTest, RenewMigrateMoveRelease) {
  createPool(obj({{"name", "r"}, {"cidr", "192.0.2.0/24"}, {"default_ttl_s", 600}}));
  auto a = allocate(obj({{"instance", "vm-a"}, {"pool", "r"}, {"host", "hv1"}, {"ttl_s", 60}}));
  const std::string a_id = str(a, "id");
  EXPECT_EQ(parseTimeMs(str(a, "expires_at")) - parseTimeMs(str(a, "created_at")), 60'000);
  auto b = allocate(obj({{"instance", "vm-b"}, {"pool", "r"}, {"host", "hv1"}}));
  EXPECT_EQ(parseTimeMs(str(b, "expires_at")) - parseTimeMs(str(b, "created_at")), 600'000)
      << "the pool's default_ttl_s applies";
  auto c = allocate(obj({{"instance", "vm-c"}, {"pool", "r"}, {"host", "hv2"}}));

  // Renew one, with a new TTL.
  auto renewed = api_->post("/v1/bindings/" + a_id + "/renew", obj({{"ttl_s", 120}}));
  ASSERT_EQ(renewed.status, 200u) << renewed.describe();
  auto ra = renewed.json();
  EXPECT_EQ(num(ra, "version"), 2);
  EXPECT_EQ(parseTimeMs(str(ra, "expires_at")) - parseTimeMs(str(ra, "updated_at")), 120'000);
  // Renew without a body keeps the TTL.
  auto plain = api_->request("POST", "/v1/bindings/" + a_id + "/renew");
  ASSERT_EQ(plain.status, 200u) << plain.describe();
  EXPECT_EQ(num(plain.json(), "version"), 3);
  EXPECT_EQ(
      parseTimeMs(str(plain.json(), "expires_at")) - parseTimeMs(str(plain.json(), "updated_at")),
      120'000);

  // Bulk heartbeat of a host renews every binding on it, and only those.
  auto host = api_->request("POST", "/v1/hosts/hv1/renew");
  ASSERT_EQ(host.status, 200u) << host.describe();
  EXPECT_EQ(str(host.json(), "host"), "hv1");
  EXPECT_EQ(num(host.json(), "renewed"), 2);
  EXPECT_EQ(num(mustGet("/v1/bindings/" + a_id), "version"), 4);
  EXPECT_EQ(num(mustGet("/v1/bindings/" + str(b, "id")), "version"), 2);
  EXPECT_EQ(num(mustGet("/v1/bindings/" + str(c, "id")), "version"), 1);
  EXPECT_EQ(num(api_->request("POST", "/v1/hosts/nowhere/renew").json(), "renewed"), 0);

  // Live migration: new host, same addresses and MAC.
  auto migrated = api_->post("/v1/bindings/" + a_id + "/migrate",
                             obj({{"host", "hv2"}, {"host_mac", "02:00:00:00:99:01"}}));
  ASSERT_EQ(migrated.status, 200u) << migrated.describe();
  EXPECT_EQ(str(migrated.json(), "host"), "hv2");
  EXPECT_EQ(str(migrated.json(), "host_mac"), "02:00:00:00:99:01");
  EXPECT_EQ(strings(migrated.json(), "addresses"), strings(a, "addresses"));
  EXPECT_EQ(str(mustGet("/v1/bindings/" + a_id), "host"), "hv2");
  EXPECT_EQ(items(mustGet("/v1/bindings?host=hv2")).size(), 2u);
  EXPECT_EQ(items(mustGet("/v1/bindings?host=hv1")).size(), 1u);

  // VIP failover: 192.0.2.200 moves from lb-1 to lb-2.
  auto lb1 = allocate(obj({{"instance", "lb-1"}, {"pool", "r"}, {"address", "192.0.2.200"}}));
  auto lb2 = allocate(obj({{"instance", "lb-2"}, {"pool", "r"}}));
  const std::string lb2_own = strings(lb2, "addresses")[0];
  EXPECT_EQ(str(mustGet("/v1/addresses/192.0.2.200"), "id"), str(lb1, "id"));
  auto moved = api_->post("/v1/addresses/192.0.2.200/move", obj({{"to", str(lb2, "id")}}));
  ASSERT_EQ(moved.status, 200u) << moved.describe();
  EXPECT_EQ(str(moved.json(), "id"), str(lb2, "id"));
  EXPECT_EQ(strings(moved.json(), "addresses"), (std::vector<std::string>{lb2_own, "192.0.2.200"}));
  auto holder = mustGet("/v1/addresses/192.0.2.200");
  EXPECT_EQ(str(holder, "id"), str(lb2, "id"));
  EXPECT_EQ(str(holder, "instance"), "lb-2");
  EXPECT_TRUE(strings(mustGet("/v1/bindings/" + str(lb1, "id")), "addresses").empty());
  EXPECT_EQ(idsOf(mustGet("/v1/bindings?ip=192.0.2.200")),
            std::vector<std::string>{str(lb2, "id")});

  // Release: the answer shows the released binding, after which it is gone.
  auto released = api_->del("/v1/bindings/" + a_id);
  ASSERT_EQ(released.status, 200u) << released.describe();
  EXPECT_EQ(str(released.json(), "state"), "released");
  EXPECT_EQ(str(released.json(), "id"), a_id);
  EXPECT_TRUE(isProblem(api_->get("/v1/bindings/" + a_id), 404, "not_found", a_id));
  EXPECT_TRUE(
      isProblem(api_->get("/v1/addresses/" + strings(a, "addresses")[0]), 404, "not_found"));
  EXPECT_TRUE(isProblem(api_->del("/v1/bindings/" + a_id), 404, "not_found"));
  EXPECT_TRUE(
      isProblem(api_->request("POST", "/v1/bindings/" + a_id + "/renew"), 404, "not_found"));
}

TEST_F(ServerTest, WhoHasHistoryAtAndLineage) {
  createPool(obj({{"name", "h"}, {"cidr", "192.0.2.0/24"}, {"quarantine_s", 0}}));
  auto before_all = parseTimeMs(str(mustGet("/v1/pools/h"), "created_at"));
  auto b = allocate(
      obj({{"instance", "vm-h"}, {"pool", "h"}, {"host", "hv9"}, {"mac", "02:00:00:00:00:42"}}));
  const std::string id = str(b, "id");
  const std::string ip = strings(b, "addresses")[0];
  EXPECT_EQ(str(mustGet("/v1/addresses/" + ip), "id"), id);
  EXPECT_EQ(str(mustGet("/v1/macs/02-00-00-00-00-42"), "id"), id);
  EXPECT_EQ(str(mustGet("/v1/macs/0200.0000.0042"), "instance"), "vm-h");

  std::this_thread::sleep_for(300ms);
  const std::int64_t created = parseTimeMs(str(b, "created_at"));
  const std::int64_t mid = created + 150;
  auto released = api_->del("/v1/bindings/" + id);
  ASSERT_EQ(released.status, 200u);
  const std::int64_t release_time = parseTimeMs(str(released.json(), "updated_at"));
  ASSERT_GT(release_time, mid);
  EXPECT_TRUE(isProblem(api_->get("/v1/addresses/" + ip), 404, "not_found"));
  EXPECT_TRUE(isProblem(api_->get("/v1/macs/02:00:00:00:00:42"), 404, "not_found"));

  // Who held the IP (and the MAC) at `mid`, between allocate and release?
  auto at = mustGet("/v1/history?ip=" + ip + "&at=" + formatTimeMs(mid));
  EXPECT_EQ(str(at, "key"), "ip:" + ip);
  EXPECT_EQ(str(at.at("holder"), "binding_id"), id);
  EXPECT_EQ(str(at.at("holder"), "instance"), "vm-h");
  EXPECT_EQ(str(at.at("holder"), "mac"), "02:00:00:00:00:42");
  EXPECT_EQ(str(at.at("holder"), "host"), "hv9");
  EXPECT_EQ(str(mustGet("/v1/history?mac=02:00:00:00:00:42&at=" + formatTimeMs(mid)).at("holder"),
                "binding_id"),
            id);
  // Before the allocation and after the release nobody held it.
  EXPECT_TRUE(
      isProblem(api_->get("/v1/history?ip=" + ip + "&at=" + formatTimeMs(before_all - 1000)), 404,
                "not_found"));
  EXPECT_TRUE(isProblem(api_->get("/v1/history?ip=" + ip + "&at=" + formatTimeMs(release_time + 5)),
                        404, "not_found"));

  // The address is reused (quarantine 0) by another instance.
  std::this_thread::sleep_for(20ms);
  auto b2 = allocate(obj({{"instance", "vm-h2"}, {"pool", "h"}, {"address", ip}}));
  const std::int64_t reuse_time = parseTimeMs(str(b2, "created_at"));
  auto lineage = mustGet("/v1/history?ip=" + ip);
  std::vector<std::string> ops, instances;
  for (const auto& e : lineage.at("entries").as_array()) {
    ops.push_back(str(e, "op"));
    instances.push_back(str(e, "instance"));
  }
  EXPECT_EQ(ops,
            (std::vector<std::string>{"binding.allocate", "binding.release", "binding.allocate"}));
  EXPECT_EQ(instances, (std::vector<std::string>{"vm-h", "vm-h", "vm-h2"}));
  // A window from `mid` to just before the reuse: the holder at `mid`, then the release.
  auto window = mustGet("/v1/history?ip=" + ip + "&from=" + formatTimeMs(mid) +
                        "&to=" + formatTimeMs(reuse_time - 5));
  ops.clear();
  for (const auto& e : window.at("entries").as_array()) ops.push_back(str(e, "op"));
  EXPECT_EQ(ops, (std::vector<std::string>{"binding.allocate", "binding.release"}));
  // The instance's lineage.
  auto inst = mustGet("/v1/history?instance=vm-h");
  ops.clear();
  for (const auto& e : inst.at("entries").as_array()) ops.push_back(str(e, "op"));
  EXPECT_EQ(ops, (std::vector<std::string>{"binding.allocate", "binding.release"}));
}

TEST_F(ServerTest, AuditOpFilterAndCursor) {
  createPool(obj({{"name", "a"}, {"cidr", "192.0.2.0/24"}}));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(
        str(allocate(obj({{"instance", "au-" + std::to_string(i)}, {"pool", "a"}})), "id"));
  }
  ASSERT_EQ(api_->del("/v1/bindings/" + ids[0]).status, 200u);

  // op=binding.allocate, two per page, newest first, following next_cursor.
  std::vector<std::int64_t> seqs;
  std::vector<std::string> subjects;
  std::string cursor;
  int pages = 0;
  do {
    auto page = mustGet("/v1/audit?op=binding.allocate&limit=2" +
                        (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const auto& e : items(page)) {
      EXPECT_EQ(str(e, "op"), "binding.allocate");
      EXPECT_EQ(str(e, "actor"), "admin");
      EXPECT_TRUE(e.at("before").is_null());
      seqs.push_back(num(e, "seq"));
      subjects.push_back(str(e, "subject"));
    }
    cursor = str(page, "next_cursor");
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_GE(pages, 3);
  ASSERT_EQ(seqs.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seqs.rbegin(), seqs.rend()));
  EXPECT_EQ(std::set<std::int64_t>(seqs.begin(), seqs.end()).size(), 5u);
  EXPECT_EQ(subjects.front(), "binding:" + ids[4]);
  EXPECT_EQ(subjects.back(), "binding:" + ids[0]);

  auto releases = mustGet("/v1/audit?op=binding.release");
  ASSERT_EQ(items(releases).size(), 1u);
  EXPECT_EQ(str(items(releases)[0], "subject"), "binding:" + ids[0]);
  EXPECT_EQ(str(items(releases)[0].at("before"), "state"), "active");
  EXPECT_EQ(str(items(releases)[0].at("after"), "state"), "released");
  auto pool_events = mustGet("/v1/audit?op=pool.create");
  ASSERT_EQ(items(pool_events).size(), 1u);
  EXPECT_EQ(str(items(pool_events)[0], "subject"), "pool:a");
  EXPECT_TRUE(str(pool_events, "next_cursor").empty());
}

TEST_F(ServerTest, TokensCreateListRevoke) {
  // The first start wrote the bootstrap admin token to DATA_DIR/admin.token.
  std::ifstream in(server_.dataDir() + "/admin.token");
  std::string from_file;
  in >> from_file;
  EXPECT_EQ(from_file, server_.adminToken());

  auto created = api_->post("/v1/tokens", obj({{"name", "ci"}, {"role", "operator"}}));
  ASSERT_EQ(created.status, 201u) << created.describe();
  const std::string secret = str(created.json(), "secret");
  EXPECT_EQ(secret.rfind("nlt_", 0), 0u) << secret;
  EXPECT_EQ(str(created.json(), "role"), "operator");
  EXPECT_TRUE(created.json().at("tenants").as_array().empty());

  auto list = mustGet("/v1/tokens");
  std::vector<std::string> names;
  for (const auto& t : items(list)) {
    names.push_back(str(t, "name"));
    EXPECT_FALSE(t.as_object().contains("secret")) << "secrets are shown once only";
  }
  EXPECT_EQ(names, (std::vector<std::string>{"admin", "ci"}));
  EXPECT_EQ(str(items(list)[1], "role"), "operator");

  auto ci = server_.client(secret);
  EXPECT_EQ(ci->get("/v1/pools").status, 200u);
  EXPECT_TRUE(isProblem(api_->post("/v1/tokens", obj({{"name", "ci"}})), 409, "conflict", "ci"));

  EXPECT_EQ(api_->del("/v1/tokens/ci").status, 204u);
  // Revoked: refused at once, also on the connection that was already open.
  EXPECT_TRUE(isProblem(ci->get("/v1/pools"), 401, "unauthorized"));
  EXPECT_EQ(ci->connects(), 1);
  EXPECT_TRUE(isProblem(api_->del("/v1/tokens/ci"), 404, "not_found", "ci"));
  EXPECT_EQ(items(mustGet("/v1/tokens")).size(), 1u);
  // The last admin token cannot be revoked.
  EXPECT_TRUE(isProblem(api_->del("/v1/tokens/admin"), 409, "conflict", "last admin"));
}

TEST_F(ServerTest, OperationsEndpoints) {
  HttpClient anon(server_.port());
  auto health = anon.get("/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(str(health.json(), "status"), "ok");
  auto ready = anon.get("/readyz");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(str(ready.json(), "status"), "ready");

  createPool(obj({{"name", "mpool"}, {"cidr", "192.0.2.0/24"}}));
  allocate(obj({{"instance", "m-1"}, {"pool", "mpool"}}));
  auto metrics = anon.get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.header("Content-Type").rfind("text/plain", 0), 0u)
      << metrics.header("Content-Type");
  EXPECT_NE(metrics.body.find("netledger_http_requests_total"), std::string::npos);
  const std::string util = "netledger_pool_utilization{pool=\"mpool\"} ";
  auto pos = metrics.body.find(util);
  ASSERT_NE(pos, std::string::npos) << metrics.body;
  double value = std::stod(metrics.body.substr(pos + util.size(), 32));
  EXPECT_NEAR(value, 1.0 / 254, 1e-6);
  EXPECT_NE(metrics.body.find("netledger_pool_addresses{pool=\"mpool\",state=\"used\"} 1\n"),
            std::string::npos);

  auto openapi = anon.get("/v1/openapi.json");
  ASSERT_EQ(openapi.status, 200u);
  auto doc = openapi.json();
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.at("paths").is_object());
  EXPECT_TRUE(doc.at("paths").as_object().contains("/v1/pools"));
  EXPECT_TRUE(doc.at("paths").as_object().contains("/v1/bindings"));

  auto snap = api_->get("/v1/snapshot");
  ASSERT_EQ(snap.status, 200u) << snap.describe();
  ASSERT_GE(snap.body.size(), 16u);
  EXPECT_EQ(snap.body.substr(0, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(snap.header("Content-Type"), "application/vnd.sqlite3");
  EXPECT_TRUE(isProblem(anon.get("/v1/snapshot"), 401, "unauthorized"));
  auto op = server_.client(createToken("op", "operator"));
  EXPECT_TRUE(isProblem(op->get("/v1/snapshot"), 403, "forbidden"));
}

}  // namespace
}  // namespace netledger::it
