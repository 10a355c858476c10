#include "agent/config.h"

#include <fstream>

#include <gtest/gtest.h>

namespace netledger::agent {
namespace {

AgentConfig valid() {
  AgentConfig c;
  c.node = "node-1";
  c.token = "t";
  c.interfaces = {"br0"};
  return c;
}

TEST(AgentConfigTest, DefaultsAreRfcTimings) {
  AgentConfig c = valid();
  ASSERT_TRUE(finishConfig(c).isOk());
  EXPECT_EQ(c.probe.probe_num, 3);
  EXPECT_EQ(c.probe.probe_wait, Millis(1000));
  EXPECT_EQ(c.probe.probe_min, Millis(1000));
  EXPECT_EQ(c.probe.probe_max, Millis(2000));
  EXPECT_EQ(c.probe.announce_wait, Millis(2000));
  c.probe_mode = "fast";
  ASSERT_TRUE(finishConfig(c).isOk());
  EXPECT_LT(c.probe.announce_wait, Millis(1000));
}

TEST(AgentConfigTest, BadValuesNameTheField) {
  struct Case {
    std::function<void(AgentConfig&)> edit;
    const char* field;
  } cases[] = {
      {[](AgentConfig& c) { c.interfaces.clear(); }, "interface"},
      {[](AgentConfig& c) { c.interfaces = {"a/b"}; }, "interface"},
      {[](AgentConfig& c) { c.interfaces = {"sixteen-chars-xx"}; }, "interface"},
      {[](AgentConfig& c) { c.token.clear(); }, "token"},
      {[](AgentConfig& c) { c.batch_max = 0; }, "batch_max"},
      {[](AgentConfig& c) { c.queue_max = 1; }, "queue_max"},
      {[](AgentConfig& c) { c.probe_mode = "slow"; }, "probe_mode"},
      {[](AgentConfig& c) { c.probe_workers = 0; }, "probe_workers"},
      {[](AgentConfig& c) { c.heartbeat_interval = Millis(1); }, "heartbeat_interval_ms"},
      {[](AgentConfig& c) { c.announce_count = -1; }, "announce_count"},
  };
  for (const auto& k : cases) {
    AgentConfig c = valid();
    k.edit(c);
    Status s = finishConfig(c);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << k.field;
    EXPECT_NE(s.message().find(k.field), std::string::npos) << s.message();
  }
}

TEST(AgentConfigTest, YamlFile) {
  std::string path = ::testing::TempDir() + "/agent.yaml";
  std::ofstream(path) << "server: http://127.0.0.1:9\n"
                         "token: abc\n"
                         "node: n1\n"
                         "interfaces: [br0, eth1]\n"
                         "network: lab\n"
                         "heartbeat_interval_ms: 500\n"
                         "probe:\n  probe_num: 2\n  announce_wait_ms: 100\n";
  AgentConfig c;
  ASSERT_TRUE(loadConfigFile(path, c).isOk());
  ASSERT_TRUE(finishConfig(c).isOk());
  EXPECT_EQ(c.server, "http://127.0.0.1:9");
  EXPECT_EQ(c.interfaces.size(), 2u);
  EXPECT_EQ(c.heartbeat_interval, Millis(500));
  EXPECT_EQ(c.probe.probe_num, 2);  // explicit timings survive finishConfig
  EXPECT_EQ(c.probe.announce_wait, Millis(100));

  std::ofstream(path) << "node: n1\nbogus: 1\n";
  AgentConfig d;
  Status s = loadConfigFile(path, d);
  EXPECT_NE(s.message().find("bogus"), std::string::npos);
  std::ofstream(path) << "heartbeat_interval_ms: soon\n";
  s = loadConfigFile(path, d);
  EXPECT_NE(s.message().find("heartbeat_interval_ms"), std::string::npos);
}

}  // namespace
}  // namespace netledger::agent
