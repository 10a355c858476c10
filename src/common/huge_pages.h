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

// Why the process would not re-execute, or "" when it would. Inputs are passed in so the rule
// can be tested: `opt_out` is NETLEDGER_HUGE_PAGES ("0" turns this off), `tunables` is
// GLIBC_TUNABLES, `thp_enabled` the contents of /sys/kernel/mm/transparent_hugepage/enabled.
std::string hugePageSkipReason(const char* opt_out, const char* tunables,
                               const std::string& thp_enabled);

// GLIBC_TUNABLES with the huge page tunable added to what the operator already set.
std::string withHugePageTunable(const char* tunables);

// Re-executes this program (same argv, same PID) with glibc.malloc.hugetlb=1 added to
// GLIBC_TUNABLES, unless hugePageSkipReason says not to or the process is not on glibc. Returns
// only when it did not re-execute (or execv failed): the process then goes on as it was. Call it
// first thing in main, before any thread exists.
void reexecWithHugePageMalloc(char** argv);

}  // namespace netledger
