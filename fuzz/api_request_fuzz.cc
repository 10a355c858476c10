// Drives the whole REST API in memory: the real router and handlers over a Ledger on the
// memory: store. Input: a method byte, the request target up to '\n', then the body. Whatever
// the input, the answer must arrive, never be a 5xx, and carry a problem body when it is an
// error; ledger invariants must hold afterwards.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include <boost/json.hpp>

#include "engine/ledger_adapter.h"
#include "fuzz_check.h"
#include "http/message.h"
#include "http/problem.h"
#include "http/router.h"
#include "ledger/ledger.h"
#include "metrics/registry.h"
#include "server/api/api.h"
#include "server/events/activity_rates.h"
#include "server/events/event_hub.h"
#include "server/probe/probe_coordinator.h"
#include "server/scans/scan_service.h"
#include "store/register.h"
#include "webhooks/dispatcher.h"

using namespace netledger;

namespace {

struct World {
  FakeClock clock;
  std::unique_ptr<ledger::Store> store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<engine::LedgerAdapter> engine_ledger;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<server::EventHub> hub;
  std::unique_ptr<webhooks::Dispatcher> dispatcher;
  std::unique_ptr<server::ProbeLedgerAdapter> probe_ledger;
  std::unique_ptr<server::ProbeCoordinator> probes;
  std::unique_ptr<server::ScanService> scans;
  server::ActivityRates rates{0};
  metrics::Registry metrics;
  std::atomic<bool> ready{true};
  std::unique_ptr<server::ApiContext> ctx;
  http::Router router;

  World() {
    store::registerBuiltinStores();
    store = ledger::openStore("memory:").value();
    ledger = std::make_unique<ledger::Ledger>(*store, clock);
    FUZZ_CHECK(ledger->open().isOk());
    FUZZ_CHECK(ledger->bootstrapAdminToken(std::string("fuzz-admin")).isOk());
    // The engine without its worker: observations are queued (bounded), conflicts listed.
    engine::EngineOptions engine_options;
    engine_options.queue_max = 10'000;
    engine_ledger = std::make_unique<engine::LedgerAdapter>(*ledger);
    engine = std::make_unique<engine::Engine>(*engine_ledger, clock, engine_options);
    FUZZ_CHECK(engine->open().isOk());
    hub = std::make_unique<server::EventHub>(*ledger, ledger->lastEventSeq());
    // Never started: subscriptions are recorded, nothing is ever sent anywhere.
    dispatcher = std::make_unique<webhooks::Dispatcher>();
    // Probed allocations answer at once (202, reserved): a request must never wait here.
    server::ProbeOptions probe_options;
    probe_options.max_wait = std::chrono::milliseconds(0);
    probe_ledger = std::make_unique<server::ProbeLedgerAdapter>(*ledger);
    probes = std::make_unique<server::ProbeCoordinator>(*probe_ledger, engine.get(), clock,
                                                        probe_options);
    scans = std::make_unique<server::ScanService>(*ledger, engine.get(), clock);
    ctx = std::make_unique<server::ApiContext>(
        server::ApiContext{*ledger, metrics, ready, "{\"openapi\":\"3.0.3\"}", engine.get(),
                           hub.get(), dispatcher.get(), probes.get(), scans.get(), &rates, &clock});
    FUZZ_CHECK(server::loadWebhooks(*ctx).isOk());
    FUZZ_CHECK(server::registerApi(router, *ctx).isOk());
    // Something to act on: a pool, a MAC pool and a binding.
    call("POST", "/v1/pools", R"({"name":"p","cidr":"192.0.2.0/28","gateway":"192.0.2.1"})");
    call("POST", "/v1/pools", R"({"name":"v6","cidr":"2001:db8::/120"})");
    call("POST", "/v1/mac-pools", R"({"name":"m","prefix":"02:00:00:00:00:00/40"})");
    call("POST", "/v1/bindings", R"({"instance":"seed","pools":["p"],"mac_pool":"m"})");
  }

  http::Response call(const std::string& method, const std::string& target, std::string body,
                      bool authenticated = true) {
    http::Request req;
    req.method = method;
    req.target = target;
    if (!http::parseTarget(target, req).isOk()) {
      // The server answers these itself (400 before routing); server_test covers that.
      return http::problem(400, "invalid_argument", "malformed request target");
    }
    req.body = std::move(body);
    if (authenticated) req.headers.set("Authorization", "Bearer fuzz-admin");
    std::mutex mu;
    std::condition_variable cv;
    std::optional<http::Response> got;
    router.handle(req, http::Responder::fromCallback([&](http::Response r) {
                    std::lock_guard lock(mu);
                    got = std::move(r);
                    cv.notify_all();
                  }));
    std::unique_lock lock(mu);
    bool answered = cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.has_value(); });
    FUZZ_CHECK(answered);  // a request must never hang
    return std::move(*got);
  }
};

World& world() {
  static World* w = new World();  // leaked on purpose: destruction order at exit is irrelevant
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const char* kMethods[] = {"GET", "POST", "PATCH", "DELETE", "PUT"};
  if (size < 2) return 0;
  std::string method = kMethods[data[0] % 5];
  bool authenticated = (data[0] & 0x80) == 0;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto nl = rest.find('\n');
  std::string target = rest.substr(0, nl);
  std::string body = nl == std::string::npos ? std::string() : rest.substr(nl + 1);
  // Origin-form targets, and absolute-form ones ("http://host/v1/pools") as RFC 9112 allows.
  if (target.empty() || (target[0] != '/' && target.rfind("http", 0) != 0)) target = "/" + target;
  // Keep the fuzzer away from snapshots (file I/O per run, not a parser).
  if (target.find("/v1/snapshot") != std::string::npos) return 0;

  http::Response r = world().call(method, target, body, authenticated);
  // Whatever was accepted goes through the engine's rules too (they must not crash either).
  world().engine->processQueued();
  world().engine->tick();
  FUZZ_CHECK(r.status >= 200 && r.status < 500);
  if (r.status >= 400) {
    FUZZ_CHECK(r.contentType == "application/problem+json");
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    FUZZ_CHECK(!ec && v.is_object() && v.as_object().contains("code"));
  }
  // A heat map always has the cells it claims, within the asked bound, and fill only for blocks.
  if (r.status == 200 && method == "GET" && target.rfind("/v1/pools/", 0) == 0 &&
      target.find("/map") != std::string::npos) {
    auto map = boost::json::parse(r.body).as_object();
    std::size_t cells = 0;
    for (const auto& b : map.at("blocks").as_array()) {
      const auto& block = b.as_object();
      const auto& text = block.at("cells").as_string();
      cells += text.size();
      FUZZ_CHECK(text.find_first_not_of(".upqrc-") == boost::json::string::npos);
      if (!block.at("fill").is_null()) {
        FUZZ_CHECK(block.at("fill").as_string().size() == text.size());
      }
    }
    FUZZ_CHECK(cells == map.at("cells_total").to_number<std::size_t>());
    FUZZ_CHECK(cells <= 262144);
  }
  // Invariant: the seed pool's counts always add up.
  auto pool = world().ledger->getPool(ledger::Actor::system("fuzz"), "p");
  if (pool) {
    const auto& c = pool->counts;
    FUZZ_CHECK(c.free + c.used + c.quarantined == c.allocatable);
  }
  return 0;
}
