#pragma once
// The `netledger` command line, as a library so tests can run it in-process.
//
// Exit codes (documented in README): 0 success, 1 the operation failed (server error, not
// found), 2 bad usage or bad input.

#include <ostream>
#include <string>
#include <vector>

namespace netledger::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Runs `netledger args...` (args excludes the program name), printing to `out` and `err`.
int runCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace netledger::cli
