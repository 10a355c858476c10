// Every error code of the API: an RFC 9457 problem naming the field, and no state change.
#include <string>
#include <vector>

#include "integration/harness.h"

namespace netledger::it {
namespace {

class ErrorTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    createPool(obj({{"name", "main"}, {"cidr", "192.0.2.0/24"}}));
    createPool(obj({{"name", "tiny"}, {"cidr", "198.51.100.0/30"}}));  // two usable addresses
    mustPost("/v1/mac-pools", obj({{"name", "macs"}, {"prefix", "52:54:00"}}));
    held_ = str(allocate(obj({{"instance", "held"},
                              {"pool", "main"},
                              {"address", "192.0.2.10"},
                              {"mac", "02:00:00:00:00:10"}})),
                "id");
    allocate(obj({{"instance", "tiny-1"}, {"pool", "tiny"}}));
    allocate(obj({{"instance", "tiny-2"}, {"pool", "tiny"}}));
    viewer_ = createToken("viewer", "viewer");
  }

  struct Case {
    std::string method, target, body;
    unsigned status;
    std::string code, detail;
    std::string token = "admin";  // "admin", "viewer", "none" or a literal secret
  };

  void check(const std::vector<Case>& cases) {
    const std::string before = fingerprint();
    for (const auto& c : cases) {
      SCOPED_TRACE(c.method + " " + c.target + " " + c.body.substr(0, 200) + " (token " + c.token +
                   ")");
      HttpClient client(server_.port());
      if (c.token == "admin")
        client.setToken(server_.adminToken());
      else if (c.token == "viewer")
        client.setToken(viewer_);
      else if (c.token != "none")
        client.setToken(c.token);
      std::string err;
      auto r = client.tryRequest(c.method, c.target, c.body, {}, &err);
      ASSERT_TRUE(r) << err;
      EXPECT_TRUE(isProblem(*r, c.status, c.code, c.detail));
      EXPECT_EQ(fingerprint(), before) << "the refused request changed the state";
    }
  }

  std::string held_, viewer_;
};

// A pool's DHCP settings: every bad value names "dhcp.<key>", DHCPv4 only on IPv4 pools.
TEST_F(ErrorTest, PoolDhcpSettingsNameTheField) {
  const std::string v = R"("name":"d","cidr":"203.0.113.0/24")";
  check({
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":{"lease_s":10}})", 400, "invalid_argument",
       "dhcp.lease_s: must be an integer from 60"},
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":{"lease_s":1.5}})", 400, "invalid_argument",
       "dhcp.lease_s"},
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":{"leases":60}})", 400, "invalid_argument",
       "dhcp.leases: unknown setting"},
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":{"dns_servers":["2001:db8::1"]}})", 400,
       "invalid_argument", "dhcp.dns_servers[0]: must be an IPv4 address"},
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":{"domain":"a b"}})", 400, "invalid_argument",
       "dhcp.domain"},
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":{"decline_limit":0}})", 400, "invalid_argument",
       "dhcp.decline_limit"},
      {"POST", "/v1/pools", "{" + v + R"(,"dhcp":[]})", 400, "invalid_argument",
       "dhcp: must be an object or null"},
      {"POST", "/v1/pools", R"({"name":"d6","cidr":"2001:db8::/64","dhcp":{}})", 400,
       "invalid_argument", "dhcp: DHCPv4 serves IPv4 pools only"},
      {"PATCH", "/v1/pools/main", R"({"dhcp":{"probe":"yes"}})", 400, "invalid_argument",
       "dhcp.probe: must be true or false"},
  });
}

