// netledger: the command-line client and offline address tools.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return netledger::cli::runCli(args, std::cout, std::cerr);
}
