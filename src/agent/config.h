#pragma once
// The agent's configuration: command-line flags and/or a YAML file (flags win). See
// docs/deploy/netledger-agent.yaml for an annotated example.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "addr/network.h"
#include "common/status.h"

namespace netledger::agent {

using Millis = std::chrono::milliseconds;

// RFC 5227 section 1.1 constants (probe) and RFC 4862 defaults (DAD). `rfc()` are the
// standard's values: a probe takes 4 to 7 s. `fast()` keeps the shape (random start, several
// probes at random intervals, a final wait) at millisecond scale, for tests and for links where
// every station answers at once (namespaces, one bridge).
struct ProbeTiming {
  Millis probe_wait{1000};  // PROBE_WAIT: random delay before the first probe, 0..probe_wait
  int probe_num = 3;        // PROBE_NUM
  Millis probe_min{1000};   // PROBE_MIN and PROBE_MAX: random interval between probes
  Millis probe_max{2000};
  Millis announce_wait{2000};  // ANNOUNCE_WAIT: listen this long after the last probe
  int dad_transmits = 1;       // DupAddrDetectTransmits
  Millis dad_retrans{1000};    // RetransTimer between (and after) DAD solicitations

  static ProbeTiming rfc() { return {}; }
  static ProbeTiming fast() {
    return {Millis(10), 3, Millis(20), Millis(40), Millis(300), 1, Millis(300)};
  }
};

struct AgentConfig {
  std::string server = "http://127.0.0.1:8080";
  std::string token;
  std::string node;                     // default: the host name
  std::vector<std::string> interfaces;  // bridges (their ports are snooped) or plain interfaces
  std::string network{addr::kDefaultNetwork};  // the ledger network these interfaces attach to
  bool insecure = false;                       // https: skip certificate verification

  // Observations: a batch goes out when it has batch_max entries or is batch_interval old.
  std::size_t batch_max = 1000;
  Millis batch_interval{200};
  std::size_t queue_max = 65'536;  // observations waiting; beyond, new ones are dropped

  std::string probe_mode = "rfc";  // "rfc" or "fast" (sets `probe`)
  ProbeTiming probe = ProbeTiming::rfc();
  int probe_workers = 8;  // probes, announcements and scans running at once

  int announce_count = 3;  // gratuitous ARP / unsolicited NA rounds after a move
  Millis announce_interval{1000};

  Millis heartbeat_interval{30'000};  // bulk renew of the node's bindings
  Millis port_refresh{2000};          // how often bridge ports are re-listed

  std::string listen = "127.0.0.1:9471";  // /metrics and /healthz; "" disables

  // Anti-spoofing on the bridges' ports (agent/enforcer.h): "off", "monitor" (count, drop
  // nothing) or "enforce". Trusted ports (uplinks, the router's port) are not guarded.
  std::string enforce = "off";
  std::vector<std::string> trusted_ports;
  Millis enforce_resync{30'000};         // full reconcile at least this often
  std::string enforce_on_stop = "keep";  // "keep" the last table or "remove" it (and the pins)
  // Permanent ARP/NDP entries on the bridges for the bound pairs behind their ports (needs
  // enforce monitor or enforce: the same pairs as the table).
  bool pin_neighbours = false;
  // Host-port mappings of this node (/v1/portmaps): DNAT to the binding and masquerade, in
  // `table inet netledger` (agent/enforcer.h). Independent of `enforce`.
  bool port_maps = false;
  // NFLOG group the guard logs every refused frame to; each becomes an observation
  // (enforce/drop_log.h). 0: counted only.
  int enforce_log_group = 7421;
};

// Reads a YAML file into `config` (keys as in AgentConfig; durations in milliseconds with an
// `_ms` suffix). invalid_argument naming the key for unknown keys and bad values.
Status loadConfigFile(const std::string& path, AgentConfig& config);

// Checks ranges and required fields, and applies probe_mode. invalid_argument naming the field.
Status finishConfig(AgentConfig& config);

}  // namespace netledger::agent
