#pragma once
// FUZZ_CHECK: the fuzz targets' assertion. Aborts (so libFuzzer saves the reproducer) when an
// invariant fails, in every build type: NDEBUG must not turn the checks off.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
