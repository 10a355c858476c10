// The operator's commands in-process against the real daemon: binding list/show/update, audit,
// webhook, policy, observe, scan list/show. Each is checked through the API it drives, and bad
// flags are usage errors (exit 2) naming the flag.
#include <fstream>
#include <set>
#include <tuple>

#include "integration/cli_fixture.h"
#include "integration/webhook_receiver.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class CliOperatorTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    createPool(obj({{"name", "vms"}, {"cidr", "192.0.2.0/24"}}));
  }
  json::value alloc(const std::string& instance, const std::string& host) {
    return allocate(obj({{"instance", instance}, {"pool", "vms"}, {"host", host}}));
  }
  std::string writeFile(const std::string& name, const std::string& text) {
    const std::string path = server_.root() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(CliOperatorTest, BindingListShowUpdate) {
  alloc("vm-1", "hv1");
  alloc("vm-2", "hv1");
  const std::string id = std::to_string(num(alloc("vm-3", "hv2"), "id"));

  auto [code, out, err] = cli({"binding", "list"});
  ASSERT_EQ(code, 0) << err;
  for (const char* vm : {"vm-1", "vm-2", "vm-3"}) EXPECT_TRUE(has(out, vm)) << out;
  std::tie(code, out, err) = cli({"binding", "list", "--host", "hv2"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "vm-3") && !has(out, "vm-1")) << out;  // the filter reached the API
  std::tie(code, out, err) = cli({"-o", "json", "binding", "list", "--limit", "2"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(items(parseJson(out)).size(), 2u);
  EXPECT_TRUE(parseJson(out).at("next_cursor").is_string()) << out;

  std::tie(code, out, err) = cli({"binding", "show", id});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "vm-3")) << out;
  std::tie(code, out, err) =
      cli({"binding", "update", id, "--host", "hv9", "--host-mac", "02-00-00-00-00-AA"});
  ASSERT_EQ(code, 0) << err;
  auto b = mustGet("/v1/bindings/" + id);
  EXPECT_EQ(str(b, "host"), "hv9");
  EXPECT_EQ(str(b, "host_mac"), "02:00:00:00:00:aa");

  std::tie(code, out, err) = cli({"binding", "update", id});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "--mac, --host or --host-mac")) << err;
  std::tie(code, out, err) = cli({"binding", "update", id, "--mac", "zz"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "--mac")) << err;
  std::tie(code, out, err) = cli({"binding", "list", "--state", "bogus"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "--state")) << err;
  std::tie(code, out, err) = cli({"binding", "show", "999"});
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(has(err, "not_found")) << err;
}

// More bindings than one page of the API holds (1,000): the CLI follows next_cursor.
TEST_F(CliOperatorTest, ListsFollowEveryPage) {
  createPool(obj({{"name", "big"}, {"cidr", "198.51.100.0/22"}}));
  for (int i = 0; i < 1010; ++i) {
    allocate(obj({{"instance", "p-" + std::to_string(i)}, {"pool", "big"}}));
  }
  auto [code, out, err] =
      cli({"-o", "json", "binding", "list", "--pool", "big", "--limit", "5000"});
  ASSERT_EQ(code, 0) << err;
  std::set<std::string> instances;
  const json::value listed = parseJson(out);
  for (const auto& b : items(listed)) instances.insert(str(b, "instance"));
  EXPECT_EQ(instances.size(), 1010u);
  EXPECT_TRUE(parseJson(out).at("next_cursor").is_null());
  std::tie(code, out, err) =
      cli({"-o", "json", "audit", "--op", "binding.allocate", "--limit", "1005"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(items(parseJson(out)).size(), 1005u);
  EXPECT_TRUE(parseJson(out).at("next_cursor").is_string());
}

TEST_F(CliOperatorTest, AuditFilters) {
  auto first = alloc("vm-1", "hv1");
  alloc("vm-2", "hv1");
  const std::string ip = strings(first, "addresses").at(0);
  auto [code, out, err] = cli({"audit", "--op", "binding.allocate"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "SEQ") && has(out, "binding.allocate")) << out;
  EXPECT_FALSE(has(out, "pool.create")) << out;
  std::tie(code, out, err) = cli({"-o", "json", "audit", "--limit", "2"});
  ASSERT_EQ(code, 0) << err;
  ASSERT_EQ(items(parseJson(out)).size(), 2u);
  EXPECT_EQ(str(items(parseJson(out))[0], "op"), "binding.allocate");  // newest first
  std::tie(code, out, err) = cli({"-o", "json", "audit", ip});
  ASSERT_EQ(code, 0) << err;
  ASSERT_EQ(items(parseJson(out)).size(), 1u) << out;  // vm-1's address only
  std::tie(code, out, err) = cli({"-o", "json", "audit", "--actor", "nobody"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(items(parseJson(out)).empty());
  std::tie(code, out, err) = cli({"audit", "--from", "yesterday-ish"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "from")) << err;
  std::tie(code, out, err) = cli({"audit", "--limit", "0"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "--limit")) << err;
}

TEST_F(CliOperatorTest, WebhookLifecycle) {
  Receiver receiver;
  // Plain variables, not a structured binding: the lambda below captures them.
  int code = 0;
  std::string out, err;
  std::tie(code, out, err) = cli({"-o", "json", "webhook", "create", receiver.url(), "--events",
                                  "binding.allocate,conflict.*"});
  ASSERT_EQ(code, 0) << err;
  const json::value created = parseJson(out);
  const std::string id = str(created, "id");
  EXPECT_GE(str(created, "secret").size(), 16u);  // shown once, at creation
  std::tie(code, out, err) = cli({"webhook", "list"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, id) && has(out, receiver.url())) << out;
  std::tie(code, out, err) = cli({"webhook", "show", id});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "binding.allocate") && !has(out, str(created, "secret"))) << out;

  alloc("vm-1", "hv1");
  ASSERT_EQ(receiver.waitFor(1).size(), 1u);
  ASSERT_TRUE(testing_util::eventually(
      [&] {
        std::tie(code, out, err) = cli({"webhook", "deliveries", id});
        return code == 0 && has(out, "delivered");
      },
      10s))
      << out << err;
  EXPECT_TRUE(has(out, "binding.allocate")) << out;

  std::tie(code, out, err) = cli({"webhook", "delete", id});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(items(mustGet("/v1/webhooks")).empty());
  std::tie(code, out, err) = cli({"webhook", "create", receiver.url()});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "--events")) << err;
  std::tie(code, out, err) = cli({"webhook", "create", "ftp://x", "--events", "binding.*"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "url")) << err;
  std::tie(code, out, err) = cli({"webhook", "show", "wh-nosuch"});
  EXPECT_EQ(code, 1);
}

