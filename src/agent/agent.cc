#include "agent/agent.h"

#include <chrono>
#include <random>

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "agent/announcer.h"
#include "agent/enforcer.h"
#include "agent/link.h"
#include "agent/prober.h"
#include "agent/reporter.h"
#include "agent/scanner.h"
#include "agent/snooper.h"
#include "enforce/drop_log.h"
#include "http/metrics_handler.h"
#include "http/router.h"
#include "http/server.h"
#include "httpclient/http_client.h"
#include "httpclient/sse.h"
#include "metrics/registry.h"
#include "observation/observation.h"

namespace netledger::agent {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using httpclient::HttpClient;
using httpclient::HttpRequest;
using httpclient::SseEvent;
using httpclient::SseParser;

namespace {

constexpr std::size_t kMaxQueuedJobs = 1024;

std::string describeJob(const Job& job) {
  if (const auto* p = std::get_if<ProbeJob>(&job)) return "probe:" + std::to_string(p->binding_id);
  if (const auto* a = std::get_if<AnnounceJob>(&job)) {
    return "announce:" + std::to_string(a->binding_id);
  }
  return "scan:" + std::get<ScanJob>(job).id;
}

// Events after which the tables may need other pairs, modes or forwards (a binding came, went,
// moved or changed; a mapping came or went; a pool's enforcement may have changed). A renewal
// changes only the lease's end.
bool changesPairs(std::string_view op) {
  return (op.starts_with("binding.") && op != "binding.renew") || op.starts_with("address.") ||
         op.starts_with("portmap.") || op == "pool.update";
}

std::string probeKey(const ProbeJob& p) {
  std::string k = std::to_string(p.binding_id);
  for (const auto& a : p.addresses) k += "," + a.toString();
  return k;
}

}  // namespace

struct Agent::Impl {
  AgentConfig config;
  metrics::Registry registry;
  std::unique_ptr<Reporter> reporter;
  std::unique_ptr<Snooper> snooper;
  std::unique_ptr<HttpClient> reporter_client;  // used by the reporter thread only
  std::unique_ptr<HttpClient> event_client;     // used by the event thread (abortStream: any)
  std::unique_ptr<http::Server> server;
  std::unique_ptr<Enforcer> enforcer;  // when config.enforce is not "off"

  std::atomic<bool> stopping{false};
  std::mutex mu;  // jobs, in_flight, stop_cv
  std::condition_variable jobs_cv, stop_cv;
  std::deque<Job> jobs;
  std::set<std::string> in_flight;  // probe keys queued or running
  std::vector<std::thread> threads;
  std::atomic<bool> stream_connected{false};
  std::atomic<std::int64_t> last_heartbeat_ok_ms{0};  // wall clock, 0 never

  // Metrics kept here.
  metrics::Counter* probes_free = nullptr;
  metrics::Counter* probes_in_use = nullptr;
  metrics::Counter* probe_reports_failed = nullptr;
  metrics::Histogram* probe_seconds = nullptr;
  metrics::Counter* announce_frames = nullptr;
  metrics::Counter* scans = nullptr;
  metrics::Counter* heartbeats_ok = nullptr;
  metrics::Counter* heartbeats_failed = nullptr;
  metrics::Counter* events = nullptr;
  metrics::Counter* jobs_dropped = nullptr;
  metrics::Counter* stream_reconnects = nullptr;

  explicit Impl(AgentConfig c) : config(std::move(c)) {}

  Result<std::unique_ptr<HttpClient>> makeClient(std::chrono::milliseconds timeout) const {
    httpclient::HttpClientOptions o;
    o.insecure = config.insecure;
    o.connect_timeout = std::chrono::milliseconds(3000);
    o.request_timeout = timeout;
    return HttpClient::create(config.server, o);
  }

  HttpRequest request(std::string method, std::string target, std::string body = {}) const {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers.push_back({"Authorization", "Bearer " + config.token});
    if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::move(body);
    return r;
  }

  // Waits up to `d` or until stop; true when stopping.
  bool sleepOrStop(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return stop_cv.wait_for(lock, d, [&] { return stopping.load(); });
  }

