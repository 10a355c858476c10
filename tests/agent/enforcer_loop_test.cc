// The Enforcer's own loop against a fake nftables (enforce::TableLoader) and a fake link: when it
// reloads, what it keeps when the kernel refuses, what it does when the table vanishes or the
// server does not answer, and how its drop counts add up. The real table is judged in
// tests/enforce and tests/netns/enforce_netns_test.py.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "addr/addr_test_util.h"
#include "agent/enforcer.h"
#include "enforce/nftables.h"
#include "fake_link.h"
#include "testing/eventually.h"
#include "wire/frames.h"

namespace netledger::agent {
namespace {

using addr::testing_util::ip;
using addr::testing_util::mac;
using testing_util::eventually;
using namespace std::chrono_literals;

// What the fake kernel holds; shared with the loader the Enforcer owns.
struct Kernel {
  std::mutex mu;
  std::vector<std::string> loaded;  // every script that was run successfully
  int attempts = 0;
  bool refuse = false;
  bool present = false;
  bool forwards = false;  // table inet netledger
  std::map<std::string, std::uint64_t> counts;
};

class FakeLoader final : public enforce::TableLoader {
 public:
  explicit FakeLoader(std::shared_ptr<Kernel> k) : k_(std::move(k)) {}
  Status run(std::string_view script) override {
    std::lock_guard lock(k_->mu);
    ++k_->attempts;
    if (k_->refuse) return Status::unavailable("refused");
    k_->loaded.emplace_back(script);
    // A script replaces only the tables it names.
    if (script.find("table bridge netledger") != std::string_view::npos) {
      k_->present = script.find("chain guard") != std::string_view::npos;
      k_->counts.clear();  // a new table counts from zero
    }
    if (script.find("table inet netledger") != std::string_view::npos) {
      k_->forwards = script.find("table inet netledger {") != std::string_view::npos;
    }
    return Status::ok();
  }
  Result<std::map<std::string, std::uint64_t>> dropCounts() override {
    std::lock_guard lock(k_->mu);
    if (!k_->present) return Status::notFound("no table");
    return k_->counts;
  }

  bool hasForwards() override {
    std::lock_guard lock(k_->mu);
    return k_->forwards;
  }

 private:
  std::shared_ptr<Kernel> k_;
};

class EnforcerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.enforce = "enforce";
    config_.enforce_resync = 30s;  // nothing here may wait for a resync
    bindings_.push_back({1, mac("02:00:00:00:00:01"), {ip("192.0.2.1")}, "tap1", {}});
  }
  void TearDown() override {
    if (enforcer_) enforcer_->stop();
  }

  void start() {
    enforcer_ = std::make_unique<Enforcer>(
        config_,
        [this]() -> Result<std::vector<NodeBinding>> {
          std::lock_guard lock(mu_);
          ++fetches_;
          if (fail_fetches_ > 0) {
            --fail_fetches_;
            return Status::unavailable("server away");
          }
          return bindings_;
        },
        [this] {
          std::lock_guard lock(mu_);
          return bridges_;
        },
        link_, registry_,
        [k = kernel_]() -> Result<std::unique_ptr<enforce::TableLoader>> {
          return std::unique_ptr<enforce::TableLoader>(std::make_unique<FakeLoader>(k));
        });
    if (start_with_forwards) enforcer_->forwardPorts(start_with_forwards);
    if (report_to) enforcer_->reportTo(report_to);
    ASSERT_TRUE(enforcer_->start().isOk());
  }
  std::size_t loads() {
    std::lock_guard lock(kernel_->mu);
    return kernel_->loaded.size();
  }
  std::string lastLoaded() {
    std::lock_guard lock(kernel_->mu);
    return kernel_->loaded.empty() ? "" : kernel_->loaded.back();
  }
  int fetches() {
    std::lock_guard lock(mu_);
    return fetches_;
  }
  double metric(const std::string& line_start) {
    for (const auto& line : [&] {
           std::vector<std::string> lines;
           std::string text = registry_.render(), cur;
           for (char c : text) {
             if (c == '\n') {
               lines.push_back(cur);
               cur.clear();
             } else {
               cur += c;
             }
           }
           return lines;
         }()) {
      if (line.rfind(line_start + " ", 0) == 0) return std::stod(line.substr(line_start.size()));
    }
    return -1;
  }
  void moveAddressTo(std::uint64_t id) {
    std::lock_guard lock(mu_);
    bindings_.push_back({id, mac("02:00:00:00:00:02"), {ip("192.0.2.1")}, "tap2", {}});
    bindings_[0].addresses.clear();
  }

