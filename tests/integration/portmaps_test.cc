// /v1/portmaps and /v1/portranges against the real daemon: host ports handed out from per-node
// ranges, never twice (409 naming the holder, also under concurrent requests), bad requests
// refused naming the field with nothing changed, audit, durability, tenant scope, and mappings
// of released bindings removed by the daemon.
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "cli/cli.h"
#include "integration/harness.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class PortMapsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    createPool(obj({{"name", "vms"}, {"cidr", "192.0.2.0/24"}}));
    vm_ = num(allocate(obj({{"instance", "vm-1"}, {"pool", "vms"}, {"host", "node-a"}})), "id");
  }
  HttpResponse create(const json::value& body, HttpClient* client = nullptr) {
    return (client ? client : api_.get())->post("/v1/portmaps", body);
  }
  std::int64_t vm_ = 0;
};

TEST_F(PortMapsTest, AHostPortHasOneHolderAndTheMappingIsDurableAndAudited) {
  auto r = create(obj({{"binding_id", vm_}, {"host_port", 8080}, {"port", 80}}));
  ASSERT_EQ(r.status, 201u) << r.describe();
  auto m = r.json();
  const std::string id = str(m, "id");
  EXPECT_EQ(str(m, "node"), "node-a");  // the binding's host
  EXPECT_EQ(str(m, "protocol"), "tcp");
  EXPECT_EQ(str(m, "address"), "192.0.2.1");
  EXPECT_TRUE(m.at("host_address").is_null());
  auto again = create(
      obj({{"binding_id", vm_}, {"host_port", 8075}, {"host_port_end", 8080}, {"port", 1000}}));
  EXPECT_TRUE(isProblem(again, 409, "conflict", id));  // names the holder
  EXPECT_NE(again.body.find("host_port"), std::string::npos);
  // Another protocol, another node, or an address of its own on the same node: no collision
  // for the first two; the third overlaps the mapping that takes every address.
  EXPECT_EQ(
      create(obj({{"binding_id", vm_}, {"host_port", 8080}, {"port", 80}, {"protocol", "udp"}}))
          .status,
      201u);
  EXPECT_EQ(
      create(obj({{"binding_id", vm_}, {"host_port", 8080}, {"port", 80}, {"node", "node-b"}}))
          .status,
      201u);
  EXPECT_TRUE(isProblem(create(obj({{"binding_id", vm_},
                                    {"host_port", 8080},
                                    {"port", 80},
                                    {"host_address", "203.0.113.7"}})),
                        409, "conflict", id));
  server_.kill9();
  server_.start();
  api_->setPort(server_.port());
  EXPECT_EQ(str(mustGet("/v1/portmaps/" + id), "address"), "192.0.2.1");
  EXPECT_EQ(items(mustGet("/v1/portmaps?node=node-a")).size(), 2u);
  EXPECT_EQ(items(mustGet("/v1/portmaps?binding_id=" + std::to_string(vm_))).size(), 3u);
  EXPECT_EQ(items(mustGet("/v1/audit?op=portmap.create")).size(), 3u);
  EXPECT_EQ(api_->del("/v1/portmaps/" + id).status, 204u);
  EXPECT_TRUE(isProblem(api_->get("/v1/portmaps/" + id), 404, "not_found"));
  auto deleted = items(mustGet("/v1/audit?op=portmap.delete"));
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(str(deleted[0], "subject"), "portmap:" + id);
  EXPECT_EQ(create(obj({{"binding_id", vm_}, {"host_port", 8080}, {"port", 80}})).status, 201u);
}

