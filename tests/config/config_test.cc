// Config files and flags, as netledgerd and the agent read them: typed getters that leave absent
// keys alone, errors naming the file and the key, unknown keys refused, flags over the file.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "config/flag_overrides.h"
#include "config/yaml_file.h"

namespace netledger::config {
namespace {

Section parsed(const char* text) {
  auto s = Section::parse("test.yaml", text);
  EXPECT_TRUE(s.isOk()) << s.status().toString();
  return s.isOk() ? *s : *Section::parse("test.yaml", "");
}

TEST(SectionTest, ReadsEveryTypeAndLeavesAbsentKeysAlone) {
  Section f = parsed(
      "listen: 127.0.0.1:9\nthreads: 4\nbig: 18446744073709551615\ninsecure: true\n"
      "interfaces: [br0, eth1]\nwait_ms: 250\nempty:\nengine: {flap_changes: 5}\n"
      "policies: {duplicate_ip: alert, mac_drift: none}\n");
  std::string listen, untouched = "kept";
  int threads = 0;
  std::uint64_t big = 0;
  bool insecure = false;
  std::vector<std::string> interfaces;
  std::chrono::milliseconds wait{0};
  std::vector<std::pair<std::string, std::string>> policies;
  int empty = 7;
  ASSERT_TRUE(firstError({f.get("listen", listen), f.get("threads", threads), f.get("big", big),
                          f.get("insecure", insecure), f.get("interfaces", interfaces),
                          f.get("wait_ms", wait), f.get("policies", policies),
                          f.get("empty", empty), f.get("absent", untouched)})
                  .isOk());
  EXPECT_EQ(listen, "127.0.0.1:9");
  EXPECT_EQ(threads, 4);
  EXPECT_EQ(big, UINT64_MAX);
  EXPECT_TRUE(insecure);
  EXPECT_EQ(interfaces, (std::vector<std::string>{"br0", "eth1"}));
  EXPECT_EQ(wait, std::chrono::milliseconds(250));
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[1], (std::pair<std::string, std::string>{"mac_drift", "none"}));
  EXPECT_EQ(empty, 7) << "a null value is no value";
  EXPECT_EQ(untouched, "kept");
  auto engine = f.section("engine");
  ASSERT_TRUE(engine.isOk());
  int flap = 0;
  ASSERT_TRUE(engine->get("flap_changes", flap).isOk());
  EXPECT_EQ(flap, 5);
  EXPECT_TRUE(f.refuseUnknown().isOk());
}

TEST(SectionTest, ErrorsNameTheFileAndTheKey) {
  Section f = parsed("threads: many\nport: 70000\nflag: maybe\nlist: x\nengine: {window_s: -1}\n");
  int threads = 0;
  std::uint16_t port = 0;
  bool flag = false;
  std::vector<std::string> list;
  EXPECT_EQ(f.get("threads", threads).message(),
            "config test.yaml: threads: \"many\" is not an integer");
  EXPECT_EQ(f.get("port", port).message(), "config test.yaml: port: \"70000\" is outside 0..65535");
  EXPECT_EQ(f.get("flag", flag).message(), "config test.yaml: flag: must be true or false");
  EXPECT_EQ(f.get("list", list).message(), "config test.yaml: list: must be a list of strings");
  auto engine = f.section("engine");
  ASSERT_TRUE(engine.isOk());
  unsigned window = 0;
  EXPECT_EQ(engine->get("window_s", window).message(),
            "config test.yaml: engine.window_s: \"-1\" is not an integer");
  EXPECT_EQ(engine->error("window_s", "too short").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.section("threads").status().message(),
            "config test.yaml: threads: must be a mapping");
}

TEST(SectionTest, UnknownKeysAreRefusedAtEveryLevel) {
  Section f = parsed("listen: x\nlistne: y\n");
  std::string listen;
  ASSERT_TRUE(f.get("listen", listen).isOk());
  EXPECT_EQ(f.refuseUnknown().message(), "config test.yaml: listne: unknown key");

  Section g = parsed("engine: {flap_changes: 1, flap_chnages: 2}\nprobe:\n");
  auto engine = g.section("engine");
  ASSERT_TRUE(engine.isOk());
  int flap = 0;
  ASSERT_TRUE(engine->get("flap_changes", flap).isOk());
  EXPECT_FALSE(g.has("probe")) << "null is no value";
  EXPECT_EQ(g.refuseUnknown().message(), "config test.yaml: engine.flap_chnages: unknown key");
}

TEST(SectionTest, FilesThatAreNotMappingsAreRefused) {
  EXPECT_EQ(Section::parse("a.yaml", "- 1\n- 2\n").status().message(),
            "config a.yaml: must be a mapping");
  EXPECT_FALSE(Section::parse("a.yaml", "key: [unclosed\n").isOk());
  EXPECT_TRUE(Section::parse("a.yaml", "").isOk()) << "an empty file is an empty mapping";
  auto missing = Section::load("/nonexistent/netledger.yaml");
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().message().rfind("config /nonexistent/netledger.yaml: ", 0), 0u);

  std::string path = ::testing::TempDir() + "/config_test.yaml";
  std::ofstream(path) << "listen: 127.0.0.1:1\n";
  auto file = Section::load(path);
  ASSERT_TRUE(file.isOk()) << file.status().toString();
  std::string listen;
  ASSERT_TRUE(file->get("listen", listen).isOk());
  EXPECT_EQ(listen, "127.0.0.1:1");
}

struct Settings {
  std::string listen = "default:1";
  std::string store;
  std::size_t threads = 2;
  std::chrono::milliseconds heartbeat{30'000};
  bool insecure = false;
};

// Parses `args`, then "reads a file" (`from_file`), then applies the flags, as the programs do.
Settings run(std::vector<std::string> args, const Settings& from_file) {
  Settings s;
  CLI::App app;
  FlagOverrides flags(app);
  flags.add("--listen", s.listen, "");
  flags.add("--store", s.store, "");
  flags.add("--threads", s.threads, "");
  flags.add("--heartbeat-ms", s.heartbeat, "");
  flags.addFlag("--insecure", s.insecure, "");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  s = from_file;
  flags.apply();
  return s;
}

TEST(FlagOverridesTest, GivenFlagsWinOverTheFileOthersLeaveIt) {
  Settings file;
  file.listen = "file:2";
  file.store = "sqlite:file.db";
  file.threads = 8;
  file.heartbeat = std::chrono::milliseconds(500);
  Settings none = run({}, file);
  EXPECT_EQ(none.listen, "file:2");
  EXPECT_EQ(none.threads, 8u);
  EXPECT_FALSE(none.insecure);

  // A flag given with the default's value still wins (it was given).
  Settings some = run({"--listen", "default:1", "--threads", "3", "--heartbeat-ms", "100",
                       "--insecure", "--store", ""},
                      file);
  EXPECT_EQ(some.listen, "default:1");
  EXPECT_EQ(some.threads, 3u);
  EXPECT_EQ(some.heartbeat, std::chrono::milliseconds(100));
  EXPECT_TRUE(some.insecure);
  EXPECT_EQ(some.store, "");
}

}  // namespace
}  // namespace netledger::config