  AgentConfig config_;
  testing::FakeLink link_{mac("02:00:00:00:01:01")};
  metrics::Registry registry_;
  std::shared_ptr<Kernel> kernel_ = std::make_shared<Kernel>();
  std::mutex mu_;
  std::vector<NodeBinding> bindings_;
  int fetches_ = 0;
  int fail_fetches_ = 0;
  Enforcer::FetchForwards start_with_forwards;  // set: port_maps
  std::map<std::string, std::vector<std::string>> bridges_{{"br0", {"tap1", "tap2"}}};
  Enforcer::ReportState report_to;
  std::unique_ptr<Enforcer> enforcer_;
};

const char* kPair1 = "\"tap1\" . 02:00:00:00:00:01 . 192.0.2.1";
const char* kPair2 = "\"tap2\" . 02:00:00:00:00:02 . 192.0.2.1";

TEST_F(EnforcerLoopTest, LoadsOnStartAndAfterAChangeButNotForNothing) {
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  EXPECT_NE(lastLoaded().find(kPair1), std::string::npos);
  enforcer_->poke();  // nothing changed on the server
  ASSERT_TRUE(eventually([&] { return fetches() >= 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(loads(), 1u);
  moveAddressTo(2);
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return loads() == 2; }));
  EXPECT_NE(lastLoaded().find(kPair2), std::string::npos);
  EXPECT_EQ(lastLoaded().find(kPair1), std::string::npos);
}

TEST_F(EnforcerLoopTest, ARefusedTableKeepsTheLastGoodOneAndIsTriedAgain) {
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->refuse = true;
  }
  moveAddressTo(2);
  enforcer_->poke();
  ASSERT_TRUE(eventually(
      [&] { return metric("netledger_agent_enforce_applies_total{result=\"failed\"}") == 1; }));
  EXPECT_EQ(metric("netledger_agent_enforce_last_apply_ok"), 0);
  EXPECT_NE(lastLoaded().find(kPair1), std::string::npos);  // the kernel kept the old one
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->refuse = false;
  }
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return lastLoaded().find(kPair2) != std::string::npos; }));
  EXPECT_EQ(metric("netledger_agent_enforce_last_apply_ok"), 1);
}

// A plain interface is guarded at its ingress once a binding names it; an uplink never is.
TEST_F(EnforcerLoopTest, APlainInterfaceIsGuardedOnceABindingNamesIt) {
  {
    std::lock_guard lock(mu_);
    bridges_[Enforcer::kPlainInterfaces] = {"eth0", "veth9"};
  }
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  EXPECT_EQ(lastLoaded().find("table netdev netledger {"), std::string::npos);  // nobody's yet
  {
    std::lock_guard lock(mu_);
    bindings_.push_back({9, mac("02:00:00:00:00:09"), {ip("192.0.2.9")}, "veth9", {}});
  }
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return loads() == 2; }));
  const std::string script = lastLoaded();
  EXPECT_NE(script.find("hook ingress devices = { \"veth9\" }"), std::string::npos) << script;
  EXPECT_EQ(script.find("\"eth0\""), std::string::npos);  // the uplink stays open
}

