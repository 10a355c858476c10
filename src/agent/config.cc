#include "agent/config.h"

#include <unistd.h>

#include <climits>
#include <cstdio>

#include "config/yaml_file.h"
#include "enforce/ruleset.h"

namespace netledger::agent {

namespace {

Status bad(const std::string& key, const std::string& why) {
  return Status::invalidArgument(key + ": " + why);
}

Status readTiming(config::Section probe, ProbeTiming& t) {
  return config::firstError(
      {probe.get("probe_wait_ms", t.probe_wait), probe.get("probe_num", t.probe_num),
       probe.get("probe_min_ms", t.probe_min), probe.get("probe_max_ms", t.probe_max),
       probe.get("announce_wait_ms", t.announce_wait), probe.get("dad_transmits", t.dad_transmits),
       probe.get("dad_retrans_ms", t.dad_retrans)});
}

// The token in `file` (its first 512 bytes, trailing newlines and spaces dropped).
Status readTokenFile(const config::Section& f, const std::string& file, std::string& token) {
  FILE* in = std::fopen(file.c_str(), "r");
  if (in == nullptr) return f.error("token_file", "cannot read " + file);
  char buf[512];
  std::size_t n = std::fread(buf, 1, sizeof buf, in);
  std::fclose(in);
  token.assign(buf, n);
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  return Status::ok();
}

Status finishEnforcement(const AgentConfig& c) {
  if (auto mode = enforce::parseEnforceMode(c.enforce); !mode) return mode.status();
  for (const auto& p : c.trusted_ports) {
    if (!enforce::validPortName(p)) {
      return bad("trusted_ports", "\"" + p.substr(0, 40) + "\" is not an interface name");
    }
  }
  if (c.enforce_resync < Millis(1000) || c.enforce_resync > Millis(3'600'000)) {
    return bad("enforce_resync_ms", "must be 1000..3600000");
  }
  if (c.enforce_log_group < 0 || c.enforce_log_group > 65535) {
    return bad("enforce_log_group", "must be 0..65535 (0: no drop observations)");
  }
  if (c.pin_neighbours && c.enforce == "off") {
    return bad("pin_neighbours", "needs enforce: monitor or enforce (the pairs come from it)");
  }
  if (c.enforce_on_stop != "keep" && c.enforce_on_stop != "remove") {
    return bad("enforce_on_stop",
               "\"" + c.enforce_on_stop.substr(0, 40) + "\" is not keep or remove");
  }
  return Status::ok();
}

}  // namespace

Status loadConfigFile(const std::string& path, AgentConfig& c) {
  auto file = config::Section::load(path);
  if (!file) return file.status();
  config::Section& f = *file;
  std::string token_file;
  NL_RETURN_IF_ERROR(config::firstError({f.get("server", c.server),
                                         f.get("token", c.token),
                                         f.get("token_file", token_file),
                                         f.get("node", c.node),
                                         f.get("interfaces", c.interfaces),
                                         f.get("network", c.network),
                                         f.get("insecure", c.insecure),
                                         f.get("batch_max", c.batch_max),
                                         f.get("batch_interval_ms", c.batch_interval),
                                         f.get("queue_max", c.queue_max),
                                         f.get("probe_mode", c.probe_mode),
                                         f.get("probe_workers", c.probe_workers),
                                         f.get("announce_count", c.announce_count),
                                         f.get("announce_interval_ms", c.announce_interval),
                                         f.get("heartbeat_interval_ms", c.heartbeat_interval),
                                         f.get("port_refresh_ms", c.port_refresh),
                                         f.get("listen", c.listen),
                                         f.get("enforce", c.enforce),
                                         f.get("trusted_ports", c.trusted_ports),
                                         f.get("enforce_resync_ms", c.enforce_resync),
                                         f.get("enforce_on_stop", c.enforce_on_stop),
                                         f.get("pin_neighbours", c.pin_neighbours),
                                         f.get("port_maps", c.port_maps),
                                         f.get("enforce_log_group", c.enforce_log_group)}));
  if (!token_file.empty()) NL_RETURN_IF_ERROR(readTokenFile(f, token_file, c.token));
  if (f.has("probe")) {
    auto probe = f.section("probe");
    if (!probe) return probe.status();
    NL_RETURN_IF_ERROR(readTiming(*probe, c.probe));
    // Explicit timings override the mode's; remember them by switching the mode off.
    c.probe_mode = "custom";
  }
  return f.refuseUnknown();
}

Status finishConfig(AgentConfig& c) {
  if (c.node.empty()) {
    char host[HOST_NAME_MAX + 1] = {};
    if (gethostname(host, sizeof host - 1) == 0) c.node = host;
  }
  if (c.node.empty() || c.node.size() > 253) return bad("node", "must be 1..253 characters");
  if (c.interfaces.empty()) return bad("interface", "at least one interface is required");
  for (const auto& i : c.interfaces) {
    if (i.empty() || i.size() > 15 || i.find('/') != std::string::npos) {
      return bad("interface", "\"" + i.substr(0, 40) + "\" is not an interface name");
    }
  }
  if (c.token.empty()) return bad("token", "required (--token, --token-file or NETLEDGER_TOKEN)");
  if (c.network.empty() || c.network.size() > 63) return bad("network", "must be 1..63 characters");
  if (c.batch_max < 1 || c.batch_max > 10'000) return bad("batch_max", "must be 1..10000");
  if (c.batch_interval < Millis(1) || c.batch_interval > Millis(60'000)) {
    return bad("batch_interval_ms", "must be 1..60000");
  }
  if (c.queue_max < c.batch_max || c.queue_max > 10'000'000) {
    return bad("queue_max", "must be batch_max..10000000");
  }
  if (c.probe_mode == "rfc") {
    c.probe = ProbeTiming::rfc();
  } else if (c.probe_mode == "fast") {
    c.probe = ProbeTiming::fast();
  } else if (c.probe_mode != "custom") {
    return bad("probe_mode", "\"" + c.probe_mode.substr(0, 40) + "\" is not rfc or fast");
  }
  const ProbeTiming& t = c.probe;
  if (t.probe_num < 1 || t.probe_num > 10) return bad("probe.probe_num", "must be 1..10");
  if (t.probe_wait < Millis(0) || t.probe_min < Millis(0) || t.probe_max < t.probe_min ||
      t.announce_wait < Millis(0) || t.probe_max > Millis(60'000) ||
      t.announce_wait > Millis(60'000) || t.probe_wait > Millis(60'000)) {
    return bad("probe", "timings must be 0..60000 ms with probe_min <= probe_max");
  }
  if (t.dad_transmits < 1 || t.dad_transmits > 10) return bad("probe.dad_transmits", "1..10");
  if (t.dad_retrans < Millis(1) || t.dad_retrans > Millis(60'000)) {
    return bad("probe.dad_retrans_ms", "must be 1..60000");
  }
  if (c.probe_workers < 1 || c.probe_workers > 256) return bad("probe_workers", "must be 1..256");
  if (c.announce_count < 0 || c.announce_count > 100) return bad("announce_count", "0..100");
  if (c.announce_interval < Millis(0) || c.announce_interval > Millis(60'000)) {
    return bad("announce_interval_ms", "must be 0..60000");
  }
  if (c.heartbeat_interval < Millis(100) || c.heartbeat_interval > Millis(86'400'000)) {
    return bad("heartbeat_interval_ms", "must be 100..86400000");
  }
  if (c.port_refresh < Millis(100)) return bad("port_refresh_ms", "must be at least 100");
  return finishEnforcement(c);
}

}  // namespace netledger::agent
