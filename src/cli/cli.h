#pragma once
// The `netledger` command line, as a library so tests can run it in-process.
//
// Exit codes (also in README), the same for every command:
//
//   0  success.
//   1  the operation failed at the server or could not reach it: not found (404), conflict or
//      pool exhausted (409), unauthorized (401), forbidden (403), server errors (5xx),
//      connection refused, DNS or TLS failure, timeout; `import` when any pool failed.
//      `check`: also when it found something (fixed or not), as `calicoctl ipam check` and
//      `diff` do; the report is printed as usual.
//   2  bad usage or bad input: unknown command or option, a missing or malformed argument
//      (checked locally before any request), a file that cannot be read or parsed, and input
//      the server rejected as invalid_argument (400) or payload_too_large (413).
//
// Errors are one line on stderr: "netledger: <detail> (<code>)", where <code> is the server's
// problem code (invalid_argument, not_found, conflict, ...) or, for failures that never
// reached the server, unavailable / invalid_argument.

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
