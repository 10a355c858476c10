// PATCH /v1/bindings/{id} against the real daemon: what the chained CNI plugin sends after the
// main plugin created the pod's interface (its MAC, the node, the node's NIC).
#include "integration/harness.h"

namespace netledger::it {
namespace {

class BindingUpdateTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    createPool(obj({{"name", "pods"}, {"cidr", "198.51.100.0/24"}}));
    mustPost("/v1/mac-pools", obj({{"name", "macs"}, {"prefix", "52:54:00"}}));
    pod_ = str(allocate(obj({{"instance", "pod-1"}, {"pool", "pods"}})), "id");
    holder_ = str(allocate(obj({{"instance", "holder"},
                                {"interface", "net1"},
                                {"pool", "pods"},
                                {"mac", "0a:58:c6:33:64:09"}})),
                  "id");
  }

  HttpResponse patch(const std::string& id, std::string_view body, HttpClient* client = nullptr) {
    return (client ? client : api_.get())->request("PATCH", "/v1/bindings/" + id, body);
  }

  std::string pod_, holder_;
};

TEST_F(BindingUpdateTest, RecordsMacHostAndHostMacAndSurvivesRestart) {
  auto r =
      patch(pod_, R"({"mac":"0A-58-C6-33-64-05","host":"node-3","host_mac":"001a.2b3c.4d5e"})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  auto b = r.json();
  EXPECT_EQ(str(b, "mac"), "0a:58:c6:33:64:05");
  EXPECT_EQ(str(b, "host"), "node-3");
  EXPECT_EQ(str(b, "host_mac"), "00:1a:2b:3c:4d:5e");
  EXPECT_EQ(str(b, "state"), "active");
  EXPECT_EQ(str(mustGet("/v1/macs/0a:58:c6:33:64:05"), "id"), pod_);
  EXPECT_EQ(str(mustGet("/v1/addresses/" + strings(b, "addresses").at(0)), "id"), pod_);

  auto events = items(mustGet("/v1/audit?op=binding.update"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str(events[0], "subject"), "binding:" + pod_);
  EXPECT_EQ(str(events[0].at("before"), "host"), "");
  EXPECT_EQ(str(events[0].at("before"), "mac"), "");
  EXPECT_EQ(str(events[0].at("after"), "host"), "node-3");
  EXPECT_EQ(str(events[0].at("after"), "mac"), "0a:58:c6:33:64:05");

  // Repeating it (a repeated CNI ADD) is no change and no second event; a later field alone
  // keeps the others.
  ASSERT_EQ(patch(pod_, R"({"mac":"0a:58:c6:33:64:05","host":"node-3"})").status, 200u);
  EXPECT_EQ(items(mustGet("/v1/audit?op=binding.update")).size(), 1u);
  auto moved = patch(pod_, R"({"host":"node-4"})");
  ASSERT_EQ(moved.status, 200u) << moved.describe();
  EXPECT_EQ(str(moved.json(), "mac"), "0a:58:c6:33:64:05");
  EXPECT_EQ(str(moved.json(), "host_mac"), "00:1a:2b:3c:4d:5e");
  EXPECT_EQ(items(mustGet("/v1/audit?op=binding.update")).size(), 2u);

  const std::string before = fingerprint();
  server_.restart();
  api_->setPort(server_.port());
  auto after = mustGet("/v1/bindings/" + pod_);
  EXPECT_EQ(str(after, "mac"), "0a:58:c6:33:64:05");
  EXPECT_EQ(str(after, "host"), "node-4");
  EXPECT_EQ(str(after, "host_mac"), "00:1a:2b:3c:4d:5e");
  EXPECT_EQ(fingerprint(), before);
}

TEST_F(BindingUpdateTest, ReplacedMacIsQuarantined) {
  auto pooled =
      str(allocate(obj({{"instance", "vm-1"}, {"pool", "pods"}, {"mac_pool", "macs"}})), "mac");
  auto id = str(mustGet("/v1/macs/" + pooled), "id");
  auto r = patch(id, R"({"mac":"0a:58:c6:33:64:07"})");
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(api_->get("/v1/macs/" + pooled).status, 404u);
  // The old MAC is held back from reuse, across a restart too.
  auto reuse = obj({{"instance", "vm-2"}, {"pool", "pods"}, {"mac", pooled}});
  EXPECT_TRUE(isProblem(api_->post("/v1/bindings", reuse), 409, "conflict", "quarantined"));
  server_.restart();
  api_->setPort(server_.port());
  EXPECT_TRUE(isProblem(api_->post("/v1/bindings", reuse), 409, "conflict", "quarantined"));
  EXPECT_EQ(str(mustGet("/v1/macs/0a:58:c6:33:64:07"), "id"), id);
}

TEST_F(BindingUpdateTest, BadRequestsAreRefusedNamingTheFieldAndChangeNothing) {
  const std::string viewer = createToken("viewer", "viewer");
  HttpClient as_viewer(server_.port(), viewer);
  struct Case {
    std::string id, body;
    unsigned status;
    std::string code, detail;
    bool viewer = false;
  };
  const std::vector<Case> cases = {
      {pod_, R"({"mac":"0a:58:c6:33:64:09"})", 409, "conflict", "binding " + holder_},
      {pod_, R"({"mac":"0a:58:c6:33:64:09","host":"node-9"})", 409, "conflict", "holder"},
      {pod_, R"({"mac":"01:00:5e:00:00:fb"})", 400, "invalid_argument", "mac:"},
      {pod_, R"({"mac":"ff:ff:ff:ff:ff:ff"})", 400, "invalid_argument", "mac:"},
      {pod_, R"({"mac":"00:00:00:00:00:00"})", 400, "invalid_argument", "mac:"},
      {pod_, R"({"mac":"0a:58:c6:33:64"})", 400, "invalid_argument", "mac"},
      {pod_, R"({"mac":42})", 400, "invalid_argument", "mac"},
      {pod_, R"({"host_mac":"zz:58:c6:33:64:05"})", 400, "invalid_argument", "host_mac"},
      {pod_, R"({"host":"node\u0001"})", 400, "invalid_argument", "host"},
      {pod_, R"({"host":")" + std::string(300, 'h') + R"("})", 400, "invalid_argument", "host"},
      {pod_, "", 400, "invalid_argument", "body"},
      {pod_, "{}", 400, "invalid_argument", "mac, host, host_mac"},
      {pod_, R"({"mac":"0a:58:c6:33:64:05")", 400, "invalid_argument", "body"},
      {pod_, R"({"host":"n","state":"active"})", 400, "invalid_argument", "state"},
      {pod_, R"(["host"])", 400, "invalid_argument", "body"},
      {"987654", R"({"host":"n"})", 404, "not_found", "987654"},
      {"abc", R"({"host":"n"})", 400, "invalid_argument", "id"},
      {pod_, R"({"host":"node-3"})", 403, "forbidden", "", true},
  };
  const std::string before = fingerprint();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id + " " + c.body.substr(0, 80) + (c.viewer ? " (viewer)" : ""));
    auto r = patch(c.id, c.body, c.viewer ? &as_viewer : nullptr);
    EXPECT_TRUE(isProblem(r, c.status, c.code, c.detail));
    EXPECT_EQ(fingerprint(), before) << "the refused request changed the state";
  }
  EXPECT_TRUE(items(mustGet("/v1/audit?op=binding.update")).empty());
  EXPECT_EQ(str(mustGet("/v1/macs/0a:58:c6:33:64:09"), "id"), holder_);
}