TEST_F(CliOperatorTest, PolicyShowAndSet) {
  auto [code, out, err] = cli({"policy", "show"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "duplicate_ip")) << out;
  std::tie(code, out, err) = cli({"policy", "set", "duplicate_ip=none", "mac_drift=alert"});
  ASSERT_EQ(code, 0) << err;
  auto policies = mustGet("/v1/policies");
  EXPECT_EQ(str(policies, "duplicate_ip"), "none");
  EXPECT_EQ(str(policies, "mac_drift"), "alert");
  const std::string before = fingerprint();
  std::tie(code, out, err) = cli({"policy", "set", "nosuch=alert"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "nosuch")) << err;
  std::tie(code, out, err) = cli({"policy", "set", "duplicate_ip"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "KIND=POLICY")) << err;
  EXPECT_EQ(fingerprint(), before);
  EXPECT_EQ(str(mustGet("/v1/policies"), "duplicate_ip"), "none");
}

TEST_F(CliOperatorTest, ObserveFromFiles) {
  auto b = allocate(
      obj({{"instance", "vm-1"}, {"pool", "vms"}, {"host", "hv1"}, {"mac", "02:00:00:00:00:01"}}));
  const std::string ip = strings(b, "addresses").at(0);
  const std::string stranger = R"({"ip":")" + ip +
                               R"(","mac":"02:00:00:00:00:99","kind":"reply","host":"hv1",)"
                               R"("interface":"br0"})";
  auto [code, out, err] = cli({"observe", writeFile("array.json", "[" + stranger + "]")});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "1 observations accepted")) << out;
  ASSERT_TRUE(testing_util::eventually(
      [&] { return items(mustGet("/v1/conflicts?status=open")).size() == 1; }, 5s));
  std::tie(code, out, err) = cli(
      {"-o", "json", "observe", writeFile("lines.ndjson", stranger + "\n\n" + stranger + "\n")});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(num(parseJson(out), "accepted"), 2);

  std::tie(code, out, err) = cli({"observe", writeFile("bad.ndjson", stranger + "\n{oops\n")});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "bad.ndjson:2")) << err;
  std::tie(code, out, err) =
      cli({"observe", writeFile("field.json",
                                R"({"observations":[{"ip":"nope","mac":"02:00:00:00:00:01"}]})")});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "observations[0].ip")) << err;
  std::tie(code, out, err) = cli({"observe", server_.root() + "/missing.json"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "missing.json")) << err;
}

TEST_F(CliOperatorTest, ScanListAndShow) {
  createPool(obj({{"name", "lab"}, {"cidr", "203.0.113.0/28"}}));
  const std::string id =
      str(mustPost("/v1/scans", obj({{"pool", "lab"}, {"via", "node-1"}})), "id");
  auto [code, out, err] = cli({"scan", "list"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, id) && has(out, "pending")) << out;
  auto done = api_->post(
      "/v1/scans/" + id + "/result",
      obj({{"answered", json::array{obj({{"ip", "203.0.113.5"}, {"mac", "02:00:00:00:00:05"}})}},
           {"probed", 14}}));
  ASSERT_EQ(done.status, 200u) << done.describe();
  std::tie(code, out, err) = cli({"scan", "show", id});
  ASSERT_EQ(code, 0) << err;
  EXPECT_TRUE(has(out, "unknown stations") && has(out, "203.0.113.5")) << out;
  std::tie(code, out, err) = cli({"-o", "json", "scan", "list", "--limit", "1"});
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(str(items(parseJson(out)).at(0), "state"), "done");
  std::tie(code, out, err) = cli({"scan", "show", "scan-nosuch"});
  EXPECT_EQ(code, 1);
  std::tie(code, out, err) = cli({"scan"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "POOL")) << err;
  std::tie(code, out, err) = cli({"scan", "run", "lab"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(has(err, "--via")) << err;
}

}  // namespace
}  // namespace netledger::it
