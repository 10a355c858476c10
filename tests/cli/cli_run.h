#pragma once
// Runs `netledger args...` in-process and captures what a user would see.

#include <sstream>
#include <string>
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

}  // namespace netledger::cli
