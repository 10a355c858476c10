#include "common/huge_pages.h"

#include <gtest/gtest.h>

namespace netledger {
namespace {

HugePageInputs madvise() {
  HugePageInputs in;
  in.thp_enabled = "always [madvise] never\n";
  return in;
}

TEST(HugePagesTest, ReexecutesWhenNothingSaysOtherwise) {
  EXPECT_EQ(hugePageSkipReason(madvise()), "");
  HugePageInputs in = madvise();
  in.opt_out = "1";
  in.tunables = "glibc.malloc.arena_max=2";
  in.thp_enabled = "[always] madvise never";
  EXPECT_EQ(hugePageSkipReason(in), "");
}

TEST(HugePagesTest, NeverTwice) {
  // The marker alone stops it: a secure-mode process whose libc dropped the tunable must not
  // execute itself again and again.
  HugePageInputs in = madvise();
  in.marker = "1";
  EXPECT_EQ(hugePageSkipReason(in), "re-executed already");
  in = madvise();
  const std::string tunables = withHugePageTunable(nullptr);
  in.tunables = tunables.c_str();
  EXPECT_NE(hugePageSkipReason(in), "");
}

TEST(HugePagesTest, SkipsWhenOptedOutSecureSetOrThpOff) {
  HugePageInputs in = madvise();
  in.opt_out = "0";
  EXPECT_EQ(hugePageSkipReason(in), "NETLEDGER_HUGE_PAGES=0");
  in = madvise();
  in.secure = true;
  EXPECT_NE(hugePageSkipReason(in).find("secure mode"), std::string::npos);
  in = madvise();
  in.tunables = "glibc.malloc.hugetlb=0";  // the operator's choice stands
  EXPECT_NE(hugePageSkipReason(in), "");
  in = madvise();
  in.thp_enabled = "always madvise [never]\n";
  EXPECT_EQ(hugePageSkipReason(in), "transparent huge pages are off");
  in.thp_enabled = "";
  EXPECT_EQ(hugePageSkipReason(in), "transparent huge pages are off");
}

TEST(HugePagesTest, KeepsTheOperatorsTunables) {
  EXPECT_EQ(withHugePageTunable(nullptr), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(withHugePageTunable(""), "glibc.malloc.hugetlb=1");
  EXPECT_EQ(withHugePageTunable("glibc.malloc.arena_max=2"),
            "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
}

}  // namespace
}  // namespace netledger