// A refused table is told to the server once (not on every retry), and so is the recovery.
TEST_F(EnforcerLoopTest, ARefusedTableAndItsRecoveryAreReportedOnce) {
  std::mutex rmu;
  std::vector<std::string> reports;  // "ok" or the error
  bool deliver = true;
  report_to = [&](bool ok, const std::string& error) {
    std::lock_guard lock(rmu);
    if (!deliver) return false;
    reports.push_back(ok ? "ok" : error);
    return true;
  };
  auto reported = [&] {
    std::lock_guard lock(rmu);
    return reports;
  };
  start();
  ASSERT_TRUE(eventually([&] { return reported().size() == 1; }, 3s));
  EXPECT_EQ(reported()[0], "ok");
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->refuse = true;
  }
  {
    std::lock_guard lock(rmu);
    deliver = false;  // the server is away at first: told once it answers
  }
  moveAddressTo(2);
  enforcer_->poke();
  ASSERT_TRUE(eventually(
      [&] { return metric("netledger_agent_enforce_applies_total{result=\"failed\"}") >= 1; }));
  std::this_thread::sleep_for(1200ms);
  {
    std::lock_guard lock(rmu);
    deliver = true;
  }
  ASSERT_TRUE(eventually([&] { return reported().size() == 2; }, 3s));
  EXPECT_EQ(reported()[1], "refused");
  enforcer_->poke();  // refused again: nothing new to tell
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(reported().size(), 2u);
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->refuse = false;
  }
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return reported().size() == 3; }, 3s));
  EXPECT_EQ(reported()[2], "ok");
  enforcer_->stop();
}

TEST_F(EnforcerLoopTest, ATableRemovedFromOutsideIsLoadedAgain) {
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->present = false;  // `nft flush ruleset`, an nftables reload
  }
  ASSERT_TRUE(eventually([&] { return loads() == 2; }, 3s));
  EXPECT_NE(lastLoaded().find(kPair1), std::string::npos);
  EXPECT_EQ(fetches(), 1);  // no need to ask the server
}

TEST_F(EnforcerLoopTest, AFailedReadIsRetriedWithinASecond) {
  fail_fetches_ = 2;
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }, 4s));
  EXPECT_EQ(fetches(), 3);
  EXPECT_EQ(metric("netledger_agent_enforce_fetch_failures_total"), 2);
}

TEST_F(EnforcerLoopTest, AMacHeardOnItsPortIsPlacedWithoutAskingTheServer) {
  {
    std::lock_guard lock(mu_);
    bindings_[0].port.clear();  // no label: its port must be learned
  }
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  EXPECT_EQ(lastLoaded().find(kPair1), std::string::npos);  // held: its port is unknown
  link_.deliver(wire::buildArpAnnouncement(mac("02:00:00:00:00:99"), ip("192.0.2.9").v4()), "tap1");
  link_.deliver(wire::buildArpAnnouncement(mac("02:00:00:00:00:01"), ip("192.0.2.1").v4()), "tap1");
  ASSERT_TRUE(eventually([&] { return lastLoaded().find(kPair1) != std::string::npos; }));
  EXPECT_EQ(fetches(), 1);
  EXPECT_EQ(lastLoaded().find("02:00:00:00:00:99"), std::string::npos);  // nobody waited for it
}

TEST_F(EnforcerLoopTest, DropCountsOnlyGrowAcrossReplacements) {
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->counts["mac_spoof"] = 5;
  }
  const std::string spoof = "netledger_agent_enforce_dropped_total{class=\"mac_spoof\"}";
  ASSERT_TRUE(eventually([&] { return metric(spoof) == 5; }, 3s));
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->counts["mac_spoof"] = 7;  // two more, not yet read when the table is replaced
  }
  moveAddressTo(2);
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return loads() == 2; }));
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->counts["mac_spoof"] = 1;  // the new table's first
  }
  ASSERT_TRUE(eventually([&] { return metric(spoof) == 8; }, 3s)) << metric(spoof);
}