TEST_F(ErrorTest, InvalidArgumentNamesTheField) {
  const std::string v = R"("name":"v","cidr":"203.0.113.0/24")";
  check({
      {"POST", "/v1/pools", R"({"name":"x",)", 400, "invalid_argument", "body: malformed JSON"},
      {"POST", "/v1/pools", "", 400, "invalid_argument", "body: empty"},
      {"POST", "/v1/pools", "[1,2]", 400, "invalid_argument", "body: must be a JSON object"},
      {"POST", "/v1/pools", "{" + v + R"(,"vlan":"x"})", 400, "invalid_argument",
       "vlan: must be an integer"},
      {"POST", "/v1/pools", "{" + v + R"(,"vlan":5000})", 400, "invalid_argument",
       "vlan: must be 0 to 4094 (got 5000)"},
      {"POST", "/v1/pools", "{" + v + R"(,"vni":16777216})", 400, "invalid_argument", "vni:"},
      {"POST", "/v1/pools", "{" + v + R"(,"threshold":1.5})", 400, "invalid_argument",
       "threshold:"},
      {"POST", "/v1/pools", "{" + v + R"(,"quarantine_s":-1})", 400, "invalid_argument",
       "quarantine_s:"},
      {"POST", "/v1/pools", "{" + v + R"(,"auto_expand":"yes"})", 400, "invalid_argument",
       "auto_expand: must be true or false"},
      {"POST", "/v1/pools", "{" + v + R"(,"pool_name":"x"})", 400, "invalid_argument",
       "pool_name: unknown field"},
      {"POST", "/v1/pools", R"({"name":"v","cidr":"203.0.113.5/24"})", 400, "invalid_argument",
       "did you mean 203.0.113.0/24"},
      {"POST", "/v1/pools", R"({"name":"v","cidr":"203.0.113.0/33"})", 400, "invalid_argument",
       "cidr"},
      {"POST", "/v1/pools", R"({"name":"v","cidr":"not-a-cidr"})", 400, "invalid_argument", "cidr"},
      {"POST", "/v1/pools", R"({"name":"v"})", 400, "invalid_argument", "cidr: required"},
      {"POST", "/v1/pools", R"({"cidr":"203.0.113.0/24"})", 400, "invalid_argument",
       "name: required"},
      {"POST", "/v1/pools", R"({"name":"bad name!","cidr":"203.0.113.0/24"})", 400,
       "invalid_argument", "name:"},
      {"POST", "/v1/pools", "{" + v + R"(,"gateway":"198.51.100.1"})", 400, "invalid_argument",
       "gateway:"},
      {"POST", "/v1/pools", "{" + v + R"(,"reserved":["203.0.113.300"]})", 400, "invalid_argument",
       "reserved"},
      {"POST", "/v1/pools", "{" + v + R"(,"ranges":["198.51.100.1-198.51.100.9"]})", 400,
       "invalid_argument", "ranges:"},
      {"POST", "/v1/pools", "{" + v + R"(,"prefix_length":24})", 400, "invalid_argument",
       "prefix_length:"},
      {"PATCH", "/v1/pools/main", R"({"vlan":-1})", 400, "invalid_argument", "vlan:"},
      {"PATCH", "/v1/pools/main", R"({"cidr":"192.0.2.0/23"})", 400, "invalid_argument",
       "cidr: unknown field"},
      {"PATCH", "/v1/pools/main", R"({"threshold":"high"})", 400, "invalid_argument",
       "threshold: must be a number"},
      {"POST", "/v1/mac-pools", R"({"name":"m2","prefix":"gg:00:00"})", 400, "invalid_argument",
       "prefix"},
      {"POST", "/v1/mac-pools", R"({"name":"m2","strategy":"fancy"})", 400, "invalid_argument",
       "fancy"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","mac":"zz:zz:zz:zz:zz:zz"})", 400,
       "invalid_argument", "mac:"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","mac":"01:00:5e:00:00:01"})", 400,
       "invalid_argument", "mac:"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","host_mac":"12345"})", 400,
       "invalid_argument", "host_mac:"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","ttl_s":-1})", 400,
       "invalid_argument", "ttl_s:"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","address":"192.0.2.999"})", 400,
       "invalid_argument", "address:"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","address":"198.51.100.1"})", 400,
       "invalid_argument", "address: 198.51.100.1 is not in the requested pools"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","address":"192.0.2.255"})", 400,
       "invalid_argument", "address: address 192.0.2.255 is the broadcast address"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","address":"192.0.2.0"})", 400,
       "invalid_argument", "network address"},
      {"POST", "/v1/bindings", R"({"instance":"i"})", 400, "invalid_argument", "pools:"},
      {"POST", "/v1/bindings", R"({"pool":"main"})", 400, "invalid_argument", "instance: required"},
      {"POST", "/v1/bindings", R"({"instance":7,"pool":"main"})", 400, "invalid_argument",
       "instance: must be a string"},
      {"POST", "/v1/bindings", R"({"instance":"i","pools":"main"})", 400, "invalid_argument",
       "pools: must be an array"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","pools":["main"]})", 400,
       "invalid_argument", "pool"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","labels":{"a":1}})", 400,
       "invalid_argument", "labels.a:"},
      {"POST", "/v1/bindings", R"({"instance":"i","pool":"main","static":"yes"})", 400,
       "invalid_argument", "static:"},
      {"POST", "/v1/bindings",
       R"({"instance":"i","pool":"main","mac":"02:00:00:00:00:99","mac_pool":"macs"})", 400,
       "invalid_argument", "mac:"},
      {"POST", "/v1/bindings", R"({"instance":"i\u0001","pool":"main"})", 400, "invalid_argument",
       "instance:"},
      {"GET", "/v1/bindings?limit=0", "", 400, "invalid_argument", "limit:"},
      {"GET", "/v1/bindings?limit=abc", "", 400, "invalid_argument", "limit:"},
      {"GET", "/v1/bindings?color=red", "", 400, "invalid_argument",
       "color: unknown query parameter"},
      {"GET", "/v1/bindings?ip=1.2.3", "", 400, "invalid_argument", "ip"},
      {"GET", "/v1/bindings?state=sleeping", "", 400, "invalid_argument", "sleeping"},
      {"GET", "/v1/bindings?cursor=xyz", "", 400, "invalid_argument", "cursor:"},
      {"GET", "/v1/bindings/abc", "", 400, "invalid_argument", "id:"},
      {"GET", "/v1/bindings/0", "", 400, "invalid_argument", "id:"},
      {"POST", "/v1/bindings/" + held_ + "/renew", R"({"ttl_s":"long"})", 400, "invalid_argument",
       "ttl_s:"},
      {"POST", "/v1/bindings/" + held_ + "/migrate", "{}", 400, "invalid_argument",
       "host: required"},
      {"POST", "/v1/addresses/192.0.2.10/move", R"({"to":5})", 400, "invalid_argument",
       "to: must be a string"},
      {"POST", "/v1/addresses/192.0.2.10/move", R"({"to":")" + held_ + R"("})", 400,
       "invalid_argument", "to:"},
      {"GET", "/v1/addresses/192.0.2", "", 400, "invalid_argument", "ip"},
      {"GET", "/v1/macs/02:00", "", 400, "invalid_argument", "mac"},
      {"GET", "/v1/history?ip=192.0.2.10&at=yesterday", "", 400, "invalid_argument", "at"},
      {"GET", "/v1/history?at=2026-01-01T00:00:00Z", "", 400, "invalid_argument",
       "exactly one of ip, mac or instance"},
      {"GET", "/v1/history?ip=192.0.2.10&at=1700000000&from=1600000000", "", 400,
       "invalid_argument", "at:"},
      {"GET", "/v1/history?ip=192.0.2.10&from=1700000001&to=1700000000", "", 400,
       "invalid_argument", "from:"},
      {"GET", "/v1/bindings?limit=1001", "", 400, "invalid_argument", "limit:"},
      {"GET", "/v1/audit?cursor=-1", "", 400, "invalid_argument", "cursor:"},
      {"POST", "/v1/tokens", R"({"name":"t","role":"root"})", 400, "invalid_argument", "root"},
      {"POST", "/v1/tokens", R"({"name":"t","tenants":"red"})", 400, "invalid_argument",
       "tenants:"},
  });
}

