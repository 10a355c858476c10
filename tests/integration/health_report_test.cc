// GET /v1/reports/health and the scheduled report.health webhook against the real daemon: the
// figures follow what was done (allocations per pool, conflicts opened and resolved, the sync
// rate from real observations), bad periods are 400 naming the field, and a webhook subscribed
// to report.health receives the report when it is due (and nobody is sent one unasked).
#include <thread>

#include "integration/cli_fixture.h"
#include "integration/webhook_receiver.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class HealthReportTest : public CliTest {
 protected:
  void SetUp() override {
    configure("health_report_interval_s: 2\n");
    CliTest::SetUp();
  }
  static std::int64_t total(const json::value& series) {
    std::int64_t n = 0;
    for (const auto& v : series.as_array()) n += v.as_int64();
    return n;
  }
};

TEST_F(HealthReportTest, FiguresFollowWhatHappened) {
  createPool(obj({{"name", "vms"}, {"cidr", "192.0.2.0/24"}}));
  std::vector<std::string> ips;
  for (int i = 1; i <= 4; ++i) {
    auto b = allocate(obj({{"instance", "vm-" + std::to_string(i)},
                           {"pool", "vms"},
                           {"mac", "02:00:00:00:00:0" + std::to_string(i)},
                           {"host", "hv1"}}));
    ips.push_back(strings(b, "addresses").at(0));
  }
  ASSERT_EQ(api_->del("/v1/bindings/" + std::to_string(4)).status, 200u);
  observe(ips[0], "02:00:00:00:00:01");  // agrees
  observe(ips[1], "02:00:00:00:00:02");  // agrees
  observe(ips[2], "02:00:00:00:00:99");  // a stranger on vm-3's address: binding_mismatch
  ASSERT_TRUE(testing_util::eventually(
      [&] { return items(mustGet("/v1/conflicts?kind=binding_mismatch")).size() == 1; }, 5s));
  const std::string id = std::to_string(num(items(mustGet("/v1/conflicts"))[0], "id"));
  mustPost("/v1/conflicts/" + id + "/resolve", obj({{"note", "moved it"}}), 200);
  observe(ips[2], "02:00:00:00:00:03");  // vm-3 itself, seen too

  auto r = mustGet("/v1/reports/health?step_s=3600");
  const auto& c = r.at("conflicts");
  EXPECT_EQ(total(c.at("opened").at("binding_mismatch")), 1);
  EXPECT_EQ(total(c.at("resolved").at("binding_mismatch")), 1);
  EXPECT_EQ(num(c, "resolved_total"), 1);
  EXPECT_EQ(num(c.at("time_to_resolve"), "count"), 1);
  EXPECT_GE(c.at("time_to_resolve").at("median_s").to_number<double>(), 0.0);
  ASSERT_TRUE(testing_util::eventually(
      [&] { return num(mustGet("/v1/reports/health").at("sync"), "observed") == 3; }, 5s));
  const auto sync = mustGet("/v1/reports/health").at("sync");
  EXPECT_EQ(num(sync, "bindings"), 3);
  EXPECT_EQ(num(sync, "agreeing"), 2);  // vm-3 had a disagreement in the period
  EXPECT_NEAR(sync.at("rate").to_number<double>(), 2.0 / 3.0, 1e-9);
  const auto& pool = r.at("pools").at(0);
  EXPECT_EQ(str(pool, "name"), "vms");
  EXPECT_EQ(total(pool.at("allocations")), 4);
  EXPECT_EQ(total(pool.at("releases")), 1);
  EXPECT_EQ(num(r.at("quarantine"), "entered"), 1);
  EXPECT_EQ(r.at("buckets").as_array().size(), 168u);  // 7 days of hours
}

TEST_F(HealthReportTest, BadPeriodsAndScopes) {
  EXPECT_TRUE(
      isProblem(api_->get("/v1/reports/health?from=2026-12-07T10:00:00Z&to=2026-12-07T09:00:00Z"),
                400, "invalid_argument", "from"));
  const auto month_ago = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() -
                         30 * 86400;
  EXPECT_TRUE(
      isProblem(api_->get("/v1/reports/health?from=" + std::to_string(month_ago) + "&step_s=60"),
                400, "invalid_argument", "step_s"));
  EXPECT_TRUE(
      isProblem(api_->get("/v1/reports/health?to=yesterday"), 400, "invalid_argument", "to"));
  const std::string scoped = createToken("tenant-a", "viewer", {"a"});
  EXPECT_TRUE(isProblem(server_.client(scoped)->get("/v1/reports/health"), 403, "forbidden"));
  auto [code, out, err] = cli({"report", "--since", "soon"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("since"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"pool", "list", "-o", "html"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("-o html"), std::string::npos) << err;
}

TEST_F(HealthReportTest, ScheduledReportGoesToSubscribedWebhooksOnly) {
  std::this_thread::sleep_for(2500ms);  // a due time passes with nobody subscribed
  EXPECT_TRUE(items(mustGet("/v1/audit?op=report.health")).empty());
  Receiver receiver;
  mustPost("/v1/webhooks", obj({{"url", receiver.url()}, {"events", json::array{"report.*"}}}));
  auto hits = receiver.waitFor(1, 15s);
  ASSERT_GE(hits.size(), 1u);
  const json::value body = parseJson(hits[0].body);
  EXPECT_EQ(str(body, "type"), "report.health");
  EXPECT_TRUE(body.at("data").at("sync").is_object()) << hits[0].body;
  EXPECT_TRUE(body.at("data").at("conflicts").is_object()) << hits[0].body;
  EXPECT_FALSE(items(mustGet("/v1/audit?op=report.health")).empty());
  // `netledger report` prints the same kind of report for a period.
  auto [code, out, err] = cli({"report", "--since", "1h"});
  EXPECT_EQ(code, 0) << err;
  EXPECT_NE(out.find("sync rate"), std::string::npos) << out;
}

}  // namespace
}  // namespace netledger::it
