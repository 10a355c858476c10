#include "common/huge_pages.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <limits.h>
#include <sys/auxv.h>
#include <unistd.h>

namespace netledger {

namespace {
constexpr const char* kTunable = "glibc.malloc.hugetlb=1";
}  // namespace

std::string hugePageSkipReason(const HugePageInputs& in) {
  if (in.marker != nullptr) return "re-executed already";
  if (in.opt_out != nullptr && std::strcmp(in.opt_out, "0") == 0) return "NETLEDGER_HUGE_PAGES=0";
  if (in.secure) return "secure mode (setuid or file capabilities): glibc ignores the tunable";
  // Set already, by the operator (who may have chosen 0).
  if (in.tunables != nullptr && std::strstr(in.tunables, "glibc.malloc.hugetlb") != nullptr) {
    return "GLIBC_TUNABLES sets glibc.malloc.hugetlb";
  }
  // "always [madvise] never": glibc's madvise only helps when the bracket is on always/madvise.
  if (in.thp_enabled.find("[always]") == std::string::npos &&
      in.thp_enabled.find("[madvise]") == std::string::npos) {
    return "transparent huge pages are off";
  }
  return "";
}

std::string withHugePageTunable(const char* tunables) {
  if (tunables == nullptr || *tunables == '\0') return kTunable;
  return std::string(tunables) + ":" + kTunable;
}

void reexecWithHugePageMalloc(char** argv) {
#ifdef __GLIBC__
  HugePageInputs in;
  in.opt_out = std::getenv("NETLEDGER_HUGE_PAGES");
  in.tunables = std::getenv("GLIBC_TUNABLES");
  in.marker = std::getenv(kHugePageMarker);
  in.secure = ::getauxval(AT_SECURE) != 0;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  in.thp_enabled.assign(std::istreambuf_iterator<char>(thp), std::istreambuf_iterator<char>());
  if (in.marker != nullptr) ::unsetenv(kHugePageMarker);  // children start afresh
  if (!hugePageSkipReason(in).empty()) return;
  // The real path, not /proc/self/exe: the kernel names a process after the file it execs.
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return;
  self[n] = '\0';
  const std::string saved = in.tunables != nullptr ? in.tunables : "";
  if (::setenv("GLIBC_TUNABLES", withHugePageTunable(in.tunables).c_str(), 1) != 0) return;
  if (::setenv(kHugePageMarker, "1", 1) == 0) ::execv(self, argv);
  // Exec refused: carry on with ordinary pages and the environment as it was.
  ::unsetenv(kHugePageMarker);
  if (in.tunables != nullptr) {
    ::setenv("GLIBC_TUNABLES", saved.c_str(), 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
#else
  (void)argv;
#endif
}

}  // namespace netledger