TEST_F(ErrorTest, UnauthorizedForbiddenNotFoundMethodNotAllowed) {
  check({
      {"GET", "/v1/pools", "", 401, "unauthorized", "Authorization", "none"},
      {"POST", "/v1/bindings", R"({"instance":"x","pool":"main"})", 401, "unauthorized",
       "Authorization", "none"},
      {"GET", "/v1/pools", "", 401, "unauthorized", "unknown or revoked", "nlt_not-a-token"},
      {"POST", "/v1/pools", R"({"name":"v","cidr":"203.0.113.0/24"})", 403, "forbidden",
       "needs role admin", "viewer"},
      {"POST", "/v1/bindings", R"({"instance":"x","pool":"main"})", 403, "forbidden",
       "needs role operator", "viewer"},
      {"DELETE", "/v1/bindings/" + held_, "", 403, "forbidden", "viewer", "viewer"},
      {"GET", "/v1/tokens", "", 403, "forbidden", "admin", "viewer"},
      {"GET", "/v1/pools/nope", "", 404, "not_found", "nope"},
      {"PATCH", "/v1/pools/nope", R"({"vlan":1})", 404, "not_found", "nope"},
      {"DELETE", "/v1/pools/nope", "", 404, "not_found", "nope"},
      {"GET", "/v1/mac-pools/nope", "", 404, "not_found", "nope"},
      {"GET", "/v1/bindings/999999", "", 404, "not_found", "999999"},
      {"DELETE", "/v1/bindings/999999", "", 404, "not_found", "999999"},
      {"POST", "/v1/bindings/999999/renew", "", 404, "not_found", "999999"},
      {"POST", "/v1/bindings/999999/migrate", R"({"host":"h"})", 404, "not_found", "999999"},
      {"POST", "/v1/bindings", R"({"instance":"x","pool":"nope"})", 404, "not_found",
       "pools: pool \"nope\" not found"},
      {"POST", "/v1/bindings", R"({"instance":"x","pool":"main","mac_pool":"nope"})", 404,
       "not_found", "mac_pool:"},
      {"POST", "/v1/pools", R"({"name":"c","parent":"nope","prefix_length":26})", 404, "not_found",
       "parent:"},
      {"POST", "/v1/addresses/203.0.113.1/move", R"({"to":")" + held_ + R"("})", 404, "not_found",
       "203.0.113.1"},
      {"POST", "/v1/addresses/192.0.2.10/move", R"({"to":"999999"})", 404, "not_found",
       "to: binding 999999"},
      {"GET", "/v1/addresses/203.0.113.1", "", 404, "not_found", "203.0.113.1"},
      {"GET", "/v1/macs/02:00:00:00:00:77", "", 404, "not_found", "02:00:00:00:00:77"},
      {"DELETE", "/v1/tokens/nope", "", 404, "not_found", "nope"},
      {"GET", "/v1/nothing-here", "", 404, "not_found", "/v1/nothing-here"},
      {"PUT", "/v1/pools/main", R"({})", 405, "method_not_allowed", "PUT"},
      {"DELETE", "/v1/pools", "", 405, "method_not_allowed", "DELETE"},
      {"POST", "/healthz", "", 405, "method_not_allowed", "POST"},
  });
  // 405 carries Allow; 401 carries WWW-Authenticate.
  auto r = api_->request("PUT", "/v1/pools/main", "{}");
  EXPECT_EQ(r.header("Allow"), "DELETE, GET, HEAD, PATCH");
  EXPECT_EQ(api_->request("DELETE", "/v1/pools").header("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(api_->request("PUT", "/v1/bindings/" + held_, "{}").header("Allow"),
            "DELETE, GET, HEAD, PATCH");
  HttpClient anon(server_.port());
  EXPECT_EQ(anon.get("/v1/pools").header("WWW-Authenticate"), "Bearer");
}

TEST_F(ErrorTest, ConflictsAndExhaustion) {
  check({
      {"POST", "/v1/pools", R"({"name":"overlap","cidr":"192.0.2.128/25"})", 409, "conflict",
       "pool \"main\""},
      {"POST", "/v1/pools", R"({"name":"wide","cidrs":["203.0.113.0/24","198.51.100.0/24"]})", 409,
       "conflict", "pool \"tiny\""},
      {"POST", "/v1/pools", R"({"name":"main","cidr":"203.0.113.0/24"})", 409, "conflict",
       "exists"},
      {"POST", "/v1/mac-pools", R"({"name":"macs"})", 409, "conflict", "exists"},
      {"POST", "/v1/bindings", R"({"instance":"other","pool":"main","address":"192.0.2.10"})", 409,
       "conflict", "192.0.2.10 is held by binding " + held_},
      {"POST", "/v1/bindings", R"({"instance":"other","pool":"main","mac":"02:00:00:00:00:10"})",
       409, "conflict", "held by binding " + held_},
      {"POST", "/v1/bindings", R"({"instance":"tiny-3","pool":"tiny"})", 409, "pool_exhausted",
       "pool \"tiny\" is exhausted"},
      {"POST", "/v1/bindings", R"({"instance":"ds","pools":["main","tiny"]})", 409,
       "pool_exhausted", "tiny"},
      {"DELETE", "/v1/pools/main", "", 409, "conflict", "bindings"},
      {"POST", "/v1/tokens", R"({"name":"viewer"})", 409, "conflict", "viewer"},
  });
  // A different network may reuse the CIDR.
  EXPECT_EQ(api_->post("/v1/pools",
                       obj({{"name", "main-b"}, {"network", "blue"}, {"cidr", "192.0.2.0/24"}}))
                .status,
            201u);
  // The dual-stack attempt above took nothing from "main".
  EXPECT_EQ(num(mustGet("/v1/pools/main").at("utilization"), "used"), 1);
}

TEST_F(ErrorTest, PayloadTooLarge) {
  const std::string before = fingerprint();
  // One limit (8 MiB by default) for every route, the batch routes included.
  for (const char* target : {"/v1/pools", "/v1/observations", "/v1/scans/1/result"}) {
    SCOPED_TRACE(target);
    std::string big = R"({"name":"big","cidr":"203.0.113.0/24","cluster":")";
    big.append(8 * 1024 * 1024, 'x');
    big += "\"}";
    HttpClient client(server_.port(), server_.adminToken());
    std::string err;
    auto r = client.tryRequest("POST", target, big, {}, &err);
    ASSERT_TRUE(r) << err;
    EXPECT_TRUE(isProblem(*r, 413, "payload_too_large", "exceeds 8388608 bytes"));
    // The connection is closed after a 413; the next request uses a new one and works.
    auto after = client.get("/v1/pools");
    EXPECT_EQ(after.status, 200u);
  }
  EXPECT_EQ(fingerprint(), before);
  // Under the limit, a large body reaches the handler, which judges its content.
  std::string padded = R"({"name":"big","cidr":"203.0.113.0/24"})";
  padded.insert(1, 2 * 1024 * 1024, ' ');
  EXPECT_EQ(api_->request("POST", "/v1/pools", padded).status, 201u);
}

