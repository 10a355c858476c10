#pragma once
// Large heaps on transparent huge pages.
//
// netledgerd keeps a million bindings in a few hundred MB of chunks and hash tables that are
// touched in random order: on 4 KiB pages, start-up spends a third of its time in page faults
// and TLB misses (measured in docs/PERFORMANCE.md). glibc backs its large allocations with huge
// pages only when asked at process start (the tunable glibc.malloc.hugetlb=1, read before main),
// so a process that wants them re-executes itself once with the tunable set.

#include <string>

namespace netledger {

// What the decision reads, passed in so the rule can be tested.
struct HugePageInputs {
  const char* opt_out = nullptr;   // NETLEDGER_HUGE_PAGES ("0" turns this off)
  const char* tunables = nullptr;  // GLIBC_TUNABLES
  const char* marker = nullptr;    // kHugePageMarker: set by the exec that made this process
  std::string thp_enabled;         // /sys/kernel/mm/transparent_hugepage/enabled
  bool secure = false;             // AT_SECURE (setuid, file capabilities): glibc drops the tunable
};

// The variable the re-exec sets, so that a process never re-executes twice whatever libc made
// of GLIBC_TUNABLES (a secure-mode process loses it, and would otherwise loop).
inline constexpr const char* kHugePageMarker = "NETLEDGER_HUGE_PAGES_REEXECUTED";

// Why the process would not re-execute, or "" when it would.
std::string hugePageSkipReason(const HugePageInputs& in);

// GLIBC_TUNABLES with the huge page tunable added to what the operator already set.
std::string withHugePageTunable(const char* tunables);

// Re-executes this program (same argv, same PID, by the path /proc/self/exe resolves to, so the
// process keeps its name) with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, unless
// hugePageSkipReason says not to or the process is not on glibc. Returns only when it did not
// re-execute (or execv failed): the process then goes on as it was, with its environment as it
// found it. Call it first thing in main, before any thread exists.
void reexecWithHugePageMalloc(char** argv);

}  // namespace netledger