  void registerMetrics() {
    auto& r = registry;
    auto& probes = r.counter("netledger_agent_probes_total",
                             "Addresses probed before use, by verdict.", {"result"});
    probes_free = &probes.labels({"free"});
    probes_in_use = &probes.labels({"in_use"});
    probe_reports_failed = &r.counter("netledger_agent_probe_reports_failed_total",
                                      "Probe verdicts the server could not be told.")
                                .get();
    probe_seconds = &r.histogram("netledger_agent_probe_duration_seconds",
                                 "Time from the start of a probe to its verdict.", {},
                                 {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16})
                         .get();
    announce_frames = &r.counter("netledger_agent_announcement_frames_total",
                                 "Gratuitous ARP and unsolicited NA frames sent after moves.")
                           .get();
    scans = &r.counter("netledger_agent_scans_total", "Active scans completed.").get();
    auto& hb = r.counter("netledger_agent_heartbeats_total",
                         "Bulk renewals of the node's bindings.", {"result"});
    heartbeats_ok = &hb.labels({"ok"});
    heartbeats_failed = &hb.labels({"failed"});
    events =
        &r.counter("netledger_agent_events_total", "Events read from the server's stream.").get();
    jobs_dropped = &r.counter("netledger_agent_jobs_dropped_total",
                              "Jobs dropped because the work queue was full.")
                        .get();
    stream_reconnects = &r.counter("netledger_agent_event_stream_reconnects_total",
                                   "Times the event stream was (re)connected.")
                             .get();
    const SnooperCounters& sc = snooper->counters();
    r.counterCallback("netledger_agent_frames_total",
                      "ARP/NDP frames captured (after the BPF filter).",
                      [&sc] { return static_cast<double>(sc.frames.load()); });
    for (int k = 0; k < wire::kFrameKindCount; ++k) {
      r.counterCallback(
          "netledger_agent_frames_parsed_total", "Frames parsed, by kind.",
          [&sc, k] { return static_cast<double>(sc.by_kind[k].load()); },
          {{"kind", std::string(wire::frameKindName(static_cast<wire::FrameKind>(k)))}});
    }
    for (int e = 1; e < wire::kParseErrorCount; ++e) {
      r.counterCallback(
          "netledger_agent_frames_invalid_total",
          "Frames not parsed as ARP/NDP, by reason (garbage is counted, not fatal).",
          [&sc, e] { return static_cast<double>(sc.by_error[e].load()); },
          {{"reason", std::string(wire::parseErrorName(static_cast<wire::ParseError>(e)))}});
    }
    r.counterCallback("netledger_agent_frames_sent_total", "Frames sent (probes, announcements).",
                      [&sc] { return static_cast<double>(sc.sent_frames.load()); });
    r.counterCallback("netledger_agent_kernel_drops_total",
                      "Frames the kernel dropped before the agent read them (capture buffer full).",
                      [this] { return static_cast<double>(snooper->kernelDrops()); });
    const ReporterCounters& rc = reporter->counters();
    r.counterCallback("netledger_agent_observations_total", "Observations by fate.",
                      [&rc] { return static_cast<double>(rc.sent.load()); }, {{"fate", "sent"}});
    r.counterCallback("netledger_agent_observations_total", "Observations by fate.",
                      [&rc] { return static_cast<double>(rc.coalesced.load()); },
                      {{"fate", "coalesced"}});
    r.counterCallback("netledger_agent_observations_total", "Observations by fate.",
                      [&rc] { return static_cast<double>(rc.dropped_full.load()); },
                      {{"fate", "dropped_queue_full"}});
    r.counterCallback("netledger_agent_observations_total", "Observations by fate.",
                      [&rc] { return static_cast<double>(rc.rejected.load()); },
                      {{"fate", "rejected_by_server"}});
    r.counterCallback("netledger_agent_observation_batches_total", "Batches delivered.",
                      [&rc] { return static_cast<double>(rc.batches.load()); });
    r.counterCallback("netledger_agent_observation_send_failures_total",
                      "Batch deliveries that failed (server away or overloaded) and were retried.",
                      [&rc] { return static_cast<double>(rc.send_failures.load()); });
    r.gaugeCallback("netledger_agent_observation_queue", "Observations waiting to be sent.",
                    [this] { return static_cast<double>(reporter->depth()); });
    r.gaugeCallback("netledger_agent_event_stream_connected",
                    "1 while the server's event stream is open.",
                    [this] { return stream_connected.load() ? 1.0 : 0.0; });
  }

