#include "server/daemon.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>

#include "config/yaml_file.h"
#include "engine/ledger_adapter.h"
#include "http/server.h"
#include "ledger/ledger.h"
#include "metrics/registry.h"
#include "server/api/api.h"
#include "server/api/idempotency.h"
#include "server/api/webhook_relay.h"
#include "server/events/activity_rates.h"
#include "server/events/event_hub.h"
#include "server/openapi_document.h"
#include "server/probe/probe_coordinator.h"
#include "server/scans/scan_service.h"
#include "store/etcd/peer_history.h"
#include "store/register.h"
#include "vendor/oui_registry.h"
#include "webhooks/dispatcher.h"

namespace netledger::server {

namespace {

// `<key>` in seconds into `ms` (unchanged when absent).
Status readSeconds(config::Section& section, std::string_view key, std::int64_t& ms) {
  std::optional<std::int64_t> seconds;
  NL_RETURN_IF_ERROR(section.get(key, seconds));
  if (!seconds) return Status::ok();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1000;
  if (*seconds < 1 || *seconds > kMax) {
    return section.error(key, "must be 1 to " + std::to_string(kMax));
  }
  ms = *seconds * 1000;
  return Status::ok();
}

Status readPolicies(config::Section& e, engine::EngineOptions& o) {
  std::vector<std::pair<std::string, std::string>> policies;
  NL_RETURN_IF_ERROR(e.get("policies", policies));
  for (const auto& [kind_name, policy_name] : policies) {
    auto kind = engine::parseConflictKind(kind_name);
    if (!kind) return e.error("policies", kind.status().message());
    auto policy = engine::parsePolicy(policy_name);
    if (!policy) return e.error("policies", policy.status().message());
    NL_RETURN_IF_ERROR(engine::checkPolicy(*kind, *policy));
    o.policies[*kind] = *policy;
  }
  return Status::ok();
}

Status readEngine(config::Section e, engine::EngineOptions& o) {
  NL_RETURN_IF_ERROR(config::firstError(
      {readSeconds(e, "duplicate_window_s", o.duplicate_window_ms),
       e.get("flap_changes", o.flap_changes), readSeconds(e, "flap_window_s", o.flap_window_ms),
       readSeconds(e, "quiet_period_s", o.quiet_period_ms),
       readSeconds(e, "never_seen_s", o.never_seen_ms),
       e.get("drift_confirmations", o.drift_confirmations), e.get("evidence_max", o.evidence_max),
       readSeconds(e, "wire_view_retention_s", o.wire_view_retention_ms),
       e.get("wire_view_max", o.wire_view_max), readPolicies(e, o)}));
  if (o.flap_changes < 1) return e.error("flap_changes", "must be positive");
  if (o.drift_confirmations < 1) return e.error("drift_confirmations", "must be positive");
  if (o.evidence_max < 1) return e.error("evidence_max", "must be positive");
  if (o.wire_view_retention_ms < 60'000 || o.wire_view_retention_ms > 90LL * 86'400'000) {
    return e.error("wire_view_retention_s", "must be 60 to 7776000 (90 days)");
  }
  return Status::ok();
}

}  // namespace

namespace {

Status readDhcp(config::Section& f, DhcpConfig& c) {
  NL_RETURN_IF_ERROR(config::firstError(
      {f.get("interfaces", c.interfaces), f.get("relay_address", c.relay_address),
       f.get("node", c.node), f.get("probe_wait_ms", c.probe_wait)}));
  return f.refuseUnknown();
}

}  // namespace

Status loadConfigFile(const std::string& path, DaemonConfig& c) {
  auto file = config::Section::load(path);
  if (!file) return file.status();
  config::Section& f = *file;
  auto engine = f.section("engine");
  if (!engine) return engine.status();
  auto dhcp = f.section("dhcp");
  if (!dhcp) return dhcp.status();
  NL_RETURN_IF_ERROR(
      config::firstError({f.get("listen", c.listen),
                          f.get("data_dir", c.data_dir),
                          f.get("store", c.store),
                          f.get("etcd_ca", c.etcd_ca),
                          f.get("etcd_cert", c.etcd_cert),
                          f.get("etcd_key", c.etcd_key),
                          f.get("etcd_user", c.etcd_user),
                          f.get("etcd_password_file", c.etcd_password_file),
                          f.get("history_peer", c.history_peer),
                          f.get("history_peer_token_file", c.history_peer_token_file),
                          f.get("history_peer_ca", c.history_peer_ca),
                          f.get("tls_cert", c.tls_cert),
                          f.get("tls_key", c.tls_key),
                          f.get("io_threads", c.io_threads),
                          f.get("max_body_bytes", c.max_body_bytes),
                          f.get("retention_days", c.retention_days),
                          f.get("sweep_interval_ms", c.sweep_interval_ms),
                          f.get("health_report_interval_s", c.health_report_interval_s),
                          f.get("probe_attempts", c.probe_attempts),
                          readEngine(*engine, c.engine),
                          readDhcp(*dhcp, c.dhcp)}));
  return f.refuseUnknown();
}

namespace {

// The etcd credentials of the config; the password from its file or the environment.
Result<ledger::StoreCredentials> storeCredentials(const DaemonConfig& c) {
  ledger::StoreCredentials out{c.etcd_ca, c.etcd_cert, c.etcd_key, c.etcd_user, {}};
  if (!c.etcd_password_file.empty()) {
    std::ifstream in(c.etcd_password_file);
    if (!in)
      return Status::invalidArgument("etcd_password_file: cannot read " + c.etcd_password_file);
    std::getline(in, out.password);
  } else if (const char* p = std::getenv("NETLEDGER_ETCD_PASSWORD"); p != nullptr) {
    out.password = p;
  }
  if (!out.user.empty() && out.password.empty()) {
    return Status::invalidArgument(
        "etcd_user: needs a password (etcd_password_file or NETLEDGER_ETCD_PASSWORD)");
  }
  if (out.cert_file.empty() != out.key_file.empty()) {
    return Status::invalidArgument("etcd_cert and etcd_key: give both or neither");
  }
  return out;
}

// The other replicas a shared store copies older history from (DaemonConfig::history_peer).
Result<ledger::Store::HistorySource> historyPeers(const DaemonConfig& c,
                                                  const ledger::Store& store) {
  if (!store.shared()) {
    return Status::invalidArgument("history_peer: only for replicas on an etcd:// store");
  }
  store::etcd::PeerHistoryOptions o;
  for (std::size_t from = 0; from <= c.history_peer.size();) {
    std::size_t comma = std::min(c.history_peer.find(',', from), c.history_peer.size());
    if (comma > from) o.urls.push_back(c.history_peer.substr(from, comma - from));
    from = comma + 1;
  }
  if (!c.history_peer_token_file.empty()) {
    std::ifstream in(c.history_peer_token_file);
    if (!in) {
      return Status::invalidArgument("history_peer_token_file: cannot read " +
                                     c.history_peer_token_file);
    }
    std::getline(in, o.token);
  } else if (const char* t = std::getenv("NETLEDGER_HISTORY_PEER_TOKEN"); t != nullptr) {
    o.token = t;
  }
  // A file written on another system may end the line with CR, or with blanks.
  while (!o.token.empty() && std::isspace(static_cast<unsigned char>(o.token.back()))) {
    o.token.pop_back();
  }
  o.ca_file = c.history_peer_ca;
  return store::etcd::peerHistorySource(o);
}

}  // namespace

namespace {

// The store the daemon opens: SQLite in the data directory by default; an etcd store keeps its
// replica's history archive there unless its URL names one.
std::string storeUrl(const DaemonConfig& config) {
  const std::string& s = config.store;
  if (s.empty()) return "sqlite:" + config.data_dir + "/ledger.db";
  const bool etcd = s.rfind("etcd:", 0) == 0 || s.rfind("etcds:", 0) == 0;
  if (!etcd || s.find("history=") != std::string::npos) return s;
  return s + (s.find('?') == std::string::npos ? "?" : "&") + "history=" + config.data_dir +
         "/history.db";
}

}  // namespace

Result<store::CopyCounts> migrateLedger(const DaemonConfig& config, const std::string& from) {
  store::registerBuiltinStores();
  if (config.store.empty()) {
    return Status::invalidArgument("--migrate-from: give the target with --store (etcd://...)");
  }
  auto source = ledger::openStore(from);
  if (!source) return source.status().withContext("--migrate-from");
  auto credentials = storeCredentials(config);
  if (!credentials) return credentials.status();
  auto target = ledger::openStore(config.store, *credentials);
  if (!target) return target.status().withContext("--store");
  return store::copyLedger(**source, **target);
}

Status checkConfig(const DaemonConfig& c) {
  if (c.io_threads == 0 || c.io_threads > 64) {
    return Status::invalidArgument("io_threads: must be 1 to 64");
  }
  if (c.health_report_interval_s < 0 || c.health_report_interval_s > 366LL * 86'400) {
    return Status::invalidArgument("health_report_interval_s: must be 0 (none) to 31622400");
  }
  if (c.probe_attempts < 1 || c.probe_attempts > 16) {
    return Status::invalidArgument("probe_attempts: must be 1 to 16");
  }
  return Status::ok();
}

struct Daemon::Impl {
  DaemonConfig config;
  Clock* clock = nullptr;
  std::unique_ptr<ledger::Store> store;
  // Before the ledger: the ledger's event listener records into it until the ledger is gone.
  std::unique_ptr<ActivityRates> rates;
  std::unique_ptr<ledger::Ledger> ledger;
  // The seams the engine and the probe coordinator see of the ledger.
  std::unique_ptr<engine::LedgerAdapter> engine_ledger;
  std::unique_ptr<ProbeLedgerAdapter> probe_ledger;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<EventHub> events;
  std::unique_ptr<webhooks::Dispatcher> webhooks;
  std::unique_ptr<ProbeCoordinator> probes;
  std::unique_ptr<ScanService> scans;

