#include "agent/jobs.h"

#include <gtest/gtest.h>

namespace netledger::agent {
namespace {

std::string binding(const std::string& state, const std::string& host,
                    const std::string& addresses = R"(["192.0.2.10","2001:db8::10"])") {
  return R"({"seq":5,"op":"x","after":{"id":"12","mac":"02:00:00:00:00:01","state":")" + state +
         R"(","host":")" + host + R"(","addresses":)" + addresses + "}}";
}

TEST(JobsTest, ReservedBindingOnThisNodeIsProbed) {
  for (const char* op : {"binding.allocate", "binding.reassign"}) {
    auto job = jobForEvent(op, binding("reserved", "node-1"), "node-1");
    ASSERT_TRUE(job) << op;
    const auto* p = std::get_if<ProbeJob>(&*job);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->binding_id, 12u);
    ASSERT_EQ(p->addresses.size(), 2u);
    EXPECT_EQ(p->addresses[1].toString(), "2001:db8::10");
  }
}

TEST(JobsTest, NearMissesAreIgnored) {
  EXPECT_FALSE(jobForEvent("binding.allocate", binding("active", "node-1"), "node-1"));
  EXPECT_FALSE(jobForEvent("binding.allocate", binding("reserved", "node-2"), "node-1"));
  EXPECT_FALSE(jobForEvent("binding.renew", binding("reserved", "node-1"), "node-1"));
  EXPECT_FALSE(jobForEvent("binding.allocate", binding("reserved", "node-1", "[]"), "node-1"));
  EXPECT_FALSE(
      jobForEvent("binding.allocate", binding("reserved", "node-1", R"(["x"])"), "node-1"));
  EXPECT_FALSE(jobForEvent("binding.allocate", "{", "node-1"));
  EXPECT_FALSE(jobForEvent("binding.allocate", R"({"after":null})", "node-1"));
}

TEST(JobsTest, MigrationOrMoveToThisNodeIsAnnounced) {
  for (const char* op : {"binding.migrate", "address.move"}) {
    auto job = jobForEvent(op, binding("active", "node-1"), "node-1");
    ASSERT_TRUE(job) << op;
    const auto* a = std::get_if<AnnounceJob>(&*job);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->mac.toString(), "02:00:00:00:00:01");
    EXPECT_EQ(a->addresses.size(), 2u);
  }
  EXPECT_FALSE(jobForEvent("binding.migrate", binding("active", "node-2"), "node-1"));
}

TEST(JobsTest, ScanViaThisNode) {
  std::string ev =
      R"({"after":{"id":"scan-1","via":"node-1","rate_per_s":500,"addresses":[{"start":"192.0.2.10","end":"192.0.2.20"},{"start":"2001:db8::1","end":"2001:db8::2"}]}})";
  auto job = jobForEvent("scan.requested", ev, "node-1");
  ASSERT_TRUE(job);
  const auto& s = std::get<ScanJob>(*job);
  EXPECT_EQ(s.id, "scan-1");
  EXPECT_EQ(s.rate_per_s, 500);
  EXPECT_EQ(s.size, 13u);
  EXPECT_FALSE(jobForEvent("scan.requested", ev, "node-2"));
}

TEST(JobsTest, OversizedOrBackwardsScansAreRefused) {
  auto scan = [](const std::string& start, const std::string& end) {
    return R"({"after":{"id":"s","via":"n","addresses":[{"start":")" + start + R"(","end":")" +
           end + R"("}]}})";
  };
  EXPECT_FALSE(jobForEvent("scan.requested", scan("10.0.0.0", "10.1.0.0"), "n"));  // 65,537
  EXPECT_TRUE(jobForEvent("scan.requested", scan("10.0.0.0", "10.0.255.255"), "n"));
  EXPECT_FALSE(jobForEvent("scan.requested", scan("10.0.0.9", "10.0.0.1"), "n"));
  EXPECT_FALSE(jobForEvent("scan.requested", scan("2001:db8::", "2001:db9::"), "n"));
  EXPECT_FALSE(jobForEvent("scan.requested", scan("10.0.0.1", "2001:db8::"), "n"));
}

}  // namespace
}  // namespace netledger::agent