  // ---- jobs -----------------------------------------------------------------------------------

  void enqueue(Job job) {
    std::lock_guard lock(mu);
    if (const auto* p = std::get_if<ProbeJob>(&job)) {
      if (!in_flight.insert(probeKey(*p)).second) return;  // already queued or running
    }
    if (jobs.size() >= kMaxQueuedJobs) {
      jobs_dropped->inc();
      if (const auto* p = std::get_if<ProbeJob>(&job)) in_flight.erase(probeKey(*p));
      return;
    }
    jobs.push_back(std::move(job));
    jobs_cv.notify_one();
  }

  void worker() {
    std::mt19937_64 rng(std::random_device{}());
    auto client = makeClient(std::chrono::milliseconds(10'000));
    if (!client) return;
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu);
        jobs_cv.wait(lock, [&] { return stopping.load() || !jobs.empty(); });
        if (stopping.load()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      spdlog::debug("job {}", describeJob(job));
      if (auto* p = std::get_if<ProbeJob>(&job)) {
        runProbe(*p, **client, rng);
        std::lock_guard lock(mu);
        in_flight.erase(probeKey(*p));
      } else if (auto* a = std::get_if<AnnounceJob>(&job)) {
        int n = announce(*snooper, *a, config.announce_count, config.announce_interval, stopping);
        announce_frames->inc(static_cast<std::uint64_t>(n));
        spdlog::info("announced binding {} ({} frames)", a->binding_id, n);
      } else {
        runScan(std::get<ScanJob>(job), **client);
      }
    }
  }

  // POSTs with a few retries while the server is unreachable or answering 5xx.
  Result<httpclient::HttpResponse> postWithRetry(HttpClient& client, const std::string& target,
                                                 const std::string& body) {
    std::chrono::milliseconds backoff(200);
    for (int attempt = 0;; ++attempt) {
      auto res = client.send(request("POST", target, body));
      if (res && res->status < 500) return res;
      if (attempt == 5 || sleepOrStop(backoff)) {
        return res ? Result<httpclient::HttpResponse>(std::move(res))
                   : Result<httpclient::HttpResponse>(res.status());
      }
      backoff *= 2;
    }
  }

  void runProbe(const ProbeJob& job, HttpClient& client, std::mt19937_64& rng) {
    for (const addr::IpAddress& ip : job.addresses) {
      const auto t0 = Clock::now();
      ProbeResult r = probeAddress(*snooper, ip, config.probe, stopping, rng);
      if (r.stopped) return;
      probe_seconds->observe(std::chrono::duration<double>(Clock::now() - t0).count());
      json::object body{{"address", ip.toString()}, {"result", r.answer ? "in_use" : "free"}};
      if (r.answer) {
        probes_in_use->inc();
        body["mac"] = r.answer->mac.toString();
        body["interface"] = r.answer->port;
        spdlog::warn("probe: {} is in use by {} (seen on {}); binding {}", ip.toString(),
                     r.answer->mac.toString(), r.answer->port, job.binding_id);
      } else {
        probes_free->inc();
        spdlog::info("probe: {} is free ({} probes); binding {}", ip.toString(), r.frames_sent,
                     job.binding_id);
      }
      auto res = postWithRetry(client, "/v1/bindings/" + std::to_string(job.binding_id) + "/probe",
                               json::serialize(body));
      if (!res || res->status >= 300) {
        // 409: the binding is no longer waiting (released, activated by someone else): fine.
        if (!res || res->status != 409) probe_reports_failed->inc();
        spdlog::warn("probe report for binding {}: {}", job.binding_id,
                     res ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200)
                         : res.status().message());
        return;
      }
      // An address in use: the server quarantines it and reassigns; the reassignment comes back
      // as a new event with the new address.
      if (r.answer) return;
    }
  }

