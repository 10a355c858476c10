#pragma once
// netledgerd's wiring: store -> ledger -> API router -> HTTP server, plus the sweeper thread
// (lease expiry, quarantine cleanup, audit retention). apps/netledgerd/main.cc only parses the
// command line and waits for a signal.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "engine/engine.h"
#include "server/dhcp/dhcp_service.h"
#include "store/migrate.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

struct DaemonConfig {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./netledger-data";
  std::string store;  // default: sqlite:<data_dir>/ledger.db
  // etcd:// and etcds:// stores: TLS files and user auth. The password is read from
  // etcd_password_file, else from NETLEDGER_ETCD_PASSWORD (never a flag: argv is public).
  std::string etcd_ca, etcd_cert, etcd_key, etcd_user, etcd_password_file;
  // etcd stores: other replicas ("URL[,URL...]") that a replica whose history archive began
  // after etcd's log was pruned copies the older events from, with a token without tenant scope
  // read from history_peer_token_file, else from NETLEDGER_HISTORY_PEER_TOKEN, and for https
  // peers a CA bundle.
  std::string history_peer, history_peer_token_file, history_peer_ca;
  std::string tls_cert, tls_key;
  std::size_t io_threads = 2;
  // One request-body limit for every route (413 past it): large enough for a batch of 10,000
  // observations or a /16 scan result.
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::int64_t retention_days = 180;
  std::int64_t sweep_interval_ms = 1000;
  // The scheduled health report for webhooks subscribed to report.health (0: none).
  std::int64_t health_report_interval_s = 86'400;
  std::optional<std::string> bootstrap_token;  // NETLEDGER_BOOTSTRAP_TOKEN
  int probe_attempts = 3;        // addresses found in use before a probed allocation gives up
  engine::EngineOptions engine;  // the `engine:` section
  webhooks::Options webhooks;    // delivery limits (queue, attempts, timeouts)
  DhcpConfig dhcp;               // the `dhcp:` section: interfaces, relay_address, node
};

// Reads a YAML config file (keys as in DaemonConfig: listen, data_dir, store, etcd_ca,
// etcd_cert, etcd_key, etcd_user, etcd_password_file, history_peer, history_peer_token_file,
// history_peer_ca, tls_cert,
// tls_key, io_threads, max_body_bytes, retention_days, sweep_interval_ms,
// health_report_interval_s, probe_attempts (1 to 16), and an `engine:` map with duplicate_window_s,
// flap_changes, flap_window_s, quiet_period_s, never_seen_s, drift_confirmations, evidence_max and
// `policies:` {kind: policy}, and a `dhcp:` map with interfaces, relay_address, node,
// probe_wait_ms) over `config`. invalid_argument naming the file and the key.
Status loadConfigFile(const std::string& path, DaemonConfig& config);
// Checks what the file and the flags together say (io_threads 1 to 64, probe_attempts 1 to 16).
Status checkConfig(const DaemonConfig& config);
// `netledgerd --store TARGET --migrate-from URL`: copies the ledger at URL (sqlite:PATH) into
// config.store, which must be empty, and says what it copied. Nothing is served.
Result<store::CopyCounts> migrateLedger(const DaemonConfig& config, const std::string& from);

class Daemon {
 public:
  // Opens the store, loads the ledger, creates the first admin token when there is none, and
  // starts serving. `clock` must outlive the daemon.
  static Result<std::unique_ptr<Daemon>> start(const DaemonConfig& config,
                                               Clock& clock = SystemClock::instance());
  ~Daemon();

  std::uint16_t port() const;
  std::string baseUrl() const;
  // The admin secret if this start created it (first start on an empty store), else "".
  const std::string& createdAdminToken() const;
  // Stops accepting, finishes in-flight requests and batches, closes the store. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netledger::server
