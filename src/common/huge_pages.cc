#include "common/huge_pages.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <unistd.h>

namespace netledger {

namespace {
constexpr const char* kTunable = "glibc.malloc.hugetlb=1";
}  // namespace

std::string hugePageSkipReason(const char* opt_out, const char* tunables,
                               const std::string& thp_enabled) {
  if (opt_out != nullptr && std::strcmp(opt_out, "0") == 0) return "NETLEDGER_HUGE_PAGES=0";
  // Set already: by the re-executed process itself, or by the operator (who may have chosen 0).
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr) {
    return "GLIBC_TUNABLES sets glibc.malloc.hugetlb";
  }
  // "always [madvise] never": glibc's madvise only helps when the bracket is on always/madvise.
  if (thp_enabled.find("[always]") == std::string::npos &&
      thp_enabled.find("[madvise]") == std::string::npos) {
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
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string thp((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (!hugePageSkipReason(std::getenv("NETLEDGER_HUGE_PAGES"), tunables, thp).empty()) return;
  if (::setenv("GLIBC_TUNABLES", withHugePageTunable(tunables).c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // No /proc, or exec refused: carry on with ordinary pages (the variable stays set, so a child
  // does not try again either).
#else
  (void)argv;
#endif
}

}  // namespace netledger