  void runScan(const ScanJob& job, HttpClient& client) {
    spdlog::info("scan {}: {} addresses at {}/s", job.id, job.size, job.rate_per_s);
    auto listen = std::max(config.probe.announce_wait, config.probe.dad_retrans);
    ScanOutcome out = scanRanges(*snooper, job, listen, stopping);
    if (out.stopped) return;
    json::array answered;
    for (const auto& [ip, mac] : out.answered) {
      answered.emplace_back(json::object{{"ip", ip.toString()}, {"mac", mac.toString()}});
    }
    json::object body{{"answered", std::move(answered)}, {"probed", out.probed}};
    auto res = postWithRetry(client, "/v1/scans/" + job.id + "/result", json::serialize(body));
    scans->inc();
    spdlog::info("scan {}: {} probed, {} answered; server {}", job.id, out.probed,
                 out.answered.size(),
                 res ? "HTTP " + std::to_string(res->status) : res.status().message());
  }

  // Reserved bindings of this node that may have been missed while disconnected.
  void sweepReserved(HttpClient& client) {
    auto res = client.send(request("GET", "/v1/bindings?state=reserved&limit=1000&host=" +
                                              httpclient::encodeQueryValue(config.node)));
    if (!res || res->status != 200) return;
    json::error_code ec;
    auto v = json::parse(res->body, ec);
    if (ec || !v.is_object()) return;
    const json::value* items = v.get_object().if_contains("items");
    if (items == nullptr || !items->is_array()) return;
    for (const json::value& b : items->get_array()) {
      json::object ev{{"after", b}};
      if (auto job = jobForEvent("binding.allocate", json::serialize(ev), config.node)) {
        enqueue(std::move(*job));
      }
    }
  }

  // ---- event stream ---------------------------------------------------------------------------

