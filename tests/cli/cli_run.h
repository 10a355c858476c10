#pragma once
// Runs `netledger args...` in-process and captures what a user would see.

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli.h"

namespace netledger::cli {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

inline CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = runCli(args, out, err);
  return {code, out.str(), err.str()};
}

// Runs against `server` (anything with url(), a fake or a real one) with a token, so no
// environment is involved.
template <class Server>
CliRun runAt(const Server& server, std::vector<std::string> args) {
  args.insert(args.end(), {"--server", server.url(), "--token", "tok"});
  return run(std::move(args));
}

}  // namespace netledger::cli
