// A pool's `enforcement` (off | monitor | enforce | null) against the real daemon: stored,
// shown, patched, refused naming the field when it is anything else, and kept across kill -9;
// and what nodes' agents report of their tables (/v1/hosts/{host}/enforcement).
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

// What agents report of their tables: only a change of state is an event (failed, restored),
// so an agent may report as often as it likes.
TEST_F(PoolEnforcementTest, NodeReportsBecomeEventsOnlyWhenTheStateChanges) {
  auto put = [&](std::string_view host, std::string_view body) {
    return api_->request("PUT", "/v1/hosts/" + std::string(host) + "/enforcement", body);
  };
  auto events = [&] {
    return items(mustGet("/v1/audit?op=enforcement.failed")).size() +
           items(mustGet("/v1/audit?op=enforcement.restored")).size();
  };
  ASSERT_EQ(put("hv-1", R"({"ok":true})").status, 200u);  // the normal state: no event
  EXPECT_EQ(events(), 0u);
  auto failed = put("hv-1", R"({"ok":false,"error":"Error: Could not process rule"})");
  ASSERT_EQ(failed.status, 200u) << failed.describe();
  EXPECT_FALSE(failed.json().at("ok").as_bool());
  ASSERT_EQ(put("hv-1", R"({"ok":false,"error":"Error: Could not process rule"})").status, 200u);
  auto audit = items(mustGet("/v1/audit?op=enforcement.failed"));
  ASSERT_EQ(audit.size(), 1u);  // the repeat wrote nothing
  EXPECT_EQ(str(audit[0], "subject"), "host:hv-1");
  EXPECT_EQ(str(mustGet("/v1/hosts/hv-1/enforcement"), "error"), "Error: Could not process rule");
  ASSERT_EQ(put("hv-1", R"({"ok":true})").status, 200u);
  EXPECT_EQ(items(mustGet("/v1/audit?op=enforcement.restored")).size(), 1u);
  EXPECT_TRUE(isProblem(api_->get("/v1/hosts/hv-9/enforcement"), 404, "not_found"));
  const std::string before = fingerprint();
  for (const char* bad : {R"({})", R"({"ok":true,"error":"x"})", R"({"ok":false})",
                          R"({"ok":"yes"})", R"({"ok":true,"extra":1})"}) {
    auto r = put("hv-1", bad);
    EXPECT_EQ(r.status, 400u) << bad << " -> " << r.describe();
  }
  EXPECT_EQ(fingerprint(), before);
  HttpClient viewer(server_.port(), createToken("viewer", "viewer"));
  EXPECT_TRUE(isProblem(viewer.request("PUT", "/v1/hosts/hv-1/enforcement", R"({"ok":true})"), 403,
                        "forbidden"));
}

}  // namespace
}  // namespace netledger::it