TEST_F(BindingUpdateTest, ATenantTokenSeesOnlyItsBindings) {
  createPool(obj({{"name", "red"}, {"cidr", "203.0.113.0/24"}, {"tenant", "red"}}));
  auto red = str(allocate(obj({{"instance", "red-pod"}, {"pool", "red"}})), "id");
  HttpClient blue(server_.port(), createToken("blue-op", "operator", {"blue"}));
  HttpClient red_op(server_.port(), createToken("red-op", "operator", {"red"}));
  const std::string before = fingerprint();
  EXPECT_TRUE(isProblem(patch(red, R"({"host":"node-1"})", &blue), 404, "not_found"));
  EXPECT_EQ(fingerprint(), before);
  auto r = patch(red, R"({"host":"node-1"})", &red_op);
  ASSERT_EQ(r.status, 200u) << r.describe();
  auto events = items(mustGet("/v1/audit?op=binding.update"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str(events[0], "actor"), "red-op");
}

TEST_F(BindingUpdateTest, AReservedBindingStaysReserved) {
  // A probed allocation stays reserved until the node's agent reports; nobody reports here, so
  // the allocation's own request times out while the binding sits reserved.
  auto r = api_->post("/v1/bindings", obj({{"instance", "probed"},
                                           {"pool", "pods"},
                                           {"host", "node-1"},
                                           {"probe", true},
                                           {"probe_timeout_s", 1}}));
  ASSERT_EQ(r.status, 202u) << r.describe();
  auto page = mustGet("/v1/bindings?instance=probed");
  ASSERT_EQ(items(page).size(), 1u) << r.describe();
  auto b = items(page)[0];
  ASSERT_EQ(str(b, "state"), "reserved");
  auto p = patch(str(b, "id"), R"({"mac":"0a:58:c6:33:64:0a"})");
  ASSERT_EQ(p.status, 200u) << p.describe();
  EXPECT_EQ(str(p.json(), "state"), "reserved");
  EXPECT_EQ(str(p.json(), "expires_at"), str(b, "expires_at"));
}

}  // namespace
}  // namespace netledger::it