TEST_F(PortMapsTest, AutomaticPortsComeFromTheNodesRangeUntilItIsFull) {
  auto first = create(obj({{"binding_id", vm_}, {"port", 22}}));
  ASSERT_EQ(first.status, 201u) << first.describe();
  EXPECT_EQ(num(first.json(), "host_port"), 30000);  // the default range
  auto r = api_->request("PUT", "/v1/portranges/node-a", R"({"first":40000,"last":40004})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  auto run = create(obj({{"binding_id", vm_}, {"port", 5000}, {"count", 3}}));
  ASSERT_EQ(run.status, 201u) << run.describe();
  EXPECT_EQ(num(run.json(), "host_port"), 40000);
  EXPECT_EQ(num(run.json(), "host_port_end"), 40002);
  EXPECT_TRUE(isProblem(create(obj({{"binding_id", vm_}, {"port", 5000}, {"count", 3}})), 409,
                        "conflict", "40000-40004"));
  EXPECT_EQ(
      num(create(obj({{"binding_id", vm_}, {"port", 6000}, {"count", 2}})).json(), "host_port"),
      40003);
  // Ranges of two nodes never overlap; the other node's own range is its own.
  auto overlap = api_->request("PUT", "/v1/portranges/node-b", R"({"first":40004,"last":40010})");
  EXPECT_TRUE(isProblem(overlap, 409, "conflict", "node-a"));
  auto ranges = mustGet("/v1/portranges");
  ASSERT_EQ(items(ranges).size(), 1u);
  EXPECT_EQ(num(ranges.at("default"), "first"), 30000);
  HttpClient op(server_.port(), createToken("op", "operator"));
  EXPECT_TRUE(isProblem(op.request("PUT", "/v1/portranges/node-c", R"({"first":1,"last":2})"), 403,
                        "forbidden"));
  EXPECT_EQ(api_->del("/v1/portranges/node-a").status, 204u);
  EXPECT_TRUE(isProblem(api_->del("/v1/portranges/node-a"), 404, "not_found"));
  EXPECT_EQ(items(mustGet("/v1/audit?op=portrange.set")).size(), 1u);
}

TEST_F(PortMapsTest, BadRequestsNameTheFieldAndChangeNothing) {
  const std::string before = fingerprint();
  struct Case {
    std::string body;
    std::string field;
  };
  const std::string b = std::to_string(vm_);
  const std::vector<Case> cases{
      {R"({"binding_id":)" + b + R"(,"host_port":0,"port":80})", "host_port"},
      {R"({"binding_id":)" + b + R"(,"host_port":65536,"port":80})", "host_port"},
      {R"({"binding_id":)" + b + R"(,"port":0})", "port"},
      {R"({"binding_id":)" + b + R"(})", "port"},
      {R"({"binding_id":)" + b + R"(,"port":80,"protocol":"icmp"})", "protocol"},
      {R"({"binding_id":)" + b + R"(,"port":80,"family":"ipv6"})", "binding_id"},
      {R"({"binding_id":)" + b + R"(,"port":80,"family":"ipv5"})", "family"},
      {R"({"binding_id":)" + b + R"(,"port":80,"family":"ipv6","host_address":"192.0.2.9"})",
       "family"},
      {R"({"binding_id":)" + b + R"(,"port":80,"host_address":"300.1.1.1"})", "host_address"},
      {R"({"binding_id":)" + b + R"(,"port":80,"host_port":90,"host_port_end":89})",
       "host_port_end"},
      {R"({"binding_id":)" + b + R"(,"port":80,"host_port_end":89})", "host_port_end"},
      {R"({"binding_id":)" + b + R"(,"port":80,"host_port":1,"host_port_end":2000})",
       "host_port_end"},
      {R"({"binding_id":)" + b + R"(,"port":80,"host_port":90,"count":2})", "count"},
      {R"({"binding_id":)" + b + R"(,"port":80,"count":2000})", "count"},
      {R"({"binding_id":)" + b + R"(,"port":65535,"count":2})", "port"},
      {R"({"binding_id":999,"port":80})", "binding_id"},
      {R"({"port":80})", "binding_id"},
      {R"({"binding_id":)" + b + R"(,"port":80,"hostport":1})", "hostport"},
      {R"({"binding_id":"x","port":80})", "binding_id"},
      {R"({"binding_id":)" + b + R"(,"port":80.5})", "port"},
      {"{", ""},
  };
  for (const Case& c : cases) {
    auto r = api_->request("POST", "/v1/portmaps", c.body);
    EXPECT_TRUE(isProblem(r, 400, "invalid_argument", c.field)) << c.body << " -> " << r.describe();
  }
  auto range = api_->request("PUT", "/v1/portranges/node-a", R"({"first":10,"last":9})");
  EXPECT_TRUE(isProblem(range, 400, "invalid_argument", "last"));
  EXPECT_TRUE(isProblem(api_->request("PUT", "/v1/portranges/node-a", R"({"first":0,"last":9})"),
                        400, "invalid_argument", "first"));
  EXPECT_EQ(fingerprint(), before);
  EXPECT_TRUE(items(mustGet("/v1/portmaps")).empty());
  // A binding without a host needs the node named.
  auto hostless = num(allocate(obj({{"instance", "vm-2"}, {"pool", "vms"}})), "id");
  EXPECT_TRUE(isProblem(create(obj({{"binding_id", hostless}, {"port", 80}})), 400,
                        "invalid_argument", "node"));
}

TEST_F(PortMapsTest, AReleasedBindingsMappingsAreRemoved) {
  auto m = create(obj({{"binding_id", vm_}, {"host_port", 2222}, {"port", 22}}));
  ASSERT_EQ(m.status, 201u) << m.describe();
  ASSERT_EQ(api_->del("/v1/bindings/" + std::to_string(vm_)).status, 200u);
  ASSERT_TRUE(testing_util::eventually([&] { return items(mustGet("/v1/portmaps")).empty(); }, 5s));
  // The audit log reads the store: the sweeper's delete is there once committed.
  ASSERT_TRUE(testing_util::eventually(
      [&] { return items(mustGet("/v1/audit?op=portmap.delete")).size() == 1; }, 5s));
  EXPECT_EQ(str(items(mustGet("/v1/audit?op=portmap.delete"))[0], "actor"), "portmaps");
}

TEST_F(PortMapsTest, ATenantSeesAndMapsOnlyItsBindings) {
  createPool(obj({{"name", "red"}, {"cidr", "203.0.113.0/24"}, {"tenant", "red"}}));
  auto red =
      num(allocate(obj({{"instance", "red-vm"}, {"pool", "red"}, {"host", "node-a"}})), "id");
  HttpClient blue(server_.port(), createToken("blue-op", "operator", {"blue"}));
  HttpClient red_op(server_.port(), createToken("red-op", "operator", {"red"}));
  EXPECT_TRUE(isProblem(create(obj({{"binding_id", red}, {"port", 80}}), &blue), 400,
                        "invalid_argument", "binding_id"));
  auto r = create(obj({{"binding_id", red}, {"port", 80}}), &red_op);
  ASSERT_EQ(r.status, 201u) << r.describe();
  const std::string id = str(r.json(), "id");
  EXPECT_TRUE(items(blue.get("/v1/portmaps").json()).empty());
  EXPECT_TRUE(isProblem(blue.get("/v1/portmaps/" + id), 404, "not_found"));
  EXPECT_TRUE(isProblem(blue.del("/v1/portmaps/" + id), 404, "not_found"));
  EXPECT_EQ(items(red_op.get("/v1/portmaps").json()).size(), 1u);
  HttpClient viewer(server_.port(), createToken("viewer", "viewer"));
  EXPECT_TRUE(
      isProblem(create(obj({{"binding_id", vm_}, {"port", 80}}), &viewer), 403, "forbidden"));
}

// A node's own services are out of a tenant's reach: another node than the binding's, ports
// below 1024 and the node's reserved ports; a host address must be the node's; and a 409 does
// not name another tenant's mapping.
TEST_F(PortMapsTest, ANodesOwnPortsAndAddressesAreProtected) {
  createPool(obj({{"name", "red"}, {"cidr", "203.0.113.0/24"}, {"tenant", "red"}}));
  auto red =
      num(allocate(obj({{"instance", "red-vm"}, {"pool", "red"}, {"host", "node-a"}})), "id");
  HttpClient red_op(server_.port(), createToken("red-op", "operator", {"red"}));
  HttpClient red_admin(server_.port(), createToken("red-admin", "admin", {"red"}));
  EXPECT_TRUE(
      isProblem(create(obj({{"binding_id", red}, {"port", 22}, {"node", "node-b"}}), &red_admin),
                403, "forbidden", "node"));
  EXPECT_TRUE(
      isProblem(create(obj({{"binding_id", red}, {"port", 22}, {"host_port", 22}}), &red_op), 403,
                "forbidden", "host_port"));
  auto r = api_->request("PUT", "/v1/portranges/node-a",
                         R"({"first":30000,"last":30010,"reserved":["30000-30001","10250"]})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(strings(r.json(), "reserved"), (std::vector<std::string>{"30000-30001", "10250"}));
  EXPECT_TRUE(
      isProblem(create(obj({{"binding_id", red}, {"port", 80}, {"host_port", 10250}}), &red_op),
                409, "conflict", "reserved"));
  EXPECT_TRUE(isProblem(
      create(obj({{"binding_id", vm_}, {"port", 80}, {"host_port", 10250}, {"protocol", "udp"}})),
      409, "conflict", "reserved"));  // an admin too, any protocol
  auto automatic = create(obj({{"binding_id", red}, {"port", 80}}), &red_op);
  ASSERT_EQ(automatic.status, 201u) << automatic.describe();
  EXPECT_EQ(num(automatic.json(), "host_port"), 30002);
  EXPECT_EQ(str(automatic.json(), "tenant"), "red");
  // The admin's mapping of vm-1 holds 8080; the red operator is told it is held, not by whom.
  auto held = create(obj({{"binding_id", vm_}, {"port", 80}, {"host_port", 8080}}));
  ASSERT_EQ(held.status, 201u) << held.describe();
  auto clash = create(obj({{"binding_id", red}, {"port", 80}, {"host_port", 8080}}), &red_op);
  EXPECT_TRUE(isProblem(clash, 409, "conflict", "is held"));
  EXPECT_EQ(clash.body.find(str(held.json(), "id")), std::string::npos) << clash.body;
  EXPECT_EQ(clash.body.find("vm-1"), std::string::npos) << clash.body;
  for (const char* bad : {"0.0.0.0", "127.0.0.1", "224.0.0.1", "::", "ff02::1", "192.0.2.1"}) {
    EXPECT_TRUE(isProblem(
        create(
            obj({{"binding_id", vm_}, {"port", 80}, {"host_port", 9000}, {"host_address", bad}})),
        400, "invalid_argument", "host_address"))
        << bad;  // 192.0.2.1 is vm-1's own address
  }
  EXPECT_TRUE(isProblem(
      api_->request("PUT", "/v1/portranges/node-a", R"({"first":1,"last":2,"reserved":["9-8"]})"),
      400, "invalid_argument", "reserved"));
}

// Many clients asking at once for automatic ports from a small range: every port is handed
// out once, and the rest are told the range is full.
TEST_F(PortMapsTest, ConcurrentRequestsNeverShareAHostPort) {
  auto r = api_->request("PUT", "/v1/portranges/node-a", R"({"first":41000,"last":41049})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  std::mutex mu;
  std::vector<std::int64_t> ports;
  int full = 0, other = 0;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      HttpClient c(server_.port(), server_.adminToken());
      for (int i = 0; i < 10; ++i) {
        auto res = c.post("/v1/portmaps", obj({{"binding_id", vm_}, {"port", 80}}));
        std::lock_guard lock(mu);
        if (res.status == 201) {
          ports.push_back(num(res.json(), "host_port"));
        } else if (res.status == 409) {
          ++full;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ports.size(), 50u);
  EXPECT_EQ(full, 30);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(std::set<std::int64_t>(ports.begin(), ports.end()).size(), ports.size());
}

// `netledger portmap ...` in-process against the real daemon: what an operator types and sees.
TEST_F(PortMapsTest, TheCliAddsListsAndDeletesMappings) {
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--server", "http://127.0.0.1:" + std::to_string(server_.port()),
                             "--token", server_.adminToken()});
    std::ostringstream out, err;
    const int code = cli::runCli(args, out, err);
    return std::tuple{code, out.str(), err.str()};
  };
  const std::string b = std::to_string(vm_);
  auto [code, out, err] = cli({"portmap", "add", b, "--port", "80", "--host-port", "8080"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("*:8080"), std::string::npos) << out;
  EXPECT_NE(out.find("192.0.2.1:80"), std::string::npos) << out;
  std::tie(code, out, err) = cli({"portmap", "add", b, "--port", "81", "--host-port", "8080"});
  EXPECT_EQ(code, cli::kExitFailure);
  EXPECT_NE(err.find("held by portmap pm-"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"portmap", "add", b, "--port", "81", "--host-port", "9-8"});
  EXPECT_EQ(code, cli::kExitUsage);
  EXPECT_NE(err.find("--host-port"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"portmap", "add", b, "--port", "0"});
  EXPECT_EQ(code, cli::kExitUsage);
  EXPECT_NE(err.find("--port"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"portmap", "range", "set", "node-a", "41000-41009", "--reserve",
                                  "22", "--reserve", "10250-10259"});
  ASSERT_EQ(code, 0) << err;
  std::tie(code, out, err) =
      cli({"portmap", "range", "set", "node-b", "42000-42009", "--reserve", "x"});
  EXPECT_EQ(code, cli::kExitUsage);
  EXPECT_NE(err.find("--reserve"), std::string::npos) << err;
  std::tie(code, out, err) =
      cli({"portmap", "add", b, "--port", "22", "--count", "2", "--protocol", "udp"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(out.find("*:41000-41001"), std::string::npos) << out;
  std::tie(code, out, err) = cli({"-o", "json", "portmap", "list", "--node", "node-a"});
  ASSERT_EQ(code, 0) << err;
  auto listed = items(parseJson(out));
  ASSERT_EQ(listed.size(), 2u);
  // The tcp one (listed in id order, which is random).
  const auto& tcp = str(listed[0], "protocol") == "tcp" ? listed[0] : listed[1];
  const std::string id = str(tcp, "id");
  std::tie(code, out, err) = cli({"portmap", "delete", id});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(isProblem(api_->get("/v1/portmaps/" + id), 404, "not_found"));
  std::tie(code, out, err) = cli({"portmap", "list"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(out.find(id), std::string::npos);
  EXPECT_NE(out.find("41000-41001"), std::string::npos);
  std::tie(code, out, err) = cli({"portmap", "range", "list"});
  EXPECT_NE(out.find("(default)  30000-32767"), std::string::npos) << out;
  EXPECT_NE(out.find("22,10250-10259"), std::string::npos) << out;
}

}  // namespace
}  // namespace netledger::it
