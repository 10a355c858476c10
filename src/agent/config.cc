#include "agent/config.h"

#include <unistd.h>

#include <climits>
#include <exception>

#include <yaml-cpp/yaml.h>

namespace netledger::agent {

namespace {

Status bad(const std::string& key, const std::string& why) {
  return Status::invalidArgument(key + ": " + why);
}

template <typename T>
Status read(const YAML::Node& node, const std::string& key, T& out) {
  try {
    out = node.as<T>();
    return Status::ok();
  } catch (const std::exception&) {
    return bad(key, "has the wrong type");
  }
}

Status readMillis(const YAML::Node& node, const std::string& key, Millis& out) {
  long long v = 0;
  NL_RETURN_IF_ERROR(read(node, key, v));
  out = Millis(v);
  return Status::ok();
}

Status readTiming(const YAML::Node& node, ProbeTiming& t) {
  if (!node.IsMap()) return bad("probe", "must be a mapping");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string where = "probe." + key;
    if (key == "probe_wait_ms") {
      NL_RETURN_IF_ERROR(readMillis(kv.second, where, t.probe_wait));
    } else if (key == "probe_num") {
      NL_RETURN_IF_ERROR(read(kv.second, where, t.probe_num));
    } else if (key == "probe_min_ms") {
      NL_RETURN_IF_ERROR(readMillis(kv.second, where, t.probe_min));
    } else if (key == "probe_max_ms") {
      NL_RETURN_IF_ERROR(readMillis(kv.second, where, t.probe_max));
    } else if (key == "announce_wait_ms") {
      NL_RETURN_IF_ERROR(readMillis(kv.second, where, t.announce_wait));
    } else if (key == "dad_transmits") {
      NL_RETURN_IF_ERROR(read(kv.second, where, t.dad_transmits));
    } else if (key == "dad_retrans_ms") {
      NL_RETURN_IF_ERROR(readMillis(kv.second, where, t.dad_retrans));
    } else {
      return bad(where, "unknown key");
    }
  }
  return Status::ok();
}

}  // namespace

Status loadConfigFile(const std::string& path, AgentConfig& c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Status::invalidArgument("config " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::ok();
  if (!root.IsMap()) return Status::invalidArgument("config " + path + ": must be a mapping");
  bool timing_given = false;
  for (const auto& kv : root) {
    std::string key;
    try {
      key = kv.first.as<std::string>();
    } catch (const std::exception&) {
      return Status::invalidArgument("config " + path + ": keys must be strings");
    }
    const YAML::Node& v = kv.second;
    Status s = Status::ok();
    if (key == "server") {
      s = read(v, key, c.server);
    } else if (key == "token") {
      s = read(v, key, c.token);
    } else if (key == "token_file") {
      std::string file;
      s = read(v, key, file);
      if (s.isOk()) {
        FILE* f = std::fopen(file.c_str(), "r");
        if (f == nullptr) return bad(key, "cannot read " + file);
        char buf[512];
        std::size_t n = std::fread(buf, 1, sizeof buf, f);
        std::fclose(f);
        c.token.assign(buf, n);
        while (!c.token.empty() && (c.token.back() == '\n' || c.token.back() == ' ')) {
          c.token.pop_back();
        }
      }
    } else if (key == "node") {
      s = read(v, key, c.node);
    } else if (key == "interfaces") {
      s = read(v, key, c.interfaces);
    } else if (key == "network") {
      s = read(v, key, c.network);
    } else if (key == "insecure") {
      s = read(v, key, c.insecure);
    } else if (key == "batch_max") {
      s = read(v, key, c.batch_max);
    } else if (key == "batch_interval_ms") {
      s = readMillis(v, key, c.batch_interval);
    } else if (key == "queue_max") {
      s = read(v, key, c.queue_max);
    } else if (key == "probe_mode") {
      s = read(v, key, c.probe_mode);
    } else if (key == "probe") {
      s = readTiming(v, c.probe);
      timing_given = true;
    } else if (key == "probe_workers") {
      s = read(v, key, c.probe_workers);
    } else if (key == "announce_count") {
      s = read(v, key, c.announce_count);
    } else if (key == "announce_interval_ms") {
      s = readMillis(v, key, c.announce_interval);
    } else if (key == "heartbeat_interval_ms") {
      s = readMillis(v, key, c.heartbeat_interval);
    } else if (key == "port_refresh_ms") {
      s = readMillis(v, key, c.port_refresh);
    } else if (key == "listen") {
      s = read(v, key, c.listen);
    } else {
      s = bad(key, "unknown key");
    }
    NL_RETURN_IF_ERROR(s.withContext("config " + path));
  }
  // Explicit timings override the mode's; remember them by switching the mode off.
  if (timing_given) c.probe_mode = "custom";
  return Status::ok();
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
  return Status::ok();
}

}  // namespace netledger::agent
