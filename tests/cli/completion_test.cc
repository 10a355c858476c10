// The generated completion scripts, run by the real shells: bash with COMP_WORDS as readline
// sets them, zsh with `words`/CURRENT as compsys sets them (compadd and _files stand in for
// compsys's own, printing what would be offered).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/cli.h"

namespace netledger::cli {
namespace {

std::string script(const std::string& shell) {
  std::ostringstream out, err;
  EXPECT_EQ(runCli({"completion", shell}, out, err), kExitOk) << err.str();
  const auto path = std::filesystem::temp_directory_path() /
                    ("netledger-completion-test." + std::to_string(::getpid()) + "." + shell);
  std::ofstream(path) << out.str();
  return path.string();
}

std::string shellOutput(const std::string& command) {
  std::string got;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) got.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << command << "\n" << got;
  return got;
}

// What bash offers after `words` (the last one is the word being completed).
std::string bashOffers(const std::string& file, const std::string& words, int cword) {
  return shellOutput("bash --norc -c 'source " + file + "; COMP_WORDS=(" + words +
                     "); COMP_CWORD=" + std::to_string(cword) +
                     "; _netledger; printf \"%s\\n\" \"${COMPREPLY[@]}\"' 2>&1");
}

std::string zshOffers(const std::string& file, const std::string& words, int current) {
  return shellOutput(
      "zsh -fc 'compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -rl -- \"$@\"; "
      "}; _files() { print FILES; }; source " +
      file + "; words=(" + words + "); CURRENT=" + std::to_string(current) + "; _netledger' 2>&1");
}

TEST(CompletionTest, BashOffersCommandsOptionsAndChoices) {
  const std::string f = script("bash");
  EXPECT_EQ(bashOffers(f, "netledger conf", 1), "conflicts\n");
  std::string all = bashOffers(f, "netledger \"\"", 1);
  for (const char* c : {"pool\n", "events\n", "webhook\n", "audit\n", "binding\n", "completion\n"})
    EXPECT_NE(all.find(c), std::string::npos) << c << " missing from\n" << all;
  EXPECT_EQ(bashOffers(f, "netledger webhook del", 2), "deliveries\ndelete\n");
  EXPECT_EQ(bashOffers(f, "netledger conflicts list --st", 3), "--status\n");
  EXPECT_EQ(bashOffers(f, "netledger conflicts list --status \"\"", 4),
            "open\nacknowledged\nresolved\n");
  EXPECT_EQ(bashOffers(f, "netledger -o \"\"", 2), "table\njson\nhtml\n");
  // Global options are offered under any command (they may come after it).
  EXPECT_NE(bashOffers(f, "netledger pool list --ser", 3).find("--server"), std::string::npos);
  std::filesystem::remove(f);
}

TEST(CompletionTest, ZshOffersTheSame) {
  const std::string f = script("zsh");
  // compsys filters by the typed prefix itself: the stand-in shows everything offered.
  const std::string all = zshOffers(f, "netledger \"\"", 2);
  for (const char* c : {"pool\n", "events\n", "webhook\n", "audit\n"})
    EXPECT_NE(all.find(c), std::string::npos) << c << " missing from\n" << all;
  EXPECT_EQ(zshOffers(f, "netledger webhook \"\"", 3), "create\nlist\nshow\ndeliveries\ndelete\n");
  EXPECT_EQ(zshOffers(f, "netledger conflicts list --status \"\"", 5),
            "open\nacknowledged\nresolved\n");
  EXPECT_EQ(zshOffers(f, "netledger observe \"\"", 3), "FILES\n");  // a file argument
  std::filesystem::remove(f);
}

}  // namespace
}  // namespace netledger::cli
