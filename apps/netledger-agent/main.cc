// netledger-agent: the node agent (see src/agent/agent.h). Runs as a systemd unit with only
// CAP_NET_RAW and CAP_NET_ADMIN (docs/deploy/netledger-agent.service).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "agent/agent.h"
#include "agent/config.h"
#include "config/flag_overrides.h"

int main(int argc, char** argv) {
  namespace agent = netledger::agent;
  agent::AgentConfig config;
  std::string config_file, token_file, port_file, log_level = "info";
  CLI::App app{
      "netledger-agent: ARP/NDP snooping, probe before use, announcements, heartbeats "
      "and scans for one node"};
  app.add_option("--config", config_file, "YAML config file (command-line flags win)");
  netledger::config::FlagOverrides flags(app);
  flags.add("--server", config.server, "netledgerd URL")->capture_default_str();
  flags.add("--token", config.token, "API token (operator role); or NETLEDGER_TOKEN");
  app.add_option("--token-file", token_file, "file holding the API token");
  flags.add("--node", config.node, "this node's name (default: the host name)");
  flags.add("--interface", config.interfaces, "bridge or interface to watch (repeatable)");
  flags.add("--network", config.network, "ledger network of these interfaces");
  flags.add("--probe-mode", config.probe_mode,
            "rfc (RFC 5227 timings) or fast (milliseconds: tests, one bridge)");
  flags.add("--heartbeat-interval-ms", config.heartbeat_interval,
            "bulk renew of this node's bindings every N ms");
  flags.add("--listen", config.listen, "HOST:PORT for /metrics and /healthz (\"\" disables)");
  flags.add("--announce-count", config.announce_count, "gratuitous ARP / NA rounds after a move");
  flags.add("--announce-interval-ms", config.announce_interval, "time between announcement rounds");
  flags.addFlag("--insecure", config.insecure, "https: skip certificate verification");
  flags
      .add("--enforce", config.enforce,
           "anti-spoofing on bridge ports: off, monitor (count only) or enforce")
      ->capture_default_str();
  flags.add("--trusted-port", config.trusted_ports,
            "bridge port not guarded: uplink, router, DHCP server (repeatable)");
  flags.add("--enforce-on-stop", config.enforce_on_stop, "keep or remove the table on exit")
      ->capture_default_str();
  flags.addFlag("--pin-neighbours", config.pin_neighbours,
                "permanent ARP/NDP entries on the bridge for the bound pairs");
  flags
      .add("--enforce-log-group", config.enforce_log_group,
           "NFLOG group for dropped spoofs, reported as observations (0: off)")
      ->capture_default_str();
  flags.addFlag("--port-maps", config.port_maps,
                "forward this node's host-port mappings (/v1/portmaps): DNAT and masquerade");
  app.add_option("--port-file", port_file, "write the metrics port here once serving (tests)");
  app.add_option("--log-level", log_level, "debug, info, warn, error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!config_file.empty()) {
    if (auto s = agent::loadConfigFile(config_file, config); !s.isOk()) {
      std::cerr << "netledger-agent: " << s.message() << "\n";
      return 2;
    }
  }
  flags.apply();  // flags given on the command line win over the file
  if (config.token.empty() && !token_file.empty()) {
    std::ifstream in(token_file);
    std::getline(in, config.token);
    if (config.token.empty()) {
      std::cerr << "netledger-agent: --token-file " << token_file << ": empty or unreadable\n";
      return 2;
    }
  }
  if (config.token.empty()) {
    if (const char* t = std::getenv("NETLEDGER_TOKEN"); t != nullptr) config.token = t;
  }
  if (auto s = agent::finishConfig(config); !s.isOk()) {
    std::cerr << "netledger-agent: " << s.message() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  agent::Agent a(config);
  if (auto s = a.start(); !s.isOk()) {
    std::cerr << "netledger-agent: " << s.message() << "\n";
    return 1;
  }
  spdlog::info("netledger-agent: node {} reporting to {}; metrics on port {}", config.node,
               config.server, a.metricsPort());
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << a.metricsPort() << "\n";
    std::error_code ec;
    std::filesystem::rename(port_file + ".tmp", port_file, ec);
    if (ec) spdlog::error("--port-file {}: {}", port_file, ec.message());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("netledger-agent: {}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  a.stop();
  return 0;
}
