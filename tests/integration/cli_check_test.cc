// `netledger check` against the real daemon: each inconsistency the issue names is seeded for
// real (observations posted as an agent would, a lease the stalled sweeper leaves, a quarantine
// row written into the SQLite store while the daemon is down) and found; a clean ledger gives
// nothing (exit 0); --fix --dry-run changes nothing; --fix releases, migrates and sweeps as
// actor "check".
#include <cstdlib>
#include <set>
#include <thread>
#include <tuple>

#include "integration/cli_fixture.h"
#include "testing/eventually.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;

class CliCheckTest : public CliTest {
 protected:
  void SetUp() override {
    // The sweeper stalled for the test's life: a lease past its end stays (unswept).
    configure("sweep_interval_ms: 3600000\n");
    CliTest::SetUp();
    createPool(obj({{"name", "vms"}, {"cidr", "192.0.2.0/24"}, {"cluster", "a"}}));
  }
  json::value bind(const std::string& instance, const std::string& mac, json::object extra = {}) {
    json::object body{{"instance", instance}, {"pool", "vms"}, {"mac", mac}, {"host", "hv1"}};
    for (auto& [k, v] : extra) body[k] = v;
    return allocate(json::value(std::move(body)));
  }
  // Waits until the engine has taken in `n` sightings.
  void waitSightings(std::int64_t n) {
    ASSERT_TRUE(testing_util::eventually(
        [&] { return num(mustGet("/v1/check").at("wire"), "sightings") >= n; }, 5s));
  }
  static std::string nowText() {
    return formatTimeMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
  }
  static std::set<std::string> field(const json::value& report, const char* section,
                                     const char* key) {
    std::set<std::string> out;
    for (const auto& item : report.at(section).as_array()) out.insert(str(item, key));
    return out;
  }
};

TEST_F(CliCheckTest, CleanLedgerFindsNothing) {
  auto b = bind("vm-1", "02:00:00:00:00:01");
  observe(strings(b, "addresses").at(0), "02:00:00:00:00:01", "hv1");
  waitSightings(1);
  auto [code, out, err] = cli({"check"});
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("0 findings"), std::string::npos) << out;
  std::tie(code, out, err) = cli({"-o", "json", "check", "--since", "1h", "--grace", "0"});
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_EQ(num(parseJson(out), "findings"), 0);
}

