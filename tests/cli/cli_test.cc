// runCli itself: help names the program; a command line without a command is a usage error.
#include "cli/cli.h"

#include <gtest/gtest.h>

#include "cli/cli_run.h"

namespace netledger::cli {
namespace {

TEST(CliTest, HelpUsageLineNamesTheProgram) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("Usage: netledger [OPTIONS] SUBCOMMAND"), std::string::npos) << r.out;
}

TEST(CliTest, NoCommandIsAUsageError) {
  CliRun r = run({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("A subcommand is required"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace netledger::cli
