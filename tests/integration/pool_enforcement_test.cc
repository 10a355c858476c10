// A pool's `enforcement` (off | monitor | enforce | null) against the real daemon: stored,
// shown, patched, refused naming the field when it is anything else, and kept across kill -9.
#include "integration/harness.h"

namespace netledger::it {
namespace {

class PoolEnforcementTest : public ServerTest {};

TEST_F(PoolEnforcementTest, StoredPatchedRefusedAndDurable) {
  auto p =
      createPool(obj({{"name", "strict"}, {"cidr", "192.0.2.0/24"}, {"enforcement", "enforce"}}));
  EXPECT_EQ(str(p, "enforcement"), "enforce");
  auto plain = createPool(obj({{"name", "plain"}, {"cidr", "198.51.100.0/24"}}));
  EXPECT_TRUE(plain.at("enforcement").is_null());
  const std::string before = fingerprint();
  for (const char* bad : {R"({"enforcement":"sometimes"})", R"({"enforcement":1})"}) {
    EXPECT_TRUE(isProblem(api_->request("PATCH", "/v1/pools/plain", bad), 400, "invalid_argument",
                          "enforcement"))
        << bad;
  }
  EXPECT_TRUE(isProblem(
      api_->post("/v1/pools",
                 obj({{"name", "x"}, {"cidr", "203.0.113.0/24"}, {"enforcement", "drop"}})),
      400, "invalid_argument", "enforcement"));
  EXPECT_EQ(fingerprint(), before);
  auto r = api_->request("PATCH", "/v1/pools/plain", R"({"enforcement":"monitor"})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  r = api_->request("PATCH", "/v1/pools/strict", R"({"enforcement":null})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_TRUE(r.json().at("enforcement").is_null());
  server_.kill9();
  server_.start();
  api_->setPort(server_.port());
  EXPECT_EQ(str(mustGet("/v1/pools/plain"), "enforcement"), "monitor");
  EXPECT_TRUE(mustGet("/v1/pools/strict").at("enforcement").is_null());
  EXPECT_EQ(items(mustGet("/v1/audit?op=pool.update")).size(), 2u);
  // A tenant's admin may not change what guards every shared bridge.
  createPool(obj({{"name", "red"}, {"cidr", "203.0.113.0/24"}, {"tenant", "red"}}));
  HttpClient red_admin(server_.port(), createToken("red-admin", "admin", {"red"}));
  EXPECT_TRUE(isProblem(red_admin.request("PATCH", "/v1/pools/red", R"({"enforcement":"off"})"),
                        403, "forbidden", "enforcement"));
  EXPECT_EQ(red_admin.request("PATCH", "/v1/pools/red", R"({"threshold":0.5})").status, 200u);
}

}  // namespace
}  // namespace netledger::it