  void eventLoop() {
    std::mt19937_64 rng(std::random_device{}());
    std::string last_id;
    auto sweeper = makeClient(std::chrono::milliseconds(10'000));
    std::chrono::milliseconds backoff(250);
    while (!stopping.load()) {
      bool got_data = false;
      SseParser parser([&](const SseEvent& e) {
        events->inc();
        last_id = e.id;
        if (auto job = jobForEvent(e.event, e.data, config.node)) enqueue(std::move(*job));
        if (enforcer && changesPairs(e.event)) enforcer->poke();
      });
      HttpRequest req = request("GET", std::string("/v1/events?types=") + kAgentEventTypes);
      req.headers.push_back({"Accept", "text/event-stream"});
      if (!last_id.empty()) req.headers.push_back({"Last-Event-ID", last_id});
      std::string error_body;
      auto status = event_client->stream(
          req,
          [&](std::string_view bytes) {
            if (!got_data) {
              // Subscribed: anything that happened before is in the store, so sweep it now.
              got_data = true;
              stream_connected = true;
              stream_reconnects->inc();
              if (sweeper) sweepReserved(**sweeper);
              if (enforcer) enforcer->poke();  // events may have been missed while away
            }
            return parser.feed(bytes) && !stopping.load();
          },
          std::chrono::milliseconds(45'000), &error_body);
      stream_connected = false;
      if (stopping.load()) break;
      if (got_data) backoff = std::chrono::milliseconds(250);
      if (!status) {
        spdlog::warn("event stream: {}", status.status().message());
      } else if (*status != 200) {
        spdlog::error("event stream: HTTP {} {}", *status, error_body.substr(0, 300));
        if (*status == 401 || *status == 403) backoff = std::chrono::milliseconds(10'000);
      }
      std::uniform_int_distribution<long long> jitter(backoff.count() / 2, backoff.count());
      if (sleepOrStop(std::chrono::milliseconds(jitter(rng)))) break;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
    }
  }

  // ---- enforcement ----------------------------------------------------------------------------

  // Every binding of this node, page by page (the enforcer thread's own client).
  Result<std::vector<NodeBinding>> fetchNodeBindings(HttpClient& client) const {
    std::vector<NodeBinding> all;
    std::string cursor;
    constexpr int kMaxPages = 10'000;  // 10 M bindings: past that the server is looping
    for (int pages = 0;; ++pages) {
      if (pages == kMaxPages || stopping.load()) {
        return Status::unavailable("GET /v1/bindings: stopped after " + std::to_string(pages) +
                                   " pages");
      }
      auto res = client.send(request(
          "GET", "/v1/bindings?limit=1000&host=" + httpclient::encodeQueryValue(config.node) +
                     "&cursor=" + httpclient::encodeQueryValue(cursor)));
      if (!res) return res.status();
      if (res->status != 200) {
        return Status::unavailable("GET /v1/bindings: HTTP " + std::to_string(res->status));
      }
      auto page = nodeBindingsFromJson(res->body);
      if (!page) return page.status();
      for (auto& b : page->bindings) all.push_back(std::move(b));
      if (page->next_cursor.empty() || page->next_cursor == cursor) return all;
      cursor = page->next_cursor;
    }
  }

  std::map<std::string, std::vector<std::string>> enforcedPorts() const {
    std::map<std::string, std::vector<std::string>> bridges;
    for (const std::string& i : config.interfaces) {
      if (isBridge(i)) {
        bridges[i] = bridgePorts(i);
      } else if (interfaceExists(i)) {
        bridges[Enforcer::kPlainInterfaces].push_back(i);  // guarded once a binding names it
      }
    }
    return bridges;
  }

  // This node's host-port mappings as forwards (the enforcer thread's client).
  Result<std::vector<enforce::PortForward>> fetchForwards(HttpClient& client) const {
    auto res = client.send(
        request("GET", "/v1/portmaps?node=" + httpclient::encodeQueryValue(config.node)));
    if (!res) return res.status();
    if (res->status != 200) {
      return Status::unavailable("GET /v1/portmaps: HTTP " + std::to_string(res->status));
    }
    return portForwardsFromJson(res->body);
  }

  Status startEnforcer() {
    if (config.enforce == "off" && !config.port_maps) return Status::ok();
    auto client = makeClient(std::chrono::milliseconds(10'000));
    if (!client) return client.status();
    std::shared_ptr<HttpClient> c = std::move(*client);
    enforcer = std::make_unique<Enforcer>(
        config, [this, c] { return fetchNodeBindings(*c); }, [this] { return enforcedPorts(); },
        *snooper, registry);
    if (config.enforce != "off") {
      enforcer->followPoolModes([this, c]() -> Result<PoolModes> {
        auto res = c->send(request("GET", "/v1/pools"));
        if (!res) return res.status();
        if (res->status != 200) {
          return Status::unavailable("GET /v1/pools: HTTP " + std::to_string(res->status));
        }
        return poolModesFromJson(res->body);
      });
    }
    enforcer->onDrop([this](const enforce::LoggedDrop& d) {
      observation::Observation o;
      o.ip = d.ip;
      o.mac = d.mac;
      o.interface = d.interface;
      o.source = observation::Source::kAgent;  // the guard saw it (and dropped or counted it)
      o.time = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
      (void)reporter->offer(std::move(o));
    });
    enforcer->reportTo([this, c](bool ok, const std::string& error) {
      json::object body{{"ok", ok}};
      if (!ok) {
        std::string text = error.substr(0, 2000);  // nft's messages span lines: one line here
        for (char& ch : text) ch = static_cast<unsigned char>(ch) < 0x20 ? ' ' : ch;
        body["error"] = text;
      }
      auto res = c->send(
          request("PUT", "/v1/hosts/" + httpclient::encodePathSegment(config.node) + "/enforcement",
                  json::serialize(body)));
      return res && res->status == 200;
    });
    if (config.port_maps) {
      enforcer->forwardPorts([this, c] { return fetchForwards(*c); });
      warnWithoutForwarding();
    }
    return enforcer->start();
  }

  // Forwarded ports need the kernel to route (as Docker's and CNI's portmap do); the agent
  // leaves the sysctls to the operator and says so.
  static void warnWithoutForwarding() {
    for (const char* path :
         {"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"}) {
      std::FILE* f = std::fopen(path, "r");
      if (f == nullptr) continue;
      const int on = std::fgetc(f);
      std::fclose(f);
      if (on == '0') spdlog::warn("port maps: {} is 0: forwarded ports will not be routed", path);
    }
  }

  // ---- heartbeat ------------------------------------------------------------------------------

  void heartbeatLoop() {
    auto client = makeClient(std::chrono::milliseconds(10'000));
    if (!client) return;
    const std::string target = "/v1/hosts/" + httpclient::encodePathSegment(config.node) + "/renew";
    do {
      auto res = (*client)->send(request("POST", target, "{}"));
      if (res && res->status < 300) {
        heartbeats_ok->inc();
        last_heartbeat_ok_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      } else {
        heartbeats_failed->inc();
        spdlog::warn("heartbeat: {}",
                     res ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200)
                         : res.status().message());
      }
    } while (!sleepOrStop(config.heartbeat_interval));
  }

  // ---- health ---------------------------------------------------------------------------------

  http::Response health() {
    json::array ifaces;
    bool all_up = true;
    for (const InterfaceHealth& h : snooper->health()) {
      json::array ports;
      for (const auto& p : h.ports) ports.emplace_back(p);
      json::object o{{"name", h.name}, {"up", h.up}, {"ports", std::move(ports)}};
      if (!h.error.empty()) o["error"] = h.error;
      all_up = all_up && h.up;
      ifaces.emplace_back(std::move(o));
    }
    json::object body;
    body["status"] = all_up ? "ok" : "degraded";
    body["node"] = config.node;
    body["interfaces"] = std::move(ifaces);
    body["server"] = json::object{{"url", config.server},
                                  {"event_stream", stream_connected.load()},
                                  {"observations_delivered", reporter->serverReachable()}};
    const auto hb = last_heartbeat_ok_ms.load();
    body["last_heartbeat"] =
        hb == 0 ? json::value(nullptr) : json::value(observation::formatRfc3339Millis(hb * 1000));
    body["observation_queue"] = reporter->depth();
    return http::Response::json(all_up ? 200 : 503, json::serialize(body));
  }
};

Agent::Agent(AgentConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Agent::~Agent() { stop(); }

Status Agent::start() {
  Impl& m = *impl_;
  auto rc = m.makeClient(std::chrono::milliseconds(10'000));
  if (!rc) return rc.status();
  m.reporter_client = std::move(*rc);
  auto ec = m.makeClient(std::chrono::milliseconds(10'000));
  if (!ec) return ec.status();
  m.event_client = std::move(*ec);
  m.reporter =
      std::make_unique<Reporter>(m.config, [&m](const std::string& body) -> Result<unsigned> {
        auto res = m.reporter_client->send(m.request("POST", "/v1/observations", body));
        if (!res) return res.status();
        if (res->status >= 300) {
          spdlog::warn("observations: HTTP {} {}", res->status, res->body.substr(0, 300));
        }
        return res->status;
      });
  m.snooper = std::make_unique<Snooper>(m.config, *m.reporter);
  m.registerMetrics();
  if (!m.config.listen.empty()) {
    http::Router router;
    NL_RETURN_IF_ERROR(router.add("GET", "/metrics", http::metricsHandler(m.registry)));
    NL_RETURN_IF_ERROR(router.add("GET", "/healthz",
                                  [&m](http::Request&, http::Responder res) { res(m.health()); }));
    http::ServerOptions opts;
    opts.listen = m.config.listen;
    opts.ioThreads = 1;
    opts.metrics = &m.registry;
    auto server = http::Server::start(opts, std::move(router));
    if (!server) return server.status();
    m.server = std::move(*server);
  }
  m.reporter->start();
  m.snooper->start();
  NL_RETURN_IF_ERROR(m.startEnforcer());
  m.threads.emplace_back([&m] { m.eventLoop(); });
  m.threads.emplace_back([&m] { m.heartbeatLoop(); });
  for (int i = 0; i < m.config.probe_workers; ++i) m.threads.emplace_back([&m] { m.worker(); });
  for (const auto& h : m.snooper->health()) {
    if (h.up) {
      spdlog::info("interface {}: sending; snooping {} port(s)", h.name, h.ports.size());
    } else {
      spdlog::warn("interface {}: {} (retrying every {} ms)", h.name, h.error,
                   m.config.port_refresh.count());
    }
  }
  return Status::ok();
}

void Agent::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopping.exchange(true)) return;
  }
  m.jobs_cv.notify_all();
  m.stop_cv.notify_all();
  if (m.event_client) m.event_client->abortStream();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  if (m.enforcer) m.enforcer->stop();
  if (m.snooper) m.snooper->stop();
  if (m.reporter) m.reporter->stop();
  if (m.server) m.server->stop(std::chrono::milliseconds(500));
}

std::uint16_t Agent::metricsPort() const { return impl_->server ? impl_->server->port() : 0; }

}  // namespace netledger::agent