  // A start() that fails half-way drops the Impl: the backfill must not outlive the ledger.
  ~Impl() {
    stop_backfill = true;
    if (rates_backfill.joinable()) rates_backfill.join();
    // The ledger's feed and committer call into what the live_ pointers name, which goes first.
    live_api = nullptr;
    live_events = nullptr;
    live_engine = nullptr;
    if (engine) engine->stop();  // its last write-back goes into the ledger's last batch
    if (ledger) ledger->close();
  }
  // Set once the event stream and webhooks are ready; read by the ledger's committer thread.
  std::atomic<EventHub*> live_events{nullptr};
  std::atomic<ApiContext*> live_api{nullptr};
  std::atomic<engine::Engine*> live_engine{nullptr};  // follows other replicas' conflicts
  metrics::Registry metrics;
  std::atomic<bool> ready{false};
  std::unique_ptr<ApiContext> api;
  std::unique_ptr<WebhookRelay> relay;  // after api and events: it uses both
  std::unique_ptr<http::Server> server;
  std::unique_ptr<DhcpService> dhcp;  // after metrics: its counters are scraped there
  std::string admin_token;
  std::thread sweeper;
  std::thread rates_backfill;  // the hour before the start, from the audit log
  std::atomic<bool> stop_backfill{false};
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool stopped = false;

