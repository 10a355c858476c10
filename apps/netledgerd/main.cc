// netledgerd: the netledger server.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/huge_pages.h"
#include "config/flag_overrides.h"
#include "server/daemon.h"
#include "store/register.h"
#include "store/sqlite/sqlite_store.h"

int main(int argc, char** argv) {
  netledger::reexecWithHugePageMalloc(argv);  // returns only if it did not re-execute
  netledger::server::DaemonConfig config;
  std::string config_file, restore, port_file, migrate_from;
  bool force_restore = false;
  CLI::App app{"netledgerd: the address authority for virtualized and cloud networks"};
  app.add_option("--config", config_file, "YAML config file (command-line flags win)");
  netledger::config::FlagOverrides flags(app);
  flags.add("--listen", config.listen, "HOST:PORT to serve on (port 0: any)")
      ->capture_default_str();
  flags.add("--data-dir", config.data_dir, "where the ledger lives")->capture_default_str();
  flags.add("--store", config.store,
            "store URL: sqlite:PATH (default sqlite:DATA_DIR/ledger.db), memory:, "
            "etcd://HOST:PORT[,HOST:PORT...][/PREFIX] (etcds:// for TLS)");
  flags.add("--etcd-ca", config.etcd_ca, "etcds:// stores: PEM CA bundle to trust");
  flags.add("--etcd-cert", config.etcd_cert, "etcds:// stores: PEM client certificate");
  flags.add("--etcd-key", config.etcd_key, "etcds:// stores: PEM key of --etcd-cert");
  flags.add("--etcd-user", config.etcd_user, "etcd user (password: NETLEDGER_ETCD_PASSWORD)");
  flags.add("--etcd-password-file", config.etcd_password_file, "file holding the etcd password");
  flags.add("--history-peer", config.history_peer,
            "etcd stores: other replicas' URLs (URL[,URL...]) to copy history older than etcd's "
            "log from (token: --history-peer-token-file or NETLEDGER_HISTORY_PEER_TOKEN)");
  flags.add("--history-peer-token-file", config.history_peer_token_file,
            "file holding a token without tenant scope, valid on the history peers");
  flags.add("--history-peer-ca", config.history_peer_ca, "https history peers: PEM CA bundle");
  flags.add("--tls-cert", config.tls_cert, "PEM certificate: serve HTTPS");
  flags.add("--tls-key", config.tls_key, "PEM private key for --tls-cert");
  flags.add("--io-threads", config.io_threads, "HTTP I/O threads")->capture_default_str();
  flags.add("--dhcp-interface", config.dhcp.interfaces,
            "serve DHCPv4 on this interface (repeatable) from the pools with dhcp enabled");
  flags.add("--dhcp-relay-address", config.dhcp.relay_address,
            "also answer relayed DHCPv4 (giaddr picks the pool) sent to ADDR:67");
  flags.add("--node", config.dhcp.node, "the host recorded in DHCP bindings (default: hostname)");
  app.add_option("--restore", restore, "start from this snapshot (netledger snapshot create)");
  app.add_flag("--force", force_restore, "with --restore: replace an existing ledger");
  app.add_option("--migrate-from", migrate_from,
                 "copy the ledger at this store URL (sqlite:PATH) into --store, then exit");
  app.add_option("--port-file", port_file, "write the bound port here once serving (for tests)");
  CLI11_PARSE(app, argc, argv);

  if (!config_file.empty()) {
    if (auto s = netledger::server::loadConfigFile(config_file, config); !s.isOk()) {
      std::cerr << "netledgerd: " << s.message() << "\n";
      return 2;
    }
  }
  flags.apply();  // flags given on the command line win over the file
  if (auto s = netledger::server::checkConfig(config); !s.isOk()) {
    std::cerr << "netledgerd: " << s.message() << "\n";
    return 2;
  }
  if (const char* t = std::getenv("NETLEDGER_BOOTSTRAP_TOKEN"); t && *t) {
    config.bootstrap_token = t;
  }
  if (!migrate_from.empty()) {
    auto copied = netledger::server::migrateLedger(config, migrate_from);
    if (!copied) {
      std::cerr << "netledgerd: " << copied.status().message() << "\n";
      return 1;
    }
    std::cout << "netledgerd: copied " << migrate_from << " into " << config.store << ": "
              << copied->pools << " pools, " << copied->mac_pools << " MAC pools, "
              << copied->tokens << " tokens, " << copied->documents << " documents, "
              << copied->bindings << " bindings, " << copied->quarantine << " quarantine entries, "
              << copied->events << " events" << std::endl;
    return 0;
  }
  if (!restore.empty()) {
    std::string db = config.data_dir + "/ledger.db";
    std::filesystem::create_directories(config.data_dir);
    if (auto s = netledger::store::restoreSqliteSnapshot(restore, db, force_restore); !s.isOk()) {
      std::cerr << "netledgerd: --restore: " << s.message() << "\n";
      return 2;
    }
    std::cout << "netledgerd: restored " << restore << " into " << db << "\n";
  }

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto daemon = netledger::server::Daemon::start(config);
  if (!daemon) {
    std::cerr << "netledgerd: " << daemon.status().message() << "\n";
    return 1;
  }
  auto& d = **daemon;
  if (!d.createdAdminToken().empty()) {
    std::cout << "netledgerd: created the admin token (shown once, also in " << config.data_dir
              << "/admin.token):\n  " << d.createdAdminToken() << "\n";
  }
  std::cout << "netledgerd: serving " << d.baseUrl() << " (data in " << config.data_dir << ")"
            << std::endl;
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << d.port() << "\n";
    std::filesystem::rename(port_file + ".tmp", port_file);
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "netledgerd: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": finishing in-flight requests and batches" << std::endl;
  d.stop();
  std::cout << "netledgerd: stopped cleanly" << std::endl;
  return 0;
}