TEST_F(CliCheckTest, FindsEachSeededInconsistencyAndFixesWhatItMay) {
  createPool(obj({{"name", "q"}, {"cidr", "203.0.113.0/28"}, {"quarantine_s", 1}}));
  createPool(obj({{"name", "kube"}, {"cidr", "198.51.100.0/24"}, {"cluster", "a"}}));
  createPool(obj({{"name", "other-plane"},
                  {"cidr", "198.51.100.128/25"},
                  {"cluster", "b"},
                  {"external", true}}));
  const std::string leak = str(bind("vm-leak", "02:00:00:00:00:01"), "id");
  auto seen = bind("vm-seen", "02:00:00:00:00:02");
  auto moved = bind("vm-moved", "02:00:00:00:00:03");
  auto gone = bind("vm-gone", "02:00:00:00:00:04");
  const std::string lease = str(bind("vm-lease", "02:00:00:00:00:05", {{"ttl_s", 1}}), "id");
  // On a host no agent reports from: its silence means nothing, so it is not a leak.
  bind("vm-unwatched", "02:00:00:00:00:06", {{"host", "hv3"}});
  auto q = allocate(obj({{"instance", "vm-q"}, {"pool", "q"}}));
  ASSERT_EQ(api_->del("/v1/bindings/" + str(q, "id")).status, 200u);
  const std::string ip_seen = strings(seen, "addresses").at(0);
  observe(ip_seen, "02:00:00:00:00:02", "hv1");  // the wire is watched from here on
  waitSightings(1);
  std::this_thread::sleep_for(20ms);
  const std::string since = nowText();
  ASSERT_EQ(api_->del("/v1/bindings/" + str(gone, "id")).status, 200u);
  std::this_thread::sleep_for(1100ms);  // vm-lease's lease and q's quarantine end
  observe(ip_seen, "02:00:00:00:00:02", "hv1");
  observe(strings(moved, "addresses").at(0), "02:00:00:00:00:03", "hv2");
  observe("192.0.2.200", "02:00:00:00:00:99", "hv1");
  observe(strings(gone, "addresses").at(0), "02:00:00:00:00:04", "hv1");
  waitSightings(4);

  auto [code, out, err] = cli({"-o", "json", "check", "--since", since, "--grace", "0"});
  ASSERT_EQ(code, 1) << out << err;
  const json::value r = parseJson(out);
  EXPECT_EQ(field(r, "leaks", "instance"), (std::set<std::string>{"vm-leak", "vm-lease"}));
  EXPECT_EQ(field(r, "unbound_addresses", "ip"), std::set<std::string>{"192.0.2.200"});
  EXPECT_EQ(field(r, "lingering_leases", "instance"), std::set<std::string>{"vm-gone"});
  EXPECT_EQ(field(r, "misplaced_macs", "seen_host"), std::set<std::string>{"hv2"});
  EXPECT_EQ(field(r, "unswept_leases", "binding_id"), std::set<std::string>{lease});
  EXPECT_EQ(field(r, "overdue_quarantine", "pool"), std::set<std::string>{"q"});
  EXPECT_EQ(field(r, "overlapping_pools", "network"), std::set<std::string>{"default"});
  EXPECT_TRUE(r.at("allocator").at("count_mismatches").as_array().empty()) << out;
  EXPECT_TRUE(r.at("allocator").at("unmarked").as_array().empty()) << out;
  EXPECT_EQ(num(r, "findings"), 8);
  ASSERT_EQ(r.at("unwatched").as_array().size(), 1u) << out;
  EXPECT_EQ(str(r.at("unwatched").at(0), "host"), "hv3");

  std::tie(code, out, err) = cli({"check", "--since", since, "--grace", "0"});
  EXPECT_EQ(code, 1);
  for (const char* part : {"8 findings", "vm-leak", "192.0.2.200", "seen on another host",
                           "--fix makes them", "other-plane"}) {
    EXPECT_NE(out.find(part), std::string::npos) << part << " missing from\n" << out;
  }

  const std::string before = fingerprint();
  std::tie(code, out, err) =
      cli({"-o", "json", "check", "--since", since, "--grace", "0", "--fix", "--dry-run"});
  EXPECT_EQ(code, 1) << err;
  EXPECT_EQ(parseJson(out).at("fixes").as_array().size(), 4u) << out;  // 2 releases, migrate, sweep
  EXPECT_EQ(fingerprint(), before);

  std::tie(code, out, err) =
      cli({"-o", "json", "check", "--since", since, "--grace", "0", "--fix"});
  EXPECT_EQ(code, 1) << err;
  const json::value fixed = parseJson(out);
  for (const auto& f : fixed.at("fixes").as_array()) {
    EXPECT_TRUE(f.at("applied").as_bool()) << json::serialize(f);
  }
  EXPECT_EQ(api_->get("/v1/bindings/" + leak).status, 404u);
  EXPECT_EQ(str(mustGet("/v1/bindings/" + str(moved, "id")), "host"), "hv2");
  std::set<std::string> ops;
  const json::value audit = mustGet("/v1/audit?actor=check");
  for (const auto& e : items(audit)) ops.insert(str(e, "op"));
  EXPECT_EQ(ops, (std::set<std::string>{"binding.release", "binding.migrate"}));

  std::tie(code, out, err) = cli({"-o", "json", "check", "--since", since, "--grace", "0"});
  const json::value after = parseJson(out);
  for (const char* fixed : {"leaks", "misplaced_macs", "unswept_leases", "overdue_quarantine"}) {
    EXPECT_TRUE(after.at(fixed).as_array().empty()) << fixed << ": " << out;
  }
  EXPECT_EQ(num(after, "findings"), 3);  // the stranger, the lingering MAC, the overlap remain
}

TEST_F(CliCheckTest, AllocatorAgainstBindingsAfterTheStoreWasTamperedWith) {
  auto b = bind("vm-1", "02:00:00:00:00:01");
  bind("vm-2", "02:00:00:00:00:02");
  const std::string ip = strings(b, "addresses").at(0);
  ASSERT_EQ(server_.stop(), 0);
  // A quarantine row for an address a binding holds: what no command writes.
  const std::string sql = "INSERT INTO quarantine (kind, key, pool, until) VALUES ('ip', '" + ip +
                          "', 'vms', 4102444800000);";
  ASSERT_EQ(std::system(("sqlite3 '" + server_.dataDir() + "/ledger.db' \"" + sql + "\"").c_str()),
            0);
  server_.start();
  api_ = server_.client();
  auto [code, out, err] = cli({"-o", "json", "check"});
  ASSERT_EQ(code, 1) << out << err;
  const json::value r = parseJson(out);
  ASSERT_EQ(r.at("allocator").at("unmarked").as_array().size(), 1u) << out;
  EXPECT_EQ(str(r.at("allocator").at("unmarked").at(0), "ip"), ip);
  EXPECT_EQ(str(r.at("allocator").at("unmarked").at(0), "allocator_state"), "quarantined");
  ASSERT_EQ(r.at("allocator").at("count_mismatches").as_array().size(), 1u) << out;
  EXPECT_EQ(num(r.at("allocator").at("count_mismatches").at(0), "bound"), 2);
}

TEST_F(CliCheckTest, BadInput) {
  auto [code, out, err] = cli({"check", "--since", "30d"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("since"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"check", "--since", "soonish"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("since"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"check", "--dry-run"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("--dry-run"), std::string::npos) << err;
  std::tie(code, out, err) = cli({"check", "--grace", "-1"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("--grace"), std::string::npos) << err;
  const std::string viewer = createToken("eyes", "viewer");
  std::tie(code, out, err) = cliAs(viewer, {"check", "--fix"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("forbidden"), std::string::npos) << err;
  const std::string scoped = createToken("tenant-a", "admin", {"a"});
  std::tie(code, out, err) = cliAs(scoped, {"check"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("forbidden"), std::string::npos) << err;
}

}  // namespace
}  // namespace netledger::it
