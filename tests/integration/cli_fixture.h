#pragma once
// A daemon per test and `netledger` run in-process against it (cli::runCli): what the CLI
// integration tests share.

#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "cli/cli.h"
#include "integration/harness.h"

namespace netledger::it {

class CliTest : public ServerTest {
 protected:
  // Starts the daemon with this YAML config (call before CliTest::SetUp).
  void configure(const std::string& yaml) {
    const std::string config = server_.root() + "/netledgerd.yaml";
    std::ofstream(config) << yaml;
    server_.setExtraArgs({"--config", config});
  }
  // An agent's report: `mac` answered ARP for `ip` on `host`'s tap0.
  void observe(const std::string& ip, const std::string& mac, const std::string& host = "hv1") {
    mustPost("/v1/observations",
             obj({{"observations", json::array{obj({{"ip", ip},
                                                    {"mac", mac},
                                                    {"kind", "reply"},
                                                    {"host", host},
                                                    {"interface", "tap0"}})}}}),
             202);
  }
  // Runs `netledger args... --server <this daemon> --token <admin>`: exit code, stdout, stderr.
  std::tuple<int, std::string, std::string> cli(std::vector<std::string> args) {
    return cliAs(server_.adminToken(), std::move(args));
  }
  std::tuple<int, std::string, std::string> cliAs(const std::string& token,
                                                  std::vector<std::string> args) {
    args.insert(args.end(), {"--server", "http://127.0.0.1:" + std::to_string(server_.port()),
                             "--token", token});
    std::ostringstream out, err;
    const int code = cli::runCli(args, out, err);
    return {code, out.str(), err.str()};
  }
};

}  // namespace netledger::it