  // The start-up steps, in order (start() runs them).
  Status openLedger();
  // The store's metrics (commit latency, batch sizes, failures, leadership, history) and the
  // commit observer that feeds them.
  void instrumentStore();
  Status writeAdminToken();
  Status startServices();
  Status startServer();

  void sweepLoop() {
    using namespace std::chrono;
    auto last_prune = steady_clock::now() - hours(2);
    auto last_heartbeat = steady_clock::now();
    std::unique_lock lock(mu);
    while (!stopping) {
      cv.wait_for(lock, milliseconds(config.sweep_interval_ms), [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      // Work that must run once among replicas: only the elected one (always true on one node).
      (void)ledger->reloadIfBehind();
      const bool leading = store->leading();
      if (leading) (void)ledger->sweep();
      // Mappings of bindings that are gone forward nothing; the elected replica deletes them.
      if (auto* api_context = live_api.load(); leading && api_context != nullptr) {
        (void)reapPortMaps(*api_context);
        (void)recordScheduledHealthReport(*api_context, config.health_report_interval_s * 1000);
      }
      relay->tick(leading);
      if (steady_clock::now() - last_heartbeat > seconds(15)) {
        if (auto* hub = live_events.load())
          hub->heartbeat();  // SSE keep-alives; drops gone clients
        last_heartbeat = steady_clock::now();
      }
      if (steady_clock::now() - last_prune > hours(1)) {
        auto cutoff = duration_cast<milliseconds>(clock->now().time_since_epoch()).count() -
                      config.retention_days * 86400LL * 1000;
        // Every replica: each prunes its own history archive (the store leaves a shared log to
        // the elected one).
        (void)store->pruneEvents(cutoff);
        if (leading) {
          (void)forgetExpiredAnswers(
              *ledger, duration_cast<milliseconds>(clock->now().time_since_epoch()).count());
        }
        last_prune = steady_clock::now();
      }
      lock.lock();
    }
  }
};

Status Daemon::Impl::openLedger() {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Status::unavailable("data-dir " + config.data_dir + ": " + ec.message());
  }
  const std::string url = storeUrl(config);
  auto credentials = storeCredentials(config);
  if (!credentials) return credentials.status();
  auto opened = ledger::openStore(url, *credentials);
  if (!opened) return opened.status();
  store = std::move(opened).value();
  if (!config.history_peer.empty()) {
    auto peers = historyPeers(config, *store);
    if (!peers) return peers.status();
    store->setHistorySource(std::move(*peers));
  }
  ledger::LedgerOptions options;
  options.retention_days = config.retention_days;
  ledger = std::make_unique<ledger::Ledger>(*store, *clock, options);

  instrumentStore();
  // Committed events fan out to the rates, the event stream and the webhooks. The listener is
  // set here, before open() starts the committer; the last two are filled in by startServices.
  rates = std::make_unique<ActivityRates>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch())
          .count());
  // Another replica's conflicts and policies reach this one's engine (every replica's API
  // serves them, and its detection adds to them instead of opening its own).
  ledger->setDocumentListener({engine::Engine::kConflictKind, engine::Engine::kPolicyKind},
                              [this](ledger::Ledger::DocumentChanges changes) {
                                if (auto* e = live_engine.load())
                                  e->documentsChanged(std::move(changes));
                              });
  ledger->setEventListener([this](std::span<const ledger::EventRecord* const> batch) {
    rates->record(batch);
    if (auto* hub = live_events.load()) hub->publish(batch);
    // Every replica follows the subscriptions; the elected one alone delivers (WebhookRelay).
    if (auto* api_context = live_api.load()) followWebhookChanges(*api_context, batch);
  });
  NL_RETURN_IF_ERROR(ledger->open());
  // Everything up to here is in the audit log only; later commits reach the listener.
  rates_backfill = std::thread(
      [this, up_to = ledger->lastEventSeq()] { rates->backfill(*ledger, up_to, stop_backfill); });
  auto load = ledger->loadStats();
  std::fprintf(stderr, "netledgerd: loaded %zu bindings in %.2f s (store %.2f s, indexes %.2f s)\n",
               load.bindings, load.store_seconds + load.build_seconds, load.store_seconds,
               load.build_seconds);
  return Status::ok();
}

