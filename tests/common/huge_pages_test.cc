#include "common/huge_pages.h"

#include <gtest/gtest.h>

namespace netledger {
namespace {

const std::string kMadvise = "always [madvise] never\n";

TEST(HugePagesTest, ReexecutesWhenNothingSaysOtherwise) {
  EXPECT_EQ(hugePageSkipReason(nullptr, nullptr, kMadvise), "");
  EXPECT_EQ(hugePageSkipReason("1", "glibc.malloc.arena_max=2", "[always] madvise never"), "");
}

TEST(HugePagesTest, SkipsWhenOptedOutAlreadySetOrThpOff) {
  EXPECT_EQ(hugePageSkipReason("0", nullptr, kMadvise), "NETLEDGER_HUGE_PAGES=0");
  // The re-executed process sees its own tunable and must not loop.
  EXPECT_NE(hugePageSkipReason(nullptr, withHugePageTunable(nullptr).c_str(), kMadvise), "");
  EXPECT_NE(hugePageSkipReason(nullptr, "glibc.malloc.hugetlb=0", kMadvise), "");
  EXPECT_EQ(hugePageSkipReason(nullptr, nullptr, "always madvise [never]\n"),
            "transparent huge pages are off");
  EXPECT_EQ(hugePageSkipReason(nullptr, nullptr, ""), "transparent huge pages are off");
}

TEST(HugePagesTest, KeepsTheOperatorsTunables) {
  EXPECT_EQ(withHugePageTunable(nullptr), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(withHugePageTunable(""), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(withHugePageTunable("glibc.malloc.arena_max=2"),
            "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
}

}  // namespace
}  // namespace netledger
