// Roles (admin, operator, viewer) and tenant-scoped tokens.
#include <string>
#include <vector>

#include "integration/harness.h"

namespace netledger::it {
namespace {

std::vector<std::string> names(const json::value& list, std::string_view key = "name") {
  std::vector<std::string> out;
  for (const auto& x : items(list)) out.push_back(str(x, key));
  return out;
}

TEST_F(ServerTest, ViewerReadsButCannotWrite) {
  createPool(obj({{"name", "p"}, {"cidr", "192.0.2.0/24"}}));
  auto b = allocate(obj({{"instance", "vm-1"}, {"pool", "p"}}));
  auto viewer = server_.client(createToken("watcher", "viewer"));
  const std::string before = fingerprint();

  EXPECT_EQ(viewer->get("/v1/pools").status, 200u);
  EXPECT_EQ(viewer->get("/v1/pools/p").status, 200u);
  EXPECT_EQ(viewer->get("/v1/bindings/" + str(b, "id")).status, 200u);
  EXPECT_EQ(viewer->get("/v1/history?instance=vm-1").status, 200u);

  EXPECT_TRUE(isProblem(viewer->post("/v1/bindings", obj({{"instance", "vm-2"}, {"pool", "p"}})),
                        403, "forbidden", "watcher"));
  // Even an idempotent repeat of an existing allocation is a write.
  EXPECT_TRUE(isProblem(viewer->post("/v1/bindings", obj({{"instance", "vm-1"}, {"pool", "p"}})),
                        403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->del("/v1/bindings/" + str(b, "id")), 403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->request("POST", "/v1/bindings/" + str(b, "id") + "/renew"), 403,
                        "forbidden"));
  EXPECT_TRUE(
      isProblem(viewer->post("/v1/bindings/" + str(b, "id") + "/migrate", obj({{"host", "h2"}})),
                403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->request("POST", "/v1/hosts/h1/renew"), 403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->patch("/v1/pools/p", obj({{"vlan", 5}})), 403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->del("/v1/pools/p"), 403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->post("/v1/mac-pools", obj({{"name", "m"}})), 403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->post("/v1/tokens", obj({{"name", "x"}})), 403, "forbidden"));
  EXPECT_EQ(fingerprint(), before);
}

TEST_F(ServerTest, OperatorAllocatesButCannotChangePoolsOrTokens) {
  createPool(obj({{"name", "p"}, {"cidr", "192.0.2.0/24"}}));
  auto op = server_.client(createToken("ops", "operator"));

  auto b = op->post("/v1/bindings", obj({{"instance", "vm-1"}, {"pool", "p"}, {"host", "h1"}}));
  ASSERT_EQ(b.status, 201u) << b.describe();
  const std::string id = str(b.json(), "id");
  EXPECT_EQ(op->request("POST", "/v1/bindings/" + id + "/renew").status, 200u);
  EXPECT_EQ(op->post("/v1/bindings/" + id + "/migrate", obj({{"host", "h2"}})).status, 200u);
  // The audit log names the operator's token as the actor.
  auto audit = mustGet("/v1/audit?op=binding.allocate");
  ASSERT_EQ(items(audit).size(), 1u);
  EXPECT_EQ(str(items(audit)[0], "actor"), "ops");

  const std::string before = fingerprint();
  EXPECT_TRUE(isProblem(op->post("/v1/pools", obj({{"name", "q"}, {"cidr", "198.51.100.0/24"}})),
                        403, "forbidden", "create pools"));
  EXPECT_TRUE(isProblem(op->patch("/v1/pools/p", obj({{"vlan", 7}})), 403, "forbidden"));
  EXPECT_TRUE(isProblem(op->del("/v1/pools/p"), 403, "forbidden"));
  EXPECT_TRUE(isProblem(op->post("/v1/mac-pools", obj({{"name", "m"}})), 403, "forbidden"));
  EXPECT_TRUE(isProblem(op->post("/v1/tokens", obj({{"name", "mine"}, {"role", "admin"}})), 403,
                        "forbidden", "create tokens"));
  EXPECT_TRUE(isProblem(op->get("/v1/tokens"), 403, "forbidden"));
  EXPECT_TRUE(isProblem(op->del("/v1/tokens/admin"), 403, "forbidden"));
  EXPECT_EQ(fingerprint(), before);

  EXPECT_EQ(op->del("/v1/bindings/" + id).status, 200u);
}

TEST_F(ServerTest, TenantScopedTokenSeesOnlyItsTenant) {
  createPool(obj({{"name", "red-net"}, {"cidr", "192.0.2.0/24"}, {"tenant", "red"}}));
  createPool(obj({{"name", "blue-net"}, {"cidr", "198.51.100.0/24"}, {"tenant", "blue"}}));
  createPool(obj({{"name", "shared"}, {"cidr", "203.0.113.0/24"}}));
  auto blue_b = allocate(obj({{"instance", "blue-vm"},
                              {"pool", "blue-net"},
                              {"mac", "02:00:00:00:0b:01"},
                              {"host", "hv"}}));
  const std::string blue_id = str(blue_b, "id");
  const std::string blue_ip = strings(blue_b, "addresses")[0];
  auto red = server_.client(createToken("red-ops", "operator", {"red"}));

  // Allocation from its own pool is tagged with the tenant.
  auto rb =
      red->post("/v1/bindings", obj({{"instance", "red-vm"}, {"pool", "red-net"}, {"host", "hv"}}));
  ASSERT_EQ(rb.status, 201u) << rb.describe();
  EXPECT_EQ(str(rb.json(), "tenant"), "red");
  const std::string red_id = str(rb.json(), "id");

  // Lists show only red (and no untenanted pools, which belong to no tenant).
  auto pools = red->get("/v1/pools");
  ASSERT_EQ(pools.status, 200u);
  EXPECT_EQ(names(pools.json()), std::vector<std::string>{"red-net"});
  auto bindings = red->get("/v1/bindings");
  ASSERT_EQ(bindings.status, 200u);
  EXPECT_EQ(names(bindings.json(), "id"), std::vector<std::string>{red_id});
  EXPECT_TRUE(items(red->get("/v1/bindings?host=hv").json()).size() == 1);
  EXPECT_TRUE(items(red->get("/v1/bindings?ip=" + blue_ip).json()).empty());

  // Everything blue reads as absent.
  EXPECT_TRUE(isProblem(red->get("/v1/pools/blue-net"), 404, "not_found"));
  EXPECT_TRUE(isProblem(red->get("/v1/pools/shared"), 404, "not_found"));
  EXPECT_TRUE(isProblem(red->get("/v1/bindings/" + blue_id), 404, "not_found"));
  EXPECT_TRUE(isProblem(red->get("/v1/addresses/" + blue_ip), 404, "not_found"));
  EXPECT_TRUE(isProblem(red->get("/v1/macs/02:00:00:00:0b:01"), 404, "not_found"));
  EXPECT_TRUE(isProblem(red->get("/v1/history?ip=" + blue_ip +
                                 "&at=" + formatTimeMs(parseTimeMs(str(blue_b, "created_at")) + 1)),
                        404, "not_found"));
  auto lineage = red->get("/v1/history?instance=blue-vm");
  ASSERT_EQ(lineage.status, 200u);
  EXPECT_TRUE(lineage.json().at("entries").as_array().empty()) << lineage.body;
  EXPECT_TRUE(isProblem(red->get("/v1/audit"), 403, "forbidden"));

  // And it cannot write blue.
  const std::string before = fingerprint();
  EXPECT_TRUE(isProblem(red->post("/v1/bindings", obj({{"instance", "x"}, {"pool", "blue-net"}})),
                        404, "not_found", "blue-net"));
  EXPECT_TRUE(
      isProblem(red->post("/v1/bindings",
                          obj({{"instance", "x"}, {"pools", json::array{"red-net", "blue-net"}}})),
                404, "not_found", "blue-net"));
  EXPECT_TRUE(isProblem(red->del("/v1/bindings/" + blue_id), 404, "not_found"));
  EXPECT_TRUE(
      isProblem(red->request("POST", "/v1/bindings/" + blue_id + "/renew"), 404, "not_found"));
  EXPECT_TRUE(isProblem(red->post("/v1/bindings/" + blue_id + "/migrate", obj({{"host", "h9"}})),
                        404, "not_found"));
  EXPECT_TRUE(isProblem(red->post("/v1/addresses/" + blue_ip + "/move", obj({{"to", red_id}})), 404,
                        "not_found"));
  // The idempotent path must not hand out blue's binding either.
  EXPECT_TRUE(
      isProblem(red->post("/v1/bindings", obj({{"instance", "blue-vm"}, {"pool", "red-net"}})), 404,
                "not_found"));
  EXPECT_EQ(fingerprint(), before);

  // Host renew touches only red's binding on the shared host.
  auto renewed = red->request("POST", "/v1/hosts/hv/renew");
  ASSERT_EQ(renewed.status, 200u);
  EXPECT_EQ(num(renewed.json(), "renewed"), 1);
  EXPECT_EQ(num(mustGet("/v1/bindings/" + red_id), "version"), 2);
  EXPECT_EQ(num(mustGet("/v1/bindings/" + blue_id), "version"), 1);
  EXPECT_EQ(str(mustGet("/v1/bindings/" + blue_id), "updated_at"), str(blue_b, "updated_at"));

  // An admin-scoped red token cannot create blue pools either.
  auto red_admin = server_.client(createToken("red-admin", "admin", {"red"}));
  EXPECT_TRUE(isProblem(
      red_admin->post("/v1/pools",
                      obj({{"name", "b2"}, {"cidr", "2001:db8:b::/64"}, {"tenant", "blue"}})),
      403, "forbidden", "tenant"));
  auto own = red_admin->post("/v1/pools",
                             obj({{"name", "r2"}, {"cidr", "2001:db8:a::/64"}, {"tenant", "red"}}));
  EXPECT_EQ(own.status, 201u) << own.describe();
  EXPECT_TRUE(isProblem(red_admin->del("/v1/pools/blue-net"), 404, "not_found"));
  EXPECT_TRUE(isProblem(red_admin->get("/v1/snapshot"), 403, "forbidden"));
}

}  // namespace
}  // namespace netledger::it