void Daemon::Impl::instrumentStore() {
  auto& commit_seconds = metrics.histogram(
      "netledger_commit_seconds", "Store commit latency (one transaction, fsync included).", {});
  auto& batch_writes = metrics.histogram(
      "netledger_commit_batch_writes", "Writes per committed batch (group commit).", {},
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384});
  auto& commit_failures =
      metrics.counter("netledger_commit_failures_total", "Store commits that failed.");
  metrics.gaugeCallback("netledger_leader",
                        "1 while this replica does the work that runs once (sweeps, ledger scans, "
                        "webhook delivery); always 1 on one node.",
                        [this] { return store->leading() ? 1.0 : 0.0; });
  metrics.gaugeCallback("netledger_history_complete",
                        "0 while this replica's history lacks events etcd's log dropped before "
                        "its archive began (copied from history_peer in the background).",
                        [this] { return store->historyComplete() ? 1.0 : 0.0; });
  auto& overtaken = metrics.counter(
      "netledger_commit_overtaken_total",
      "Batches refused because another replica changed what they read (run again).");
  ledger->setCommitObserver([&commit_seconds, &batch_writes, &commit_failures, &overtaken,
                             last_log = std::chrono::steady_clock::time_point()](
                                std::size_t writes, double s, const Status& st) mutable {
    commit_seconds.get().observe(s);
    batch_writes.get().observe(static_cast<double>(writes));
    if (st.isOk()) return;
    commit_failures.get().inc();
    if (st.code() == StatusCode::kConflict) overtaken.get().inc();
    // Why, for the operator; at most one line a second (the committer thread alone calls this).
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log < std::chrono::seconds(1)) return;
    last_log = now;
    std::fprintf(stderr, "netledgerd: a commit of %zu writes failed: %s\n", writes,
                 st.toString().c_str());
  });
}

Status Daemon::Impl::writeAdminToken() {
  auto token = ledger->bootstrapAdminToken(config.bootstrap_token);
  if (!token) return token.status();
  if (!*token) return Status::ok();
  admin_token = **token;
  std::string path = config.data_dir + "/admin.token";
  ::umask(077);
  std::ofstream out(path, std::ios::trunc);
  out << admin_token << "\n";
  out.close();
  ::chmod(path.c_str(), 0600);
  return Status::ok();
}