TEST_F(EnforcerLoopTest, PortMapsAloneKeepOnlyTheForwardingTable) {
  config_.enforce = "off";
  std::vector<enforce::PortForward> forwards{{"tcp", std::nullopt, 8080, ip("192.0.2.1"), 80}};
  int forward_fetches = 0;
  std::mutex fmu;
  start_with_forwards = [&]() -> Result<std::vector<enforce::PortForward>> {
    std::lock_guard lock(fmu);
    ++forward_fetches;
    return forwards;
  };
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  const std::string first = lastLoaded();
  EXPECT_EQ(first.find("chain guard"), std::string::npos);  // no anti-spoofing table
  EXPECT_NE(first.find("tcp . 8080 : 192.0.2.1 . 80"), std::string::npos) << first;
  EXPECT_EQ(fetches(), 0);  // the bindings are not even read
  {
    std::lock_guard lock(fmu);
    forwards.clear();  // the mapping was deleted
  }
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return loads() == 2; }));
  EXPECT_EQ(lastLoaded().find("8080"), std::string::npos);
  EXPECT_EQ(metric("netledger_agent_port_forwards"), 0);
  enforcer_->stop();  // before the forwards it reads go out of scope
}

// A change reloads only its own table: a binding moving does not reload the forwards, a new
// mapping does not reset the guard's counters.
TEST_F(EnforcerLoopTest, OnlyTheTableThatChangedIsReplaced) {
  std::mutex fmu;
  std::vector<enforce::PortForward> forwards{{"tcp", std::nullopt, 8080, ip("192.0.2.1"), 80}};
  start_with_forwards = [&]() -> Result<std::vector<enforce::PortForward>> {
    std::lock_guard lock(fmu);
    return forwards;
  };
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  EXPECT_NE(lastLoaded().find("table bridge netledger {"), std::string::npos);
  EXPECT_NE(lastLoaded().find("table inet netledger {"), std::string::npos);
  moveAddressTo(2);
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return loads() == 2; }));
  EXPECT_NE(lastLoaded().find(kPair2), std::string::npos);
  EXPECT_EQ(lastLoaded().find("table inet netledger"), std::string::npos);
  {
    std::lock_guard lock(fmu);
    forwards.push_back({"udp", std::nullopt, 5353, ip("192.0.2.1"), 53});
  }
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return loads() == 3; }));
  EXPECT_NE(lastLoaded().find("udp . 5353"), std::string::npos);
  EXPECT_EQ(lastLoaded().find("table bridge netledger"), std::string::npos);
  enforcer_->stop();
}

TEST_F(EnforcerLoopTest, AForwardingTableRemovedFromOutsideIsLoadedAgain) {
  start_with_forwards = []() -> Result<std::vector<enforce::PortForward>> {
    return std::vector<enforce::PortForward>{{"tcp", std::nullopt, 8080, ip("192.0.2.1"), 80}};
  };
  start();
  ASSERT_TRUE(eventually([&] { return loads() == 1; }));
  {
    std::lock_guard lock(kernel_->mu);
    kernel_->forwards = false;  // `nft delete table inet netledger`
  }
  ASSERT_TRUE(eventually([&] { return loads() == 2; }, 3s));
  EXPECT_NE(lastLoaded().find("tcp . 8080"), std::string::npos);
}

// Port maps the server cannot answer (an older netledgerd: 404) do not hold back the
// anti-spoofing table, and the other way round.
TEST_F(EnforcerLoopTest, OneSourceFailingDoesNotHoldBackTheOther) {
  std::atomic<bool> maps_fail{true};
  start_with_forwards = [&]() -> Result<std::vector<enforce::PortForward>> {
    if (maps_fail) return Status::unavailable("GET /v1/portmaps: HTTP 404");
    return std::vector<enforce::PortForward>{{"tcp", std::nullopt, 8080, ip("192.0.2.1"), 80}};
  };
  start();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(loads(), 0u);  // no forwards ever read: nothing loaded that would drop them
  maps_fail = false;
  ASSERT_TRUE(eventually([&] { return loads() == 1; }, 3s));
  maps_fail = true;  // from now on the port maps fail; a binding change still goes through
  moveAddressTo(2);
  enforcer_->poke();
  ASSERT_TRUE(eventually([&] { return lastLoaded().find(kPair2) != std::string::npos; }, 3s));
  // The forwards in force stay as they were (not reloaded, not removed).
  EXPECT_EQ(lastLoaded().find("table inet netledger"), std::string::npos);
  {
    std::lock_guard lock(kernel_->mu);
    EXPECT_TRUE(kernel_->forwards);
  }
  enforcer_->stop();
}

}  // namespace
}  // namespace netledger::agent
