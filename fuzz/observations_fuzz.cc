// The observations body parser and the engine's rules on whatever it accepts: never a crash,
// errors always name a field, and never two unresolved conflicts of one kind for one subject.
#include <cstdint>
#include <set>
#include <string>
#include <tuple>

#include "engine/engine.h"
#include "engine/ledger_adapter.h"
#include "fuzz_check.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace {

using namespace netledger;

struct World {
  FakeClock clock;
  store::MemoryStore store;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<engine::LedgerAdapter> engine_ledger;
  std::unique_ptr<engine::Engine> engine;
  ledger::Actor admin{"fuzz", ledger::Role::kAdmin, {}};

  World() {
    ledger = std::make_unique<ledger::Ledger>(store, clock);
    FUZZ_CHECK(ledger->open().isOk());
    ledger::PoolCreate p;
    p.record.name = "lab";
    p.record.cidrs = {addr::Prefix::parse("192.0.2.0/28").value()};
    p.record.gateway = addr::IpAddress::parse("192.0.2.1").value();
    FUZZ_CHECK(ledger->createPool(admin, p).isOk());
    ledger::AllocateRequest r;
    r.instance = "vm";
    r.pools = {"lab"};
    r.mac = addr::Mac::parse("52:54:00:00:00:01").value();
    r.host = "node-1";
    FUZZ_CHECK(ledger->allocate(admin, r).isOk());
    engine::EngineOptions o;
    o.policies[engine::ConflictKind::kDuplicateIp] = engine::Policy::kQuarantineAndReassign;
    o.policies[engine::ConflictKind::kMacDrift] = engine::Policy::kRecordMigration;
    engine_ledger = std::make_unique<engine::LedgerAdapter>(*ledger);
    engine = std::make_unique<engine::Engine>(*engine_ledger, clock, o);
    FUZZ_CHECK(engine->open().isOk());
  }
};

World& world() {
  static World* w = new World();  // leaked on purpose
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  World& w = world();
  auto now = w.engine->now();
  auto parsed = engine::observationsFromJson(body, now, 10'000);
  if (!parsed) {
    FUZZ_CHECK(!parsed.status().message().empty());
    FUZZ_CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    return 0;
  }
  w.engine->process(*parsed);
  w.clock.advance(std::chrono::milliseconds(size % 5000));
  w.engine->tick();
  auto page = w.engine->list({}, "", 100'000);
  FUZZ_CHECK(page.isOk());
  std::set<std::tuple<std::string, std::string, std::string>> unresolved;
  for (const auto& c : page->items) {
    if (c.status == engine::ConflictStatus::kResolved) continue;
    auto key = std::make_tuple(std::string(engine::conflictKindName(c.kind)), c.network, c.subject);
    FUZZ_CHECK(unresolved.insert(key).second);
  }
  return 0;
}