// The engine, event stream, webhooks, probe coordinator and scans, each over the seam it needs
// of the ledger, and the API context that reaches them.
Status Daemon::Impl::startServices() {
  engine_ledger = std::make_unique<engine::LedgerAdapter>(*ledger);
  engine::EngineOptions engine_options = config.engine;
  engine_options.writer_slot = store->writerSlot();
  engine = std::make_unique<engine::Engine>(*engine_ledger, *clock, engine_options);
  engine->setLeading([this] { return store->leading(); });
  live_engine = engine.get();  // changes from now on are queued; open() reads what came before
  NL_RETURN_IF_ERROR(engine->open());
  engine->start();
  webhooks = std::make_unique<webhooks::Dispatcher>(config.webhooks, *clock);
  events = std::make_unique<EventHub>(*ledger, ledger->lastEventPosition());
  ProbeOptions probe_options;
  probe_options.attempts = config.probe_attempts;
  probe_ledger = std::make_unique<ProbeLedgerAdapter>(*ledger);
  probes = std::make_unique<ProbeCoordinator>(*probe_ledger, engine.get(), *clock, probe_options);
  probes->start();
  scans = std::make_unique<ScanService>(*ledger, engine.get(), *clock);
  api = std::make_unique<ApiContext>(ApiContext{
      *ledger, metrics, ready, std::string(openapiDocument()), engine.get(), events.get(),
      webhooks.get(), probes.get(), scans.get(), rates.get(), clock, store->shared()});
  NL_RETURN_IF_ERROR(loadWebhooks(*api));
  webhooks->start();
  live_api = api.get();  // from now on committed events reach both
  live_events = events.get();
  relay = std::make_unique<WebhookRelay>(*api, *events);
  relay->tick(store->leading());
  return Status::ok();
}

Status Daemon::Impl::startServer() {
  http::Router router;
  NL_RETURN_IF_ERROR(registerApi(router, *api));
  http::ServerOptions so;
  so.listen = config.listen;
  so.ioThreads = config.io_threads;
  so.maxBodyBytes = config.max_body_bytes;
  if (config.max_body_bytes < 8 * 1024 * 1024) {
    // The limit is one for every route: agents' observation batches and scan results too.
    std::fprintf(stderr,
                 "netledgerd: warning: max_body_bytes %zu is below 8 MiB; large observation "
                 "batches and scan results will be refused (413)\n",
                 config.max_body_bytes);
  }
  so.jsonBodiesOnly = true;
  so.tlsCertFile = config.tls_cert;
  so.tlsKeyFile = config.tls_key;
  so.metrics = &metrics;
  auto started = http::Server::start(so, std::move(router));
  if (!started) return started.status();
  server = std::move(started).value();
  return Status::ok();
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() { stop(); }

Result<std::unique_ptr<Daemon>> Daemon::start(const DaemonConfig& config, Clock& clock) {
  store::registerBuiltinStores();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->clock = &clock;
  NL_RETURN_IF_ERROR(impl->openLedger());
  NL_RETURN_IF_ERROR(impl->writeAdminToken());
  (void)vendor::defaultRegistry();  // load the IEEE registry now, not on the first request
  NL_RETURN_IF_ERROR(impl->startServices());
  // DHCP before the API: a port or capability it lacks stops the start before anything is
  // served.
  if (config.dhcp.enabled()) {
    auto dhcp =
        DhcpService::start(config.dhcp, *impl->ledger, impl->engine.get(), clock, impl->metrics);
    if (!dhcp) return dhcp.status();
    impl->dhcp = std::move(*dhcp);
  }
  NL_RETURN_IF_ERROR(impl->startServer());
  impl->ready = true;
  Impl* raw = impl.get();
  impl->sweeper = std::thread([raw] { raw->sweepLoop(); });
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

std::uint16_t Daemon::port() const { return impl_->server->port(); }

std::string Daemon::baseUrl() const {
  auto ep = impl_->server->localEndpoint();
  return std::string(impl_->server->isTls() ? "https://" : "http://") + ep.toString();
}

const std::string& Daemon::createdAdminToken() const { return impl_->admin_token; }

void Daemon::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->ready = false;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
  impl_->stop_backfill = true;
  if (impl_->rates_backfill.joinable()) impl_->rates_backfill.join();
  // Allocations waiting for a probe are answered now (202, still reserved), so the server's
  // drain does not wait out their probe timeouts.
  if (impl_->probes) impl_->probes->stop();
  if (impl_->dhcp) impl_->dhcp->stop();      // no new leases; ACKs due still go out
  if (impl_->server) impl_->server->stop();  // in-flight requests finish first
  if (impl_->engine) impl_->engine->stop();  // its last write-back goes into the last batch
  impl_->ledger->close();                    // then the last batch is committed
  impl_->live_api = nullptr;
  impl_->live_engine = nullptr;
  impl_->live_events = nullptr;
  if (impl_->relay) impl_->relay->stop();  // what it had not delivered, its successor will
  if (impl_->webhooks) impl_->webhooks->stop();
}

}  // namespace netledger::server
