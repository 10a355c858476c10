// Pinned neighbours on a real kernel, in a network namespace of this process's own (unshare):
// a bridge, our entries synced to what the ledger says, an operator's own entry left alone.
// Needs root; ctest runs each test in its own process.
#include "enforce/neighbours.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "addr/addr_test_util.h"

namespace netledger::enforce {
namespace {

using addr::testing_util::ip;
using addr::testing_util::mac;

std::string shellOut(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 512> buf;
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (p) pclose(p);
  return out;
}

class NeighbourPinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (a private network namespace)";
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    ASSERT_EQ(std::system("ip link add br0 type bridge && ip link set br0 up"), 0);
    auto pins = NeighbourPins::open();
    ASSERT_TRUE(pins.isOk()) << pins.status().message();
    pins_ = std::move(*pins);
  }
  std::string table() { return shellOut("ip neigh show dev br0 nud permanent"); }
  std::unique_ptr<NeighbourPins> pins_;
};

const PinnedNeighbour kV4{ip("192.0.2.11"), mac("02:00:00:00:00:11")};
const PinnedNeighbour kV6{ip("2001:db8::11"), mac("02:00:00:00:00:11")};

TEST_F(NeighbourPinsTest, PinsExactlyTheLedgersPairsAndLeavesOthersAlone) {
  ASSERT_EQ(std::system("ip neigh add 192.0.2.99 lladdr 02:00:00:00:00:99 dev br0 nud permanent"),
            0);
  ASSERT_TRUE(pins_->sync("br0", {kV4, kV6}).isOk());
  EXPECT_NE(table().find("192.0.2.11 lladdr 02:00:00:00:00:11 PERMANENT"), std::string::npos)
      << table();
  EXPECT_NE(table().find("2001:db8::11 lladdr 02:00:00:00:00:11 PERMANENT"), std::string::npos);
  auto ours = pins_->pinned("br0");
  ASSERT_TRUE(ours.isOk());
  EXPECT_EQ(ours->size(), 2u);  // the operator's entry is not ours

  ASSERT_TRUE(pins_->sync("br0", {kV4}).isOk());
  EXPECT_EQ(table().find("2001:db8::11"), std::string::npos) << table();
  EXPECT_NE(table().find("192.0.2.99 lladdr 02:00:00:00:00:99"), std::string::npos);

  ASSERT_TRUE(pins_->sync("br0", {}).isOk());
  EXPECT_EQ(table().find("192.0.2.11"), std::string::npos) << table();
  EXPECT_NE(table().find("192.0.2.99 lladdr 02:00:00:00:00:99"), std::string::npos);
}

TEST_F(NeighbourPinsTest, AMoveReplacesTheMacAndALearnedEntryIsOverridden) {
  ASSERT_EQ(std::system("ip neigh add 192.0.2.11 lladdr 02:00:00:00:00:66 dev br0 nud reachable"),
            0);
  ASSERT_TRUE(pins_->sync("br0", {kV4}).isOk());
  EXPECT_NE(table().find("192.0.2.11 lladdr 02:00:00:00:00:11 PERMANENT"), std::string::npos)
      << table();
  PinnedNeighbour moved{kV4.ip, mac("02:00:00:00:00:22")};
  ASSERT_TRUE(pins_->sync("br0", {moved}).isOk());
  EXPECT_NE(table().find("192.0.2.11 lladdr 02:00:00:00:00:22 PERMANENT"), std::string::npos)
      << table();
  auto ours = pins_->pinned("br0");
  ASSERT_TRUE(ours.isOk());
  EXPECT_EQ(*ours, std::vector<PinnedNeighbour>{moved});
}

TEST_F(NeighbourPinsTest, AnOperatorsOwnPinForTheAddressWins) {
  ASSERT_EQ(std::system("ip neigh add 192.0.2.11 lladdr 02:00:00:00:00:99 dev br0 nud permanent"),
            0);
  ASSERT_TRUE(pins_->sync("br0", {kV4, kV6}).isOk());
  EXPECT_NE(table().find("192.0.2.11 lladdr 02:00:00:00:00:99 PERMANENT"), std::string::npos)
      << table();
  EXPECT_EQ(pins_->pinned("br0").value(), std::vector<PinnedNeighbour>{kV6});
  ASSERT_TRUE(pins_->sync("br0", {}).isOk());  // removing ours leaves the operator's
  EXPECT_NE(table().find("192.0.2.11 lladdr 02:00:00:00:00:99 PERMANENT"), std::string::npos)
      << table();
}

TEST_F(NeighbourPinsTest, AnUnknownDeviceIsNotFound) {
  EXPECT_EQ(pins_->sync("nope0", {kV4}).code(), StatusCode::kNotFound);
  EXPECT_EQ(pins_->pinned("nope0").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace netledger::enforce