// One rule per input class, whatever the route: control characters in free text, integers
// written as fractions or exponents, impossible prefix lengths, unknown event types, non-station
// MACs and repeated JSON keys are each a 400 naming the field, and change nothing.
TEST_F(ErrorTest, InputClassesAreRefusedAlikeOnEveryRoute) {
  mustPost("/v1/pools", obj({{"name", "par"}, {"cidr", "203.0.113.0/24"}}));
  mustPost("/v1/pools", obj({{"name", "v6"}, {"cidr", "2001:db8::/48"}}));
  const std::string b = "/v1/bindings/" + held_;
  check({
      // Control characters (the JSON escapes \u0000 and \u001b) in every kind of text field.
      {"PATCH", "/v1/pools/main", R"({"cluster":"a\u0000b"})", 400, "invalid_argument",
       "cluster: control characters"},
      {"POST", "/v1/pools", R"({"name":"c","cidr":"198.51.100.64/26","cluster":"a\u001bb"})", 400,
       "invalid_argument", "cluster: control characters"},
      {"POST", b + "/probe", R"({"address":"192.0.2.10","result":"free","interface":"e\u0000"})",
       400, "invalid_argument", "interface: control characters"},
      {"POST", "/v1/bindings", R"({"instance":"l","pool":"main","labels":{"k":"v\u001b"}})", 400,
       "invalid_argument", "labels.k: control characters"},
      {"POST", "/v1/bindings", R"({"instance":"l\u0000","pool":"main"})", 400, "invalid_argument",
       "instance:"},
      {"POST", "/v1/observations",
       R"({"observations":[{"ip":"192.0.2.9","mac":"02:00:00:00:00:09","host":"h\u001b"}]})", 400,
       "invalid_argument", "control characters"},
      // Integers are integers: no fraction, no exponent (1e-400 would underflow to 0).
      {"POST", b + "/renew", R"({"ttl_s":1e-400})", 400, "invalid_argument",
       "ttl_s: must be an integer (no fraction or exponent)"},
      {"POST", b + "/renew", R"({"ttl_s":60.0})", 400, "invalid_argument", "ttl_s:"},
      {"POST", "/v1/pools", R"({"name":"i","cidr":"198.51.100.64/26","vlan":1e1})", 400,
       "invalid_argument", "vlan: must be an integer"},
      {"POST", "/v1/pools", R"({"name":"i","cidr":"198.51.100.64/26","default_ttl_s":1.5})", 400,
       "invalid_argument", "default_ttl_s:"},
      {"PATCH", "/v1/pools/main", R"({"quarantine_s":3e2})", 400, "invalid_argument",
       "quarantine_s:"},
      {"POST", "/v1/pools", R"({"name":"k","parent":"par","prefix_length":28.0})", 400,
       "invalid_argument", "prefix_length:"},
      // Impossible prefix lengths are bad input, not an exhausted (or busy) parent.
      {"POST", "/v1/pools", R"({"name":"k","parent":"main","prefix_length":100})", 400,
       "invalid_argument", "prefix_length: /100 does not fit"},
      {"POST", "/v1/pools", R"({"name":"k","parent":"par","prefix_length":20})", 400,
       "invalid_argument", "prefix_length: /20 does not fit"},
      {"POST", "/v1/pools",
       R"({"name":"k","parent":"par","prefix_length":28,"auto_expand":true,"expand_prefix_length":100})",
       400, "invalid_argument", "expand_prefix_length: /100 does not fit in pool \"par\""},
      {"POST", "/v1/pools",
       R"({"name":"k","parent":"par","prefix_length":28,"auto_expand":true,"expand_prefix_length":16})",
       400, "invalid_argument", "expand_prefix_length: /16 does not fit"},
      {"POST", "/v1/pools", R"({"name":"k","cidr":"198.51.100.64/26","expand_prefix_length":28})",
       400, "invalid_argument", "expand_prefix_length: needs a parent pool"},
      {"PATCH", "/v1/pools/main", R"({"expand_prefix_length":28})", 400, "invalid_argument",
       "expand_prefix_length: needs a parent pool"},
      // Path segments and query values are text too.
      {"PUT", "/v1/hosts/a%1Bb/enforcement", R"({"ok":true})", 400, "invalid_argument",
       "path: control characters"},
      {"PUT", "/v1/portranges/n%00", R"({"first":30000,"last":30100})", 400, "invalid_argument",
       "path: control characters"},
      {"GET", "/v1/bindings?host=a%07", "", 400, "invalid_argument", "host: control characters"},
      // Event filters name event types this server emits.
      {"POST", "/v1/webhooks", R"({"url":"http://127.0.0.1:9/h","events":["binding.nuked"]})", 400,
       "invalid_argument", "binding.nuked"},
      {"POST", "/v1/webhooks", R"({"url":"http://127.0.0.1:9/h","events":["nuke.*"]})", 400,
       "invalid_argument", "nuke.*"},
      // host_mac is a station address like mac: unicast, not all-zero.
      {"POST", "/v1/bindings", R"({"instance":"h","pool":"main","host_mac":"01:00:5e:00:00:01"})",
       400, "invalid_argument", "host_mac: 01:00:5e:00:00:01 is not a unicast station address"},
      {"POST", "/v1/bindings", R"({"instance":"h","pool":"main","host_mac":"00:00:00:00:00:00"})",
       400, "invalid_argument", "host_mac:"},
      {"PATCH", b, R"({"host_mac":"ff:ff:ff:ff:ff:ff"})", 400, "invalid_argument", "host_mac:"},
      {"POST", b + "/migrate", R"({"host":"n2","host_mac":"33:33:00:00:00:01"})", 400,
       "invalid_argument", "host_mac:"},
      // A repeated key is refused, not resolved by the last one winning, at any depth.
      {"PUT", "/v1/policies", R"({"duplicate_ip":"nuke","duplicate_ip":"alert"})", 400,
       "invalid_argument", "body: duplicate key \"duplicate_ip\""},
      {"POST", "/v1/pools", R"({"name":"d1","name":"d2","cidr":"198.51.100.64/26"})", 400,
       "invalid_argument", "duplicate key \"name\""},
      {"POST", "/v1/bindings", R"({"instance":"d","pool":"main","labels":{"a":"1","a":"2"}})", 400,
       "invalid_argument", "duplicate key \"a\""},
      {"POST", "/v1/observations",
       R"({"observations":[{"ip":"192.0.2.9","ip":"192.0.2.8","mac":"02:00:00:00:00:09"}]})", 400,
       "invalid_argument", "duplicate key \"ip\""},
      // A required field given as null is missing.
      {"POST", "/v1/pools", R"({"name":null,"cidr":"198.51.100.64/26"})", 400, "invalid_argument",
       "name: required"},
  });
  // The same classes are accepted where they are right: an IPv6 parent takes /100.
  mustPost("/v1/pools", obj({{"name", "k6"}, {"parent", "v6"}, {"prefix_length", 100}}));
}

// A JSON body with another media type is 415 on every route that reads one; JSON media types
// (and no Content-Type, as curl --data-binary sends) are read.
TEST_F(ErrorTest, NonJsonMediaTypeIs415) {
  const std::string before = fingerprint();
  for (const char* target : {"/v1/pools", "/v1/observations", "/v1/bindings"}) {
    for (const char* type : {"text/plain", "application/x-www-form-urlencoded"}) {
      SCOPED_TRACE(std::string(target) + " " + type);
      auto r = api_->request("POST", target, R"({"name":"m","cidr":"198.51.100.64/26"})",
                             {{"Content-Type", type}});
      EXPECT_TRUE(isProblem(r, 415, "unsupported_media_type", "application/json"));
    }
  }
  EXPECT_EQ(fingerprint(), before);
  auto r = api_->request("POST", "/v1/pools", R"({"name":"m","cidr":"198.51.100.64/26"})",
                         {{"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(r.status, 201u) << r.body;
}

}  // namespace
}  // namespace netledger::it
