// The consistency engine over a real Ledger (memory: store) with a fake clock. The tests drive
// the worker's steps by hand: process(batch) for observations, tick() for the periodic checks,
// and the FakeClock for windows, quiet periods, leases and quarantine. Nothing is mocked.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include <boost/json.hpp>

#include "addr/addr_test_util.h"
#include "engine/ledger_adapter.h"
#include "ledger/codec.h"
#include "store/memory/memory_store.h"

namespace netledger::engine {
namespace {

namespace json = boost::json;
using addr::IpAddress;
using addr::Mac;
using addr::Prefix;
using ledger::Actor;
using ledger::AllocateRequest;
using ledger::BindingRecord;
using ledger::EventRecord;
using ledger::Ledger;
using ledger::PoolCreate;
using ledger::PoolView;
using ledger::Role;
using std::chrono::milliseconds;

using ::netledger::addr::testing_util::ip;
using ::netledger::addr::testing_util::mac;

constexpr const char* kM1 = "52:54:00:00:00:01";
constexpr const char* kM2 = "52:54:00:00:00:02";
constexpr const char* kM3 = "52:54:00:00:00:03";
constexpr const char* kM4 = "52:54:00:00:00:04";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { openAll(); }
  void TearDown() override { closeAll(); }

  void openAll() {
    ledger_ = std::make_unique<Ledger>(store_, clock_);
    ASSERT_TRUE(ledger_->open().isOk());
    port_ = std::make_unique<LedgerAdapter>(*ledger_);
    startEngine();
  }
  void startEngine() {
    engine_ = std::make_unique<Engine>(*port_, clock_, options_);
    Status s = engine_->open();
    ASSERT_TRUE(s.isOk()) << s.toString();
  }
  void closeAll() {
    engine_.reset();  // stop() writes back the counters of open conflicts
    if (ledger_) ledger_->close();
    port_.reset();
    ledger_.reset();
  }
  // A new ledger and engine over the same store: what a restart sees.
  void reopen() {
    closeAll();
    openAll();
  }
  // A fresh engine (same ledger) with other thresholds.
  void configure(EngineOptions options) {
    options_ = std::move(options);
    engine_.reset();
    startEngine();
  }

  Millis now() const {
    return std::chrono::duration_cast<milliseconds>(clock_.now().time_since_epoch()).count();
  }
  void advance(Millis ms) { clock_.advance(milliseconds(ms)); }

  // An ARP sighting at the fake clock's now; `address` nullptr for a MAC seen without one.
  Observation obs(const char* address, const char* m, std::string host = "",
                  std::string network = "default") {
    Observation o;
    if (address != nullptr) o.ip = ip(address);
    o.mac = mac(m);
    o.host = std::move(host);
    o.network = std::move(network);
    o.source = Source::kArp;
    o.kind = FrameKind::kArpReply;
    o.time = now();
    return o;
  }
  void feed(Observation o) { engine_->process({std::move(o)}); }
  void feed(const char* address, const char* m, std::string host = "",
            std::string network = "default") {
    feed(obs(address, m, std::move(host), std::move(network)));
  }

  std::vector<Conflict> conflicts(const ConflictFilter& filter = {}) {
    auto page = engine_->list(filter, "", 1'000'000);
    EXPECT_TRUE(page.isOk()) << page.status().toString();
    return page.isOk() ? page->items : std::vector<Conflict>{};
  }
  std::vector<Conflict> ofKind(ConflictKind kind) {
    ConflictFilter f;
    f.kind = kind;
    return conflicts(f);
  }
  std::vector<Conflict> unresolvedOf(ConflictKind kind) {
    auto all = ofKind(kind);
    std::erase_if(all, [](const Conflict& c) { return c.status == ConflictStatus::kResolved; });
    return all;
  }
  Conflict current(const Conflict& c) {
    auto got = engine_->get(c.id);
    EXPECT_TRUE(got.isOk()) << got.status().toString();
    return got.isOk() ? *got : Conflict{};
  }

  template <typename T>
  T durable(Result<ledger::Applied<T>> r) {
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    if (!r.isOk()) return T{};
    EXPECT_TRUE(ledger_->waitDurable(r->ticket).isOk());
    return std::move(r->value);
  }
  PoolCreate poolSpec(const char* name, const char* cidr) {
    PoolCreate c;
    c.record.name = name;
    c.record.cidrs = {Prefix::parse(cidr).value()};
    return c;
  }
  PoolView makePool(PoolCreate create) {
    return durable(ledger_->createPool(admin_, std::move(create)));
  }
  PoolView makePool(const char* name, const char* cidr) { return makePool(poolSpec(name, cidr)); }
  AllocateRequest req(std::string instance, const char* m, std::string host = "",
                      std::string pool = "v4") {
    AllocateRequest r;
    r.instance = std::move(instance);
    r.pools = {std::move(pool)};
    r.mac = mac(m);
    r.host = std::move(host);
    return r;
  }
  BindingRecord allocate(const AllocateRequest& r) { return durable(ledger_->allocate(op_, r)); }
  BindingRecord binding(std::uint64_t id) {
    auto b = ledger_->getBinding(admin_, id);
    EXPECT_TRUE(b.isOk()) << b.status().toString();
    return b.isOk() ? *b : BindingRecord{};
  }
  static std::string ipOf(const BindingRecord& b) {
    return b.addresses.empty() ? std::string() : b.addresses.front().ip.toString();
  }

  // Waits until every write made so far (the engine's included: tickets are ordered) is in the
  // store, where audit() reads.
  void settle() {
    auto put = ledger_->putDocument(admin_, {"test", "settle", std::to_string(++settles_)}, "", "");
    ASSERT_TRUE(put.isOk());
    ASSERT_TRUE(ledger_->waitDurable(put->ticket).isOk());
  }
  std::vector<EventRecord> events(const std::string& op) {
    settle();
    ledger::EventQuery q;
    q.op = op;
    q.limit = 10'000;
    auto r = ledger_->audit(q);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : std::vector<EventRecord>{};
  }

  FakeClock clock_;
  store::MemoryStore store_;
  EngineOptions options_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<LedgerAdapter> port_;  // the engine's seam over the real ledger
  std::unique_ptr<Engine> engine_;
  int settles_ = 0;
  Actor admin_ = Actor{"root", Role::kAdmin, {}};
  Actor op_ = Actor{"ops", Role::kOperator, {}};
  Actor alice_ = Actor{"alice", Role::kOperator, {}};
};

// ---------------------------------------------------------------------------------------------
// duplicate_ip

TEST_F(EngineTest, DuplicateIpWhenTwoMacsClaimOneAddressWithinTheWindow) {
  const Millis t0 = now();
  feed("192.0.2.10", kM1, "", "lab");  // "lab" has no pools: nothing but the duplicate applies
  EXPECT_TRUE(conflicts().empty());
  advance(5'000);
  feed("192.0.2.10", kM2, "", "lab");
  auto found = conflicts();
  ASSERT_EQ(found.size(), 1u);
  const Conflict& c = found[0];
  EXPECT_EQ(c.kind, ConflictKind::kDuplicateIp);
  EXPECT_EQ(c.severity, Severity::kCritical);
  EXPECT_EQ(c.status, ConflictStatus::kOpen);
  EXPECT_EQ(c.network, "lab");
  EXPECT_EQ(c.subject, "ip:192.0.2.10");
  EXPECT_EQ(c.ip, "192.0.2.10");
  EXPECT_EQ(c.macs, (std::vector<std::string>{kM1, kM2}));
  EXPECT_EQ(c.count, 1u);
  EXPECT_EQ(c.first_seen, t0 + 5'000);
  ASSERT_EQ(c.evidence.size(), 1u);
  EXPECT_EQ(c.evidence[0].as_object().at("mac").as_string(), kM2);
  EXPECT_EQ(c.policy, Policy::kAlert);

  // A third station joins the same conflict.
  advance(1'000);
  feed("192.0.2.10", kM3, "", "lab");
  found = conflicts();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].count, 2u);
  EXPECT_EQ(found[0].macs.size(), 3u);
  EXPECT_EQ(engine_->stats().opened, 1u);
}

// What another replica changed (Ledger::setDocumentListener -> documentsChanged): the stored
// version replaces the engine's, and after a reload only what the ledger holds is left.
TEST_F(EngineTest, ConflictsAndPoliciesChangedElsewhereReplaceWhatTheEngineHeld) {
  feed("192.0.2.10", kM1, "", "lab");
  feed("192.0.2.10", kM2, "", "lab");
  ASSERT_EQ(conflicts().size(), 1u);
  Conflict theirs = conflicts()[0];
  theirs.id = 40;
  theirs.status = ConflictStatus::kAcknowledged;
  ledger::Ledger::DocumentChanges changes;
  changes.put.push_back({"conflict", "40", json::serialize(toJson(theirs)), 3, 0});
  changes.put.push_back({"policy", "duplicate_ip", "none", 1, 0});
  engine_->documentsChanged(changes);
  engine_->processQueued();
  ASSERT_EQ(conflicts().size(), 2u);
  EXPECT_EQ(current(theirs).status, ConflictStatus::kAcknowledged);
  EXPECT_EQ(engine_->policies().at(ConflictKind::kDuplicateIp), Policy::kNone);
  // The older of two unresolved conflicts of one subject takes the new evidence.
  feed("192.0.2.10", kM3, "", "lab");
  EXPECT_EQ(current(conflicts()[1]).count, 2u);  // newest first: [1] is the engine's own
  // A conflict opened here after that takes an id above the one it learned of.
  feed("192.0.2.11", kM1, "", "lab");
  feed("192.0.2.11", kM2, "", "lab");
  EXPECT_EQ(conflicts()[0].id, 41u);

  ledger::Ledger::DocumentChanges reload;
  reload.full = true;
  reload.put.push_back({"conflict", "40", json::serialize(toJson(theirs)), 3, 0});
  engine_->documentsChanged(reload);
  engine_->processQueued();
  ASSERT_EQ(conflicts().size(), 1u);
  EXPECT_EQ(conflicts()[0].id, 40u);
  EXPECT_EQ(engine_->policies().at(ConflictKind::kDuplicateIp), Policy::kAlert);  // the option's

  ledger::Ledger::DocumentChanges gone;
  gone.deleted.emplace_back("conflict", "40");
  engine_->documentsChanged(gone);
  engine_->processQueued();
  EXPECT_TRUE(conflicts().empty());
}

// A change stored by someone else (another replica's resolution) that this engine has not yet
// taken in is never overwritten by its older copy: the write is refused and the engine reads
// the stored one.
TEST_F(EngineTest, AnOlderCopyNeverOverwritesAChangeStoredElsewhere) {
  // Resolves the stored copy of `c` behind the engine's back, as another replica would.
  auto resolveElsewhere = [&](Conflict c, const std::string& by) {
    c.status = ConflictStatus::kResolved;
    c.resolved_by = by;
    c.resolved_at = now();
    durable(ledger_->putDocument(
        alice_, {"conflict", std::to_string(c.id), json::serialize(toJson(c)), 0, 0},
        "conflict.resolved", "conflict:" + std::to_string(c.id)));
  };
  feed("192.0.2.10", kM1, "", "lab");
  feed("192.0.2.10", kM2, "", "lab");
  ASSERT_EQ(conflicts().size(), 1u);
  const Conflict first = conflicts()[0];
  resolveElsewhere(first, "bob");
  // Acknowledged here on the old copy: refused (run it again), and the stored copy read.
  auto ack = engine_->acknowledge(alice_, first.id, "");
  EXPECT_EQ(ack.status().code(), StatusCode::kAborted) << ack.status().toString();
  EXPECT_EQ(current(first).status, ConflictStatus::kResolved);
  EXPECT_EQ(current(first).resolved_by, "bob");
  EXPECT_TRUE(engine_->acknowledge(alice_, first.id, "").isOk());  // resolved: nothing to do

  // Evidence for an open conflict whose stored copy was resolved meanwhile: the engine's write
  // back at the tick is refused, and it reads the stored copy instead of overwriting it.
  feed("192.0.2.20", kM1, "", "lab");
  feed("192.0.2.20", kM2, "", "lab");
  const Conflict second = conflicts()[0];
  ASSERT_NE(second.id, first.id);
  resolveElsewhere(second, "carol");
  advance(1'000);
  feed("192.0.2.20", kM3, "", "lab");
  engine_->tick();
  engine_->tick();
  auto stored = ledger_->document("conflict", std::to_string(second.id));
  ASSERT_TRUE(stored.has_value());
  EXPECT_NE(stored->body.find("carol"), std::string::npos) << stored->body;
  EXPECT_EQ(current(second).status, ConflictStatus::kResolved);
  EXPECT_EQ(current(second).resolved_by, "carol");
}

TEST_F(EngineTest, DuplicateIpNearMisses) {
  // The same MAC again and again is one station.
  for (int i = 0; i < 5; ++i) {
    feed("192.0.2.10", kM1, "", "lab");
    advance(1'000);
  }
  // Two MACs, but further apart than the window: an address that changed hands.
  advance(options_.duplicate_window_ms + 1);
  feed("192.0.2.10", kM2, "", "lab");
  // One address in two networks is two addresses.
  feed("192.0.2.11", kM3, "", "lab");
  feed("192.0.2.11", kM4, "", "lab-b");
  EXPECT_TRUE(ofKind(ConflictKind::kDuplicateIp).empty());
  // ...and the near miss was close: within the window it is a duplicate.
  advance(options_.duplicate_window_ms - 1);
  feed("192.0.2.10", kM1, "", "lab");
  EXPECT_EQ(ofKind(ConflictKind::kDuplicateIp).size(), 1u);
}

TEST_F(EngineTest, ProbeMeetingAnAddressInUseIsADuplicateAProbeAloneIsNot) {
  auto probe = [&](const char* address, const char* m, FrameKind kind) {
    Observation o = obs(address, m, "", "lab");
    o.kind = kind;
    return o;
  };
  feed(probe("192.0.2.20", kM1, FrameKind::kArpProbe));  // nobody uses it yet
  feed("192.0.2.20", kM2, "", "lab");                    // the probe claimed nothing
  EXPECT_TRUE(conflicts().empty());
  feed(probe("192.0.2.20", kM3, FrameKind::kArpProbe));
  auto dup = ofKind(ConflictKind::kDuplicateIp);
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].macs, (std::vector<std::string>{kM2, kM3}));
  EXPECT_NE(dup[0].message.find("probe"), std::string::npos) << dup[0].message;

  // IPv6: DAD for an address a neighbor advertises.
  Observation na = obs("2001:db8::5", kM1, "", "lab");
  na.kind = FrameKind::kNeighborAdvertisement;
  feed(na);
  feed(probe("2001:db8::5", kM4, FrameKind::kDadProbe));
  EXPECT_EQ(ofKind(ConflictKind::kDuplicateIp).size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// binding_mismatch, mac_drift, mac_flapping

TEST_F(EngineTest, BindingMismatchWhenABoundAddressIsSeenWithAnotherMac) {
  makePool("v4", "192.0.2.0/24");
  auto b = allocate(req("vm-1", kM1, "node-a"));
  const std::string x = ipOf(b);
  Observation probe = obs(x.c_str(), kM2);
  probe.kind = FrameKind::kArpProbe;  // asking is not claiming
  feed(probe);
  feed(x.c_str(), kM1, "node-a");  // the holder itself
  EXPECT_TRUE(conflicts().empty());
  // (A probe for an address in use is a duplicate_ip, but still no mismatch: it claims nothing.)
  feed(probe);
  EXPECT_TRUE(ofKind(ConflictKind::kBindingMismatch).empty());
  EXPECT_EQ(ofKind(ConflictKind::kDuplicateIp).size(), 1u);

  feed(x.c_str(), kM2);
  auto found = ofKind(ConflictKind::kBindingMismatch);
  ASSERT_EQ(found.size(), 1u);
  const Conflict& c = found[0];
  EXPECT_EQ(c.subject, "ip:" + x);
  EXPECT_EQ(c.binding_id, b.id);
  EXPECT_EQ(c.mac, kM2);
  EXPECT_EQ(c.pool, "v4");
  EXPECT_EQ(c.severity, Severity::kHigh);
  EXPECT_EQ(c.details.at("bound_mac").as_string(), kM1);
  EXPECT_EQ(c.details.at("seen_mac").as_string(), kM2);
}

TEST_F(EngineTest, MacDriftWhenABoundMacIsSeenFromAnotherHost) {
  makePool("v4", "192.0.2.0/24");
  auto b = allocate(req("vm-1", kM1, "node-a"));
  auto hostless = allocate(req("vm-2", kM2, ""));
  const std::string x = ipOf(b);
  feed(x.c_str(), kM1, "node-a");               // where the ledger says
  feed(nullptr, kM1, "");                       // no host: says nothing about where
  feed(ipOf(hostless).c_str(), kM2, "node-z");  // no recorded host: nothing to drift from
  EXPECT_TRUE(conflicts().empty());

  for (int i = 0; i < 3; ++i) {
    advance(1'000);
    feed(x.c_str(), kM1, "node-b");
  }
  auto found = ofKind(ConflictKind::kMacDrift);
  ASSERT_EQ(found.size(), 1u);
  const Conflict& c = found[0];
  EXPECT_EQ(c.subject, std::string("mac:") + kM1);
  EXPECT_EQ(c.binding_id, b.id);
  EXPECT_EQ(c.count, 3u);
  EXPECT_EQ(c.details.at("recorded_host").as_string(), "node-a");
  EXPECT_EQ(c.details.at("seen_host").as_string(), "node-b");
  EXPECT_EQ(c.details.at("confirmations").to_number<int>(), 3);
  // The default policy only alerts: the binding stays where it was recorded.
  EXPECT_EQ(c.policy, Policy::kAlert);
  EXPECT_TRUE(c.remediation.action.empty());
  EXPECT_EQ(binding(b.id).host, "node-a");
}

TEST_F(EngineTest, MacFlappingNeedsMoreThanNChangesWithinTheWindow) {
  ASSERT_EQ(options_.flap_changes, 3);
  const char* places[][2] = {{"h1", "e0"}, {"h2", "e0"}, {"h1", "e0"}, {"h2", "e0"}, {"h1", "e1"}};
  auto at = [&](const char* m, int i) {
    Observation o = obs(nullptr, m, places[i][0]);
    o.interface = places[i][1];
    return o;
  };
  // First sighting, then exactly N = 3 changes within 10 s: no flapping.
  for (int i = 0; i < 4; ++i) {
    feed(at(kM1, i));
    feed(at(kM1, i));  // the same place again is no change
    advance(1'000);
  }
  EXPECT_TRUE(ofKind(ConflictKind::kMacFlapping).empty());
  // The (N+1)th change is.
  feed(at(kM1, 4));
  auto found = ofKind(ConflictKind::kMacFlapping);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].subject, std::string("mac:") + kM1);
  EXPECT_EQ(found[0].details.at("changes").to_number<int>(), 4);
  EXPECT_EQ(found[0].details.at("from").as_string(), "h2|e0");
  EXPECT_EQ(found[0].details.at("to").as_string(), "h1|e1");
  EXPECT_EQ(found[0].severity, Severity::kHigh);

  // Many changes, but slower than N per window: a MAC that moves, not one that flaps.
  for (int i = 0; i < 12; ++i) {
    feed(at(kM2, i % 2));
    advance(4'000);
  }
  EXPECT_EQ(ofKind(ConflictKind::kMacFlapping).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// unknown_station

TEST_F(EngineTest, UnknownStationInsideAPoolOrAManagedNetworkOutsideEveryPool) {
  PoolCreate v4 = poolSpec("v4", "192.0.2.0/24");
  v4.record.gateway = ip("192.0.2.1");
  v4.record.reserved = {addr::IpRange::parse("192.0.2.240-192.0.2.250").value()};
  makePool(std::move(v4));
  PoolCreate peer = poolSpec("peer", "198.51.100.0/24");
  peer.record.external = true;
  peer.record.cluster = "east";
  makePool(std::move(peer));
  auto b = allocate(req("vm-1", kM1, "node-a"));

  feed(ipOf(b).c_str(), kM1, "node-a");       // handed out by the ledger
  feed("192.0.2.1", kM2);                     // the gateway
  feed("192.0.2.245", kM2);                   // reserved (e.g. a router pair, a DNS server)
  feed("169.254.3.4", kM3);                   // IPv4 link-local
  feed("fe80::1", kM3);                       // IPv6 link-local
  feed("198.51.100.9", kM4);                  // another control plane's station
  feed("0.0.0.0", kM4);                       // unspecified
  feed("203.0.113.5", kM4, "", "unmanaged");  // a network without pools
  Observation probe = obs("192.0.2.78", kM4);
  probe.kind = FrameKind::kArpProbe;
  feed(probe);  // asking for an address is not using it
  EXPECT_TRUE(conflicts().empty()) << json::serialize(toJson(conflicts().front()));

  feed("192.0.2.77", kM2);
  feed("203.0.113.5", kM3);
  auto found = ofKind(ConflictKind::kUnknownStation);
  ASSERT_EQ(found.size(), 2u);
  std::map<std::string, Conflict> by_ip;
  for (auto& c : found) by_ip[c.ip] = c;
  ASSERT_TRUE(by_ip.contains("192.0.2.77"));
  ASSERT_TRUE(by_ip.contains("203.0.113.5"));
  EXPECT_EQ(by_ip["192.0.2.77"].pool, "v4");
  EXPECT_EQ(by_ip["192.0.2.77"].mac, kM2);
  EXPECT_NE(by_ip["192.0.2.77"].message.find("never gave it out"), std::string::npos);
  EXPECT_EQ(by_ip["203.0.113.5"].pool, "");
  EXPECT_NE(by_ip["203.0.113.5"].message.find("outside every pool"), std::string::npos);
  EXPECT_EQ(by_ip["203.0.113.5"].severity, Severity::kWarning);
}

// The result must not depend on how the pools are named. Disabled: Ledger::lookupWire stops at
// the first managed pool containing the address (in name order), so an external pool named
// after it is never looked at and its station is reported as unknown. Enable once lookupWire
// checks every external pool.
TEST_F(EngineTest, ExternalStationInsideAManagedPoolRegardlessOfPoolNames) {
  makePool("a-managed", "192.0.2.0/24");
  PoolCreate peer = poolSpec("z-peer", "192.0.2.128/25");
  peer.record.external = true;
  peer.record.cluster = "east";
  makePool(std::move(peer));
  feed("192.0.2.200", kM1);
  EXPECT_TRUE(ofKind(ConflictKind::kUnknownStation).empty());
}

TEST_F(EngineTest, ExternalStationInsideAManagedPoolIsNotUnknown) {
  makePool("v4", "192.0.2.0/24");
  PoolCreate peer = poolSpec("a-peer", "192.0.2.128/25");  // sorts before "v4"
  peer.record.external = true;
  peer.record.cluster = "east";
  makePool(std::move(peer));
  feed("192.0.2.200", kM1);
  EXPECT_TRUE(ofKind(ConflictKind::kUnknownStation).empty());
  feed("192.0.2.20", kM1);  // the managed part is still watched
  EXPECT_EQ(ofKind(ConflictKind::kUnknownStation).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// stale_binding

TEST_F(EngineTest, StaleBindingWhenAnExpiredLeaseIsStillSeen) {
  makePool("v4", "192.0.2.0/24");
  auto r = req("vm-1", kM1, "node-a");
  r.ttl_s = 60;
  auto b = allocate(r);
  auto pinned_req = req("vm-2", kM2, "node-a");
  pinned_req.is_static = true;
  auto pinned = allocate(pinned_req);
  const std::string x = ipOf(b);

  advance(30'000);
  feed(x.c_str(), kM1, "node-a");  // within its lease
  EXPECT_TRUE(conflicts().empty());
  advance(31'000);
  feed(x.c_str(), kM1, "node-a");             // lease over, no renewal, still talking
  feed(ipOf(pinned).c_str(), kM2, "node-a");  // static: no lease to run out
  auto found = unresolvedOf(ConflictKind::kStaleBinding);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].subject, "binding:" + std::to_string(b.id));
  EXPECT_EQ(found[0].binding_id, b.id);
  EXPECT_EQ(found[0].severity, Severity::kInfo);
  EXPECT_NE(found[0].message.find("expired"), std::string::npos) << found[0].message;

  // The sweeper ends the binding; the station keeps the address. Still the same stale binding,
  // not a second conflict under another subject nor an unknown station.
  ASSERT_EQ(durable(ledger_->sweep()), 1u);
  advance(1'000);
  feed(x.c_str(), kM1, "node-a");
  found = unresolvedOf(ConflictKind::kStaleBinding);
  ASSERT_EQ(found.size(), 1u) << json::serialize(toJson(found.back()));
  EXPECT_EQ(found[0].binding_id, b.id);
  EXPECT_EQ(found[0].count, 2u);
  EXPECT_EQ(found[0].evidence.size(), 2u);
  EXPECT_TRUE(ofKind(ConflictKind::kUnknownStation).empty());
}

TEST_F(EngineTest, ReleasedAddressStillUsedByItsLastHolderIsStaleAStrangerIsUnknown) {
  makePool("v4", "192.0.2.0/24");
  auto b1 = allocate(req("vm-1", kM1));
  auto b2 = allocate(req("vm-2", kM2));
  durable(ledger_->release(op_, b1.id));
  durable(ledger_->release(op_, b2.id));

  feed(ipOf(b1).c_str(), kM1);  // the old holder kept using it
  feed(ipOf(b2).c_str(), kM3);  // somebody else took it
  auto stale = unresolvedOf(ConflictKind::kStaleBinding);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].binding_id, b1.id);
  EXPECT_EQ(stale[0].ip, ipOf(b1));
  EXPECT_EQ(stale[0].mac, kM1);
  EXPECT_EQ(stale[0].severity, Severity::kInfo);
  EXPECT_NE(stale[0].message.find("binding.release"), std::string::npos) << stale[0].message;
  auto unknown = ofKind(ConflictKind::kUnknownStation);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].ip, ipOf(b2));

  // More sightings add to the same conflict.
  advance(1'000);
  feed(ipOf(b1).c_str(), kM1);
  stale = unresolvedOf(ConflictKind::kStaleBinding);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].count, 2u);
  EXPECT_EQ(stale[0].evidence.size(), 2u);
  EXPECT_EQ(stale[0].last_seen, now());
  EXPECT_TRUE(ofKind(ConflictKind::kUnknownStation).size() == 1u);
}

TEST_F(EngineTest, StaleBindingWhenActiveButNeverSeenWhileItsNetworkIsWatched) {
  EngineOptions o;
  o.never_seen_ms = 3'600'000;
  configure(o);
  makePool("v4", "192.0.2.0/24");
  auto seen = allocate(req("vm-1", kM1));
  auto silent = allocate(req("vm-2", kM2));
  auto pinned_req = req("vm-3", kM3);
  pinned_req.is_static = true;
  allocate(pinned_req);  // static: never stale, seen or not

  advance(o.never_seen_ms + 120'000);
  engine_->tick();  // nobody watches any wire: silence means nothing
  feed("203.0.113.9", kM4, "", "lab");
  advance(61'000);
  engine_->tick();  // the wire of another network says nothing about this one
  EXPECT_TRUE(conflicts().empty());

  // Their network's wire has been watched for a minute only: too short to call anyone silent
  // (an engine that just started has seen nobody yet).
  const Millis watch_start = now();
  feed(ipOf(seen).c_str(), kM1);
  advance(61'000);
  engine_->tick();
  EXPECT_TRUE(conflicts().empty());
  // Watched for a whole never_seen period, and one binding never showed up.
  while (now() - watch_start < o.never_seen_ms) {
    EXPECT_TRUE(conflicts().empty()) << "after watching for " << now() - watch_start << " ms";
    advance(300'000);
    feed(ipOf(seen).c_str(), kM1);
    engine_->tick();
  }
  auto found = unresolvedOf(ConflictKind::kStaleBinding);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].binding_id, silent.id);
  EXPECT_EQ(found[0].subject, "binding:" + std::to_string(silent.id));
  EXPECT_EQ(found[0].ip, ipOf(silent));
  EXPECT_EQ(found[0].pool, "v4");
  EXPECT_NE(found[0].message.find("has not been seen"), std::string::npos);
  EXPECT_EQ(found[0].count, 1u);

  // Seen at last: no longer refreshed, so the quiet period resolves it.
  feed(ipOf(silent).c_str(), kM2);
  for (int i = 0; i < 6; ++i) {
    advance(61'000);
    feed(ipOf(seen).c_str(), kM1);
    engine_->tick();
  }
  EXPECT_TRUE(unresolvedOf(ConflictKind::kStaleBinding).empty());
}

// ---------------------------------------------------------------------------------------------
// forecast (the dashboard's pool view): the trend of every pool, below its threshold too

TEST_F(EngineTest, ForecastFollowsAPoolsGrowthBelowItsThreshold) {
  makePool("v4", "192.0.2.0/24");
  EXPECT_FALSE(engine_->forecast("v4").has_value());  // no samples yet
  engine_->tick();
  EXPECT_FALSE(engine_->forecast("v4").has_value());  // one sample: no trend
  // 10 allocations in 10 minutes: 60 per hour; 244 free at the end → ~4 h to exhaustion.
  for (int i = 0; i < 10; ++i) {
    advance(60'000);
    AllocateRequest r;
    r.instance = "vm-" + std::to_string(i);
    r.pools = {"v4"};
    allocate(r);
    engine_->tick();
  }
  auto f = engine_->forecast("v4");
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->allocations_per_hour, 60.0, 0.01);
  ASSERT_TRUE(f->exhaustion_in_s.has_value());
  EXPECT_NEAR(*f->exhaustion_in_s, 244.0 / (60.0 / 3600.0), 1.0);
  EXPECT_TRUE(ofKind(ConflictKind::kPoolUtilization).empty());  // 4 % used: nothing to report
  EXPECT_FALSE(engine_->forecast("nope").has_value());
}

// ---------------------------------------------------------------------------------------------
// pool_overlap

TEST_F(EngineTest, PoolOverlapWhenAnExternalPoolMeetsAManagedOne) {
  makePool("v4", "192.0.2.0/24");
  PoolCreate far = poolSpec("far", "198.51.100.0/24");  // external, overlapping nothing
  far.record.external = true;
  makePool(std::move(far));
  PoolCreate blue = poolSpec("blue-peer", "192.0.2.0/25");  // another network
  blue.record.network = "blue";
  blue.record.external = true;
  makePool(std::move(blue));
  engine_->tick();
  EXPECT_TRUE(conflicts().empty());

  PoolCreate peer = poolSpec("peer", "192.0.2.128/25");
  peer.record.external = true;
  peer.record.cluster = "east";
  makePool(std::move(peer));
  engine_->tick();
  engine_->tick();  // still one conflict, not one per tick
  auto found = ofKind(ConflictKind::kPoolOverlap);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].subject, "pools:peer,v4");
  EXPECT_EQ(found[0].severity, Severity::kHigh);
  const json::array& pools = found[0].details.at("pools").as_array();
  EXPECT_EQ((std::set<std::string>{std::string(pools.at(0).as_string()),
                                   std::string(pools.at(1).as_string())}),
            (std::set<std::string>{"v4", "peer"}));
  EXPECT_NE(found[0].message.find("192.0.2.128/25"), std::string::npos) << found[0].message;

  // Not a quiet-period matter: it lasts as long as the overlap.
  advance(options_.quiet_period_ms * 2);
  engine_->tick();
  EXPECT_EQ(current(found[0]).status, ConflictStatus::kOpen);
  durable(ledger_->deletePool(admin_, "peer"));
  engine_->tick();
  Conflict done = current(found[0]);
  EXPECT_EQ(done.status, ConflictStatus::kResolved);
  EXPECT_EQ(done.resolved_by, "engine");
  EXPECT_NE(done.resolution.find("no longer overlap"), std::string::npos);
}

TEST_F(EngineTest, PoolOverlapBetweenExternalPoolsOfDifferentClustersOnly) {
  auto external = [&](const char* name, const char* cidr, const char* cluster) {
    PoolCreate p = poolSpec(name, cidr);
    p.record.external = true;
    p.record.cluster = cluster;
    makePool(std::move(p));
  };
  external("ext-a", "198.51.100.0/24", "east");
  external("ext-c", "198.51.100.0/25", "east");  // one cluster's own pools: its business
  engine_->tick();
  EXPECT_TRUE(conflicts().empty());
  external("ext-b", "198.51.100.64/26", "west");
  engine_->tick();
  std::set<std::string> subjects;
  for (const auto& c : ofKind(ConflictKind::kPoolOverlap)) subjects.insert(c.subject);
  EXPECT_EQ(subjects, (std::set<std::string>{"pools:ext-a,ext-b", "pools:ext-b,ext-c"}));
}

TEST_F(EngineTest, CarvedPoolsAreNotAnOverlap) {
  PoolCreate dc = poolSpec("dc", "203.0.113.0/24");
  dc.record.cluster = "east";
  makePool(std::move(dc));
  PoolCreate rack;
  rack.record.name = "rack";
  rack.record.parent = "dc";
  rack.record.cluster = "west";
  rack.prefix_length = 26;
  makePool(std::move(rack));
  PoolCreate tor;
  tor.record.name = "tor";
  tor.record.parent = "rack";
  tor.record.cluster = "south";
  tor.prefix_length = 28;
  makePool(std::move(tor));
  engine_->tick();
  EXPECT_TRUE(ofKind(ConflictKind::kPoolOverlap).empty())
      << json::serialize(toJson(ofKind(ConflictKind::kPoolOverlap).front()));
}

// ---------------------------------------------------------------------------------------------
// pool_utilization

TEST_F(EngineTest, PoolUtilizationWithAnExhaustionForecastResolvesWhenUsageDrops) {
  PoolCreate small = poolSpec("small", "192.0.2.0/26");
  small.record.threshold = 0.5;
  small.record.quarantine_s = 0;  // released addresses are free at once
  makePool(std::move(small));
  constexpr int kPerTick = 4;
  constexpr Millis kTickMs = 60'000;
  std::vector<std::uint64_t> ids;
  engine_->tick();  // the first sample: empty
  std::optional<Conflict> raised;
  for (int round = 0; round < 20 && !raised; ++round) {
    for (int i = 0; i < kPerTick; ++i) {
      AllocateRequest r;
      r.instance = "vm-" + std::to_string(ids.size());
      r.pools = {"small"};
      ids.push_back(allocate(r).id);
    }
    advance(kTickMs);
    engine_->tick();
    auto view = ledger_->getPool(admin_, "small").value();
    auto found = ofKind(ConflictKind::kPoolUtilization);
    if (view.counts.utilization() < 0.5) {
      EXPECT_TRUE(found.empty()) << "raised below the threshold at " << ids.size();
      continue;
    }
    ASSERT_EQ(found.size(), 1u);
    raised = found[0];
    const double free = static_cast<double>(view.counts.free);
    const double rate = static_cast<double>(kPerTick) / (kTickMs / 1000.0);  // per second
    const json::object& d = raised->details;
    EXPECT_EQ(raised->subject, "pool:small");
    EXPECT_EQ(raised->pool, "small");
    EXPECT_NEAR(d.at("utilization").to_number<double>(), view.counts.utilization(), 1e-9);
    EXPECT_NEAR(d.at("threshold").to_number<double>(), 0.5, 1e-9);
    EXPECT_NEAR(d.at("used").to_number<double>(), static_cast<double>(ids.size()), 1e-9);
    EXPECT_NEAR(d.at("free").to_number<double>(), free, 1e-9);
    EXPECT_NEAR(d.at("allocations_per_hour").to_number<double>(), rate * 3600, 1e-6);
    ASSERT_TRUE(d.contains("exhaustion_in_s")) << json::serialize(d);
    EXPECT_NEAR(d.at("exhaustion_in_s").to_number<double>(), free / rate, 1e-6);
    auto at = ledger::parseTime(d.at("exhaustion_at").as_string());
    ASSERT_TRUE(at.isOk());
    EXPECT_NEAR(static_cast<double>(*at - now()), free / rate * 1000, 1.0);
    // Minutes from exhaustion at this pace: critical.
    EXPECT_EQ(raised->severity, Severity::kCritical);
    EXPECT_NE(raised->message.find("exhausted in about"), std::string::npos);
  }
  ASSERT_TRUE(raised.has_value()) << "never crossed the threshold";

  // A condition, not an event: silence does not resolve it, and ticks do not multiply it.
  advance(options_.quiet_period_ms + 1'000);
  engine_->tick();
  EXPECT_EQ(current(*raised).status, ConflictStatus::kOpen);
  EXPECT_EQ(ofKind(ConflictKind::kPoolUtilization).size(), 1u);

  // Releasing until under the threshold resolves it at the next tick.
  while (ledger_->getPool(admin_, "small")->counts.utilization() >= 0.5) {
    durable(ledger_->release(op_, ids.back()));
    ids.pop_back();
  }
  engine_->tick();
  Conflict done = current(*raised);
  EXPECT_EQ(done.status, ConflictStatus::kResolved);
  EXPECT_EQ(done.resolution, "utilization below the threshold");
  EXPECT_TRUE(unresolvedOf(ConflictKind::kPoolUtilization).empty());
}

// ---------------------------------------------------------------------------------------------
// Conflict lifecycle

TEST_F(EngineTest, OneOpenConflictPerKindAndSubjectWithBoundedEvidence) {
  EngineOptions o;
  o.evidence_max = 5;
  configure(o);
  makePool("v4", "192.0.2.0/24");
  auto b = allocate(req("vm-1", kM1));
  const Millis t0 = now();
  for (int i = 0; i < 12; ++i) {
    Observation x = obs(ipOf(b).c_str(), kM2);
    x.vlan = i;  // tells the sightings apart
    feed(x);
    advance(1'000);
  }
  auto found = ofKind(ConflictKind::kBindingMismatch);
  ASSERT_EQ(found.size(), 1u);
  const Conflict& c = found[0];
  EXPECT_EQ(c.count, 12u);
  EXPECT_EQ(c.first_seen, t0);
  EXPECT_EQ(c.last_seen, t0 + 11'000);
  ASSERT_EQ(c.evidence.size(), 5u);
  for (int i = 0; i < 5; ++i) {  // the newest five, oldest first
    EXPECT_EQ(c.evidence[i].at("vlan").to_number<int>(), 7 + i);
  }
  EXPECT_EQ(c.evidence[4].as_object().at("time").as_string(), ledger::formatTime(t0 + 11'000));

  // Another subject is another conflict.
  auto b2 = allocate(req("vm-2", kM3));
  feed(ipOf(b2).c_str(), kM2);
  EXPECT_EQ(ofKind(ConflictKind::kBindingMismatch).size(), 2u);
  EXPECT_EQ(engine_->stats().open_by_kind.at("binding_mismatch"), 2u);
}

TEST_F(EngineTest, AcknowledgeResolveAndNewEvidenceAfterResolve) {
  makePool("v4", "192.0.2.0/24");
  auto b = allocate(req("vm-1", kM1));
  const std::string x = ipOf(b);
  feed(x.c_str(), kM2);
  auto first = ofKind(ConflictKind::kBindingMismatch).at(0);

  advance(1'000);
  auto ack = engine_->acknowledge(alice_, first.id, "looking into it");
  ASSERT_TRUE(ack.isOk()) << ack.status().toString();
  EXPECT_TRUE(ack->created);
  EXPECT_EQ(ack->value.status, ConflictStatus::kAcknowledged);
  EXPECT_EQ(ack->value.acknowledged_by, "alice");
  EXPECT_EQ(ack->value.acknowledged_at, now());
  EXPECT_TRUE(ledger_->waitDurable(ack->ticket).isOk());
  auto again = engine_->acknowledge(alice_, first.id, "");
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again->created);  // idempotent

  // New evidence while acknowledged: the same conflict grows, still acknowledged.
  feed(x.c_str(), kM2);
  Conflict acked = current(first);
  EXPECT_EQ(acked.status, ConflictStatus::kAcknowledged);
  EXPECT_EQ(acked.count, 2u);
  EXPECT_EQ(ofKind(ConflictKind::kBindingMismatch).size(), 1u);

  auto resolved = engine_->resolve(alice_, first.id, "replaced the cable");
  ASSERT_TRUE(resolved.isOk());
  EXPECT_TRUE(resolved->created);
  EXPECT_EQ(resolved->value.status, ConflictStatus::kResolved);
  EXPECT_EQ(resolved->value.resolution, "replaced the cable");
  EXPECT_EQ(resolved->value.resolved_by, "alice");
  EXPECT_FALSE(engine_->resolve(alice_, first.id, "")->created);
  auto late_ack = engine_->acknowledge(alice_, first.id, "");
  ASSERT_TRUE(late_ack.isOk());
  EXPECT_FALSE(late_ack->created);
  EXPECT_EQ(late_ack->value.status, ConflictStatus::kResolved);

  // The same disagreement again is a new conflict; the resolved one stays as it was.
  advance(1'000);
  feed(x.c_str(), kM2);
  auto all = ofKind(ConflictKind::kBindingMismatch);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(all[0].id, first.id);
  EXPECT_EQ(all[0].status, ConflictStatus::kOpen);
  EXPECT_EQ(all[0].count, 1u);
  EXPECT_EQ(current(first).count, 2u);
  EXPECT_EQ(current(first).status, ConflictStatus::kResolved);
  ConflictFilter open_only;
  open_only.status = ConflictStatus::kOpen;
  ASSERT_EQ(conflicts(open_only).size(), 1u);
  EXPECT_EQ(conflicts(open_only)[0].id, all[0].id);

  // Who did what is in the audit log.
  auto acks = events("conflict.acknowledged");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].actor, "alice");
  EXPECT_EQ(acks[0].subject, "conflict:" + std::to_string(first.id));
  auto resolutions = events("conflict.resolved");
  ASSERT_EQ(resolutions.size(), 1u);
  EXPECT_EQ(resolutions[0].actor, "alice");

  EXPECT_EQ(engine_->get(9999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->acknowledge(alice_, 9999, "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->resolve(alice_, first.id, std::string(2000, 'x')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, QuietPeriodResolvesAutomatically) {
  EngineOptions o;
  o.quiet_period_ms = 60'000;
  configure(o);
  makePool("v4", "192.0.2.0/24");
  auto b1 = allocate(req("vm-1", kM1));
  auto b2 = allocate(req("vm-2", kM2));
  feed(ipOf(b1).c_str(), kM3);
  feed(ipOf(b2).c_str(), kM3);
  auto found = ofKind(ConflictKind::kBindingMismatch);
  ASSERT_EQ(found.size(), 2u);
  ASSERT_TRUE(engine_->acknowledge(alice_, found[1].id, "").isOk());  // acknowledged ones too

  advance(o.quiet_period_ms - 1);
  engine_->tick();
  EXPECT_EQ(unresolvedOf(ConflictKind::kBindingMismatch).size(), 2u);
  advance(2);
  engine_->tick();
  EXPECT_TRUE(unresolvedOf(ConflictKind::kBindingMismatch).empty());
  for (const auto& c : ofKind(ConflictKind::kBindingMismatch)) {
    EXPECT_EQ(c.resolved_by, "engine");
    EXPECT_EQ(c.resolved_at, now());
    EXPECT_NE(c.resolution.find("60 s"), std::string::npos) << c.resolution;
  }
  EXPECT_EQ(engine_->stats().resolved, 2u);
  auto events_resolved = events("conflict.resolved");
  ASSERT_EQ(events_resolved.size(), 2u);
  EXPECT_EQ(events_resolved[0].actor, "engine");
}

// Among replicas every engine holds every conflict: only the elected one settles them.
TEST_F(EngineTest, QuietPeriodsAreTheElectedReplicasToSettle) {
  EngineOptions o;
  o.quiet_period_ms = 60'000;
  configure(o);
  bool leading = false;
  engine_->setLeading([&] { return leading; });
  feed("192.0.2.10", kM1, "", "lab");
  feed("192.0.2.10", kM2, "", "lab");
  advance(o.quiet_period_ms + 1);
  engine_->tick();
  EXPECT_EQ(unresolvedOf(ConflictKind::kDuplicateIp).size(), 1u);
  leading = true;
  engine_->tick();
  EXPECT_TRUE(unresolvedOf(ConflictKind::kDuplicateIp).empty());
}

// ---------------------------------------------------------------------------------------------
// Remediation

TEST_F(EngineTest, QuarantineAndReassignMovesADynamicBindingAndQuarantinesTheAddress) {
  PoolCreate p = poolSpec("v4", "192.0.2.0/28");  // 14 usable
  p.record.quarantine_s = 120;
  makePool(std::move(p));
  auto ticket =
      engine_->setPolicies(admin_, {{ConflictKind::kDuplicateIp, Policy::kQuarantineAndReassign}});
  ASSERT_TRUE(ticket.isOk()) << ticket.status().toString();
  ASSERT_TRUE(ledger_->waitDurable(*ticket).isOk());
  auto b = allocate(req("vm-1", kM1, "node-a"));
  const std::string x = ipOf(b);

  feed(x.c_str(), kM1, "node-a");
  advance(1'000);
  feed(x.c_str(), kM2, "node-b");
  auto found = ofKind(ConflictKind::kDuplicateIp);
  ASSERT_EQ(found.size(), 1u);
  const Conflict& c = found[0];
  EXPECT_EQ(c.policy, Policy::kQuarantineAndReassign);
  EXPECT_EQ(c.binding_id, b.id);
  EXPECT_EQ(c.remediation.action, "quarantine_and_reassign");
  EXPECT_TRUE(c.remediation.ok) << c.remediation.result;
  EXPECT_EQ(c.remediation.at, now());

  auto moved = binding(b.id);
  ASSERT_EQ(moved.addresses.size(), 1u);
  const std::string fresh = ipOf(moved);
  EXPECT_NE(fresh, x);
  EXPECT_TRUE(Prefix::parse("192.0.2.0/28")->contains(moved.addresses[0].ip));
  EXPECT_EQ(moved.addresses[0].pool, "v4");
  EXPECT_EQ(c.details.at("reassigned_to").as_string(), fresh);
  EXPECT_NE(c.remediation.result.find(x + " to " + fresh), std::string::npos)
      << c.remediation.result;
  EXPECT_EQ(ledger_->holderOfAddress(admin_, moved.addresses[0].ip)->id, b.id);

  // The contested address is quarantined: neither asked for nor handed out until it ends.
  AllocateRequest want_x;
  want_x.instance = "vm-x";
  want_x.pools = {"v4"};
  want_x.address = ip(x);
  EXPECT_EQ(ledger_->allocate(op_, want_x).status().code(), StatusCode::kConflict);
  for (int i = 0; i < 12; ++i) {
    AllocateRequest r;
    r.instance = "filler-" + std::to_string(i);
    r.pools = {"v4"};
    EXPECT_NE(ipOf(allocate(r)), x);
  }
  AllocateRequest one_more;
  one_more.instance = "one-more";
  one_more.pools = {"v4"};
  EXPECT_EQ(ledger_->allocate(op_, one_more).status().code(), StatusCode::kPoolExhausted);
  advance(121'000);
  EXPECT_EQ(ipOf(allocate(want_x)), x);

  // Every step is audited as the engine's doing.
  auto reassigned = events("binding.reassign");
  ASSERT_EQ(reassigned.size(), 1u);
  EXPECT_EQ(reassigned[0].actor, "engine");
  EXPECT_EQ(reassigned[0].subject, "binding:" + std::to_string(b.id));
  auto opened = events("conflict.opened");
  ASSERT_GE(opened.size(), 1u);  // the duplicate, and the mismatch the second MAC also is
  for (const auto& e : opened) EXPECT_EQ(e.actor, "engine");
  EXPECT_TRUE(std::any_of(opened.begin(), opened.end(), [&](const EventRecord& e) {
    return e.subject == "conflict:" + std::to_string(c.id);
  }));
  auto remediated = events("conflict.remediated");
  ASSERT_EQ(remediated.size(), 1u);
  EXPECT_EQ(remediated[0].actor, "engine");
  EXPECT_EQ(remediated[0].subject, "conflict:" + std::to_string(c.id));
  EXPECT_EQ(engine_->stats().remediations, 1u);
}

TEST_F(EngineTest, QuarantineAndReassignOnlyAlertsForAStaticBinding) {
  makePool("v4", "192.0.2.0/24");
  ASSERT_TRUE(
      engine_->setPolicies(admin_, {{ConflictKind::kDuplicateIp, Policy::kQuarantineAndReassign}})
          .isOk());
  auto r = req("router", kM1, "node-a");
  r.is_static = true;
  auto b = allocate(r);
  const std::string x = ipOf(b);
  feed(x.c_str(), kM1, "node-a");
  feed(x.c_str(), kM2, "node-b");
  auto found = ofKind(ConflictKind::kDuplicateIp);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].remediation.action, "quarantine_and_reassign");
  EXPECT_FALSE(found[0].remediation.ok);
  EXPECT_NE(found[0].remediation.result.find("static"), std::string::npos)
      << found[0].remediation.result;
  EXPECT_NE(found[0].remediation.result.find("alert only"), std::string::npos);
  auto after = binding(b.id);
  EXPECT_EQ(after.addresses, b.addresses);
  EXPECT_EQ(after.version, b.version);
  EXPECT_TRUE(events("binding.reassign").empty());
  EXPECT_EQ(events("conflict.remediated").size(), 1u);
  EXPECT_EQ(engine_->stats().remediation_failures, 1u);
}

TEST_F(EngineTest, RecordMigrationAfterEnoughConfirmationsFromTheNewHost) {
  ASSERT_EQ(options_.drift_confirmations, 2);
  makePool("v4", "192.0.2.0/24");
  ASSERT_TRUE(
      engine_->setPolicies(admin_, {{ConflictKind::kMacDrift, Policy::kRecordMigration}}).isOk());
  auto b = allocate(req("vm-1", kM1, "node-a"));
  const std::string x = ipOf(b);

  feed(x.c_str(), kM1, "node-b");  // one sighting: not yet confirmed
  auto drift = ofKind(ConflictKind::kMacDrift);
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].policy, Policy::kRecordMigration);
  EXPECT_TRUE(drift[0].remediation.action.empty());
  EXPECT_EQ(binding(b.id).host, "node-a");
  advance(1'000);
  feed(x.c_str(), kM1, "node-c");  // a different host starts over
  EXPECT_EQ(binding(b.id).host, "node-a");
  EXPECT_EQ(current(drift[0]).details.at("confirmations").to_number<int>(), 1);
  EXPECT_TRUE(current(drift[0]).remediation.action.empty());

  advance(1'000);
  feed(x.c_str(), kM1, "node-c");  // confirmed: the VM lives on node-c now
  EXPECT_EQ(binding(b.id).host, "node-c");
  Conflict done = current(drift[0]);
  EXPECT_EQ(done.status, ConflictStatus::kResolved);
  EXPECT_EQ(done.resolved_by, "engine");
  EXPECT_EQ(done.resolution, "migration recorded");
  EXPECT_EQ(done.remediation.action, "record_migration");
  EXPECT_TRUE(done.remediation.ok) << done.remediation.result;
  EXPECT_NE(done.remediation.result.find("node-c"), std::string::npos);

  // From now on node-c is where it belongs.
  advance(1'000);
  feed(x.c_str(), kM1, "node-c");
  EXPECT_TRUE(unresolvedOf(ConflictKind::kMacDrift).empty());

  auto migrated = events("binding.migrate");
  ASSERT_EQ(migrated.size(), 1u);
  EXPECT_EQ(migrated[0].actor, "engine");
  EXPECT_EQ(migrated[0].subject, "binding:" + std::to_string(b.id));
  auto remediated = events("conflict.remediated");
  ASSERT_EQ(remediated.size(), 1u);
  EXPECT_EQ(remediated[0].actor, "engine");
  auto resolved = events("conflict.resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].actor, "engine");
}

// An agent reports in batches, often several sightings of one station in each: the migration is
// recorded once, not once per sighting after the confirmations were reached.
TEST_F(EngineTest, RecordMigrationOnceForABatchOfSightingsFromTheNewHost) {
  makePool("v4", "192.0.2.0/24");
  ASSERT_TRUE(
      engine_->setPolicies(admin_, {{ConflictKind::kMacDrift, Policy::kRecordMigration}}).isOk());
  auto b = allocate(req("vm-1", kM1, "node-a"));
  std::vector<Observation> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(obs(ipOf(b).c_str(), kM1, "node-b"));
  engine_->process(batch);
  EXPECT_EQ(binding(b.id).host, "node-b");
  auto drift = ofKind(ConflictKind::kMacDrift);
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].status, ConflictStatus::kResolved);
  EXPECT_EQ(events("binding.migrate").size(), 1u);
}

TEST_F(EngineTest, PolicyNoneAndAlertAreRecordedInTheConflict) {
  makePool("v4", "192.0.2.0/24");
  for (auto [kind, policy] : engine_->policies()) {
    EXPECT_EQ(policy, Policy::kAlert) << conflictKindName(kind);
  }
  EXPECT_EQ(engine_->policies().size(), std::size(kAllConflictKinds));
  auto b1 = allocate(req("vm-1", kM1));
  auto b2 = allocate(req("vm-2", kM2));
  feed(ipOf(b1).c_str(), kM3);
  auto t = engine_->setPolicies(alice_, {{ConflictKind::kBindingMismatch, Policy::kNone}});
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(engine_->policies().at(ConflictKind::kBindingMismatch), Policy::kNone);
  feed(ipOf(b2).c_str(), kM3);

  std::map<std::string, Conflict> by_ip;
  for (auto& c : ofKind(ConflictKind::kBindingMismatch)) by_ip[c.ip] = c;
  ASSERT_EQ(by_ip.size(), 2u);
  EXPECT_EQ(by_ip[ipOf(b1)].policy, Policy::kAlert);  // decided when it opened
  EXPECT_EQ(by_ip[ipOf(b2)].policy, Policy::kNone);
  EXPECT_EQ(toJson(by_ip[ipOf(b2)]).at("remediation").as_object().at("policy").as_string(), "none");
  for (auto& [_, c] : by_ip) EXPECT_TRUE(c.remediation.action.empty());

  auto updates = events("policy.update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].actor, "alice");
  EXPECT_EQ(updates[0].subject, "policy:binding_mismatch");
  EXPECT_EQ(updates[0].after, "none");
}

TEST_F(EngineTest, SetPoliciesRejectsARepairForTheWrongKindNamingIt) {
  auto bad = engine_->setPolicies(admin_, {{ConflictKind::kDuplicateIp, Policy::kRecordMigration}});
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("duplicate_ip"), std::string::npos)
      << bad.status().message();
  auto bad2 =
      engine_->setPolicies(admin_, {{ConflictKind::kMacDrift, Policy::kQuarantineAndReassign}});
  ASSERT_FALSE(bad2.isOk());
  EXPECT_NE(bad2.status().message().find("mac_drift"), std::string::npos);
  // All or nothing: a valid change next to an invalid one is not applied either.
  auto mixed =
      engine_->setPolicies(admin_, {{ConflictKind::kDuplicateIp, Policy::kQuarantineAndReassign},
                                    {ConflictKind::kPoolOverlap, Policy::kRecordMigration}});
  ASSERT_FALSE(mixed.isOk());
  EXPECT_NE(mixed.status().message().find("pool_overlap"), std::string::npos);
  EXPECT_EQ(engine_->policies().at(ConflictKind::kDuplicateIp), Policy::kAlert);
  EXPECT_TRUE(events("policy.update").empty());
}

// ---------------------------------------------------------------------------------------------
// Queries and the worker

TEST_F(EngineTest, ListPagesNewestFirstAndFilters) {
  makePool("v4", "192.0.2.0/24");
  std::vector<BindingRecord> bs;
  for (const char* m : {kM1, kM2, kM3}) {
    bs.push_back(allocate(req(std::string("vm-") + m, m)));
  }
  for (const auto& b : bs) feed(ipOf(b).c_str(), kM4);  // three mismatches
  feed("192.0.2.200", kM4);                             // an unknown station
  feed("192.0.2.200", kM1);                             // and a duplicate on it
  std::vector<std::uint64_t> ids;
  std::string cursor;
  do {
    auto page = engine_->list({}, cursor, 2);
    ASSERT_TRUE(page.isOk()) << page.status().toString();
    EXPECT_LE(page->items.size(), 2u);
    for (const auto& c : page->items) ids.push_back(c.id);
    cursor = page->next_cursor;
  } while (!cursor.empty() && ids.size() < 100);
  ASSERT_EQ(ids.size(), 5u);  // three mismatches, the unknown station, the duplicate
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), ids.size());

  ConflictFilter by_mac;
  by_mac.mac = kM1;  // named only among the duplicate's MACs
  auto with_m1 = conflicts(by_mac);
  ASSERT_EQ(with_m1.size(), 1u);
  EXPECT_EQ(with_m1[0].kind, ConflictKind::kDuplicateIp);
  by_mac.mac = kM4;  // the intruder is in all of them
  EXPECT_EQ(conflicts(by_mac).size(), 5u);
  ConflictFilter by_binding;
  by_binding.binding_id = bs[1].id;
  auto on_b1 = conflicts(by_binding);
  ASSERT_EQ(on_b1.size(), 1u);
  EXPECT_EQ(on_b1[0].ip, ipOf(bs[1]));
  ConflictFilter critical;
  critical.min_severity = Severity::kCritical;
  auto worst = conflicts(critical);
  ASSERT_EQ(worst.size(), 1u);
  EXPECT_EQ(worst[0].kind, ConflictKind::kDuplicateIp);

  auto bad = engine_->list({}, "12abc", 10);
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("cursor: ", 0), 0u) << bad.status().message();
  auto none = engine_->list({}, "", 0);
  ASSERT_FALSE(none.isOk());  // not a crash on an empty page
  EXPECT_EQ(none.status().message().rfind("limit: ", 0), 0u) << none.status().message();
}

TEST_F(EngineTest, SubmitRefusesBeyondTheQueueAndTheWorkerDrainsIt) {
  EngineOptions o;
  o.queue_max = 5;
  configure(o);
  std::vector<Observation> three(3, obs("192.0.2.10", kM1, "", "lab"));
  ASSERT_TRUE(engine_->submit(three).isOk());
  Status full = engine_->submit(three);  // 6 > 5: refused whole, nothing queued
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine_->stats().queued, 3u);
  EXPECT_EQ(engine_->stats().dropped, 3u);
  ASSERT_TRUE(engine_->submit({obs("192.0.2.10", kM2, "", "lab")}).isOk());
  EXPECT_TRUE(conflicts().empty());  // nothing runs without the worker

  engine_->start();
  engine_->drain();
  EngineStats s = engine_->stats();
  EXPECT_EQ(s.observations, 4u);
  EXPECT_EQ(s.batches, 2u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(ofKind(ConflictKind::kDuplicateIp).size(), 1u);
  engine_->stop();
  engine_->stop();  // idempotent
}

// ---------------------------------------------------------------------------------------------
// Persistence

TEST_F(EngineTest, ConflictsAndPoliciesSurviveAReopen) {
  makePool("v4", "192.0.2.0/24");
  ASSERT_TRUE(engine_
                  ->setPolicies(admin_, {{ConflictKind::kMacDrift, Policy::kRecordMigration},
                                         {ConflictKind::kUnknownStation, Policy::kNone}})
                  .isOk());
  auto b1 = allocate(req("vm-1", kM1));
  auto b2 = allocate(req("vm-2", kM2));
  auto b3 = allocate(req("vm-3", kM3));
  for (int i = 0; i < 3; ++i) {  // counters and evidence are written back, not evented
    feed(ipOf(b1).c_str(), kM4);
    advance(1'000);
  }
  feed(ipOf(b2).c_str(), kM4);
  feed(ipOf(b3).c_str(), kM4);
  auto before = ofKind(ConflictKind::kBindingMismatch);
  ASSERT_EQ(before.size(), 3u);
  std::map<std::string, Conflict> by_ip;
  for (auto& c : before) by_ip[c.ip] = c;
  ASSERT_TRUE(engine_->acknowledge(alice_, by_ip[ipOf(b2)].id, "").isOk());
  ASSERT_TRUE(engine_->resolve(alice_, by_ip[ipOf(b3)].id, "done").isOk());
  const auto snapshot = conflicts();

  reopen();
  auto after = conflicts();
  ASSERT_EQ(after.size(), snapshot.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(toJson(after[i]), toJson(snapshot[i])) << "conflict " << snapshot[i].id;
  }
  Conflict open = current(by_ip[ipOf(b1)]);
  EXPECT_EQ(open.count, 3u);
  EXPECT_EQ(open.evidence.size(), 3u);
  EXPECT_EQ(current(by_ip[ipOf(b2)]).status, ConflictStatus::kAcknowledged);
  EXPECT_EQ(current(by_ip[ipOf(b3)]).status, ConflictStatus::kResolved);
  EXPECT_EQ(engine_->policies().at(ConflictKind::kMacDrift), Policy::kRecordMigration);
  EXPECT_EQ(engine_->policies().at(ConflictKind::kUnknownStation), Policy::kNone);
  EXPECT_EQ(engine_->policies().at(ConflictKind::kDuplicateIp), Policy::kAlert);

  // The reloaded open conflicts still collect their evidence; new ones get new ids.
  feed(ipOf(b1).c_str(), kM4);
  EXPECT_EQ(current(open).count, 4u);
  feed(ipOf(b3).c_str(), kM4);  // resolved before the restart: a new conflict
  auto now_all = ofKind(ConflictKind::kBindingMismatch);
  ASSERT_EQ(now_all.size(), 4u);
  std::uint64_t max_before = 0;
  for (const auto& c : before) max_before = std::max(max_before, c.id);
  EXPECT_GT(now_all[0].id, max_before);
  EXPECT_EQ(now_all[0].ip, ipOf(b3));
}

// ---------------------------------------------------------------------------------------------
// Property: random observation streams never crash and never leave two unresolved conflicts of
// one (kind, network, subject), whatever the clock, ticks, acks, releases and policies do.

// Every unresolved conflict (and, with `all`, every resolved one too) checked for the engine's
// invariants; the cheap form runs after every step, the full one now and then.
void checkInvariants(Engine& engine, const EngineOptions& options, const std::string& when,
                     bool all) {
  std::vector<Conflict> items;
  for (auto status :
       {ConflictStatus::kOpen, ConflictStatus::kAcknowledged, ConflictStatus::kResolved}) {
    if (status == ConflictStatus::kResolved && !all) continue;
    ConflictFilter f;
    f.status = status;
    auto page = engine.list(f, "", 1'000'000);
    ASSERT_TRUE(page.isOk());
    for (auto& c : page->items) items.push_back(std::move(c));
  }
  std::set<std::tuple<ConflictKind, std::string, std::string>> unresolved;
  std::set<std::uint64_t> ids;
  std::size_t open_total = 0;
  for (const auto& c : items) {
    ASSERT_TRUE(ids.insert(c.id).second) << when << ": id " << c.id << " twice";
    EXPECT_GE(c.count, 1u) << when;
    EXPECT_LE(c.first_seen, c.last_seen) << when;
    EXPECT_LE(c.evidence.size(), options.evidence_max) << when;
    EXPECT_FALSE(c.subject.empty()) << when;
    if (c.status == ConflictStatus::kResolved) {
      EXPECT_FALSE(c.resolved_by.empty()) << when;
      continue;
    }
    ++open_total;
    EXPECT_TRUE(unresolved.insert({c.kind, c.network, c.subject}).second)
        << when << ": two unresolved " << conflictKindName(c.kind) << " for " << c.network << " "
        << c.subject;
  }
  std::size_t counted = 0;
  for (const auto& [kind, n] : engine.stats().open_by_kind) counted += n;
  EXPECT_EQ(counted, open_total) << when;
}

TEST_F(EngineTest, RandomObservationStreamsKeepOneUnresolvedConflictPerSubject) {
  EngineOptions o;
  o.evidence_max = 4;
  o.quiet_period_ms = 40'000;
  o.never_seen_ms = 120'000;
  configure(o);
  PoolCreate v4 = poolSpec("v4", "192.0.2.0/27");
  v4.record.gateway = ip("192.0.2.1");
  v4.record.reserved = {addr::IpRange::parse("192.0.2.28-192.0.2.30").value()};
  v4.record.quarantine_s = 30;
  v4.record.threshold = 0.3;
  makePool(std::move(v4));
  makePool("v6", "2001:db8::/120");
  PoolCreate peer = poolSpec("peer", "192.0.2.16/28");
  peer.record.external = true;
  peer.record.cluster = "west";
  makePool(std::move(peer));

  std::vector<std::string> macs;
  for (int i = 1; i <= 12; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "52:54:00:00:00:%02x", i);
    macs.emplace_back(buf);
  }
  const std::vector<std::string> hosts = {"", "node-0", "node-1", "node-2"};
  std::vector<std::uint64_t> live;
  for (int i = 0; i < 9; ++i) {
    auto r = req("vm-" + std::to_string(i), macs[i].c_str(), hosts[1 + i % 3]);
    r.pools = i % 3 == 0 ? std::vector<std::string>{"v4", "v6"} : std::vector<std::string>{"v4"};
    r.is_static = i == 4;
    if (i % 4 == 1) r.ttl_s = 90;
    live.push_back(allocate(r).id);
  }
  std::vector<std::string> ips;
  for (int i = 1; i <= 31; ++i) ips.push_back("192.0.2." + std::to_string(i));
  for (int i = 1; i <= 4; ++i) ips.push_back("2001:db8::" + std::to_string(i));
  for (const char* extra : {"203.0.113.9", "169.254.1.1", "fe80::2", "0.0.0.0"}) {
    ips.emplace_back(extra);
  }
  const FrameKind kinds[] = {FrameKind::kArpRequest, FrameKind::kArpReply, FrameKind::kArpProbe,
                             FrameKind::kArpAnnouncement, FrameKind::kDadProbe};

  std::mt19937_64 rng(7);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  for (int step = 0; step < 1500; ++step) {
    const std::size_t action = pick(100);
    if (action < 70) {
      std::vector<Observation> batch;
      for (std::size_t n = 1 + pick(4); n > 0; --n) {
        Observation x;
        if (pick(8) != 0) x.ip = ip(ips[pick(ips.size())]);
        x.mac = mac(macs[pick(macs.size())]);
        x.network = pick(6) == 0 ? "lab" : "default";
        x.host = hosts[pick(hosts.size())];
        x.interface = pick(2) == 0 ? "eth0" : "eth1";
        x.kind = x.ip ? kinds[pick(std::size(kinds))] : FrameKind::kUnknown;
        x.time = now() - static_cast<Millis>(pick(3'000));  // a little out of order
        batch.push_back(std::move(x));
      }
      engine_->process(batch);
    } else if (action < 85) {
      advance(static_cast<Millis>(pick(15'000)));
    } else if (action < 93) {
      engine_->tick();
    } else if (action < 97) {
      ConflictFilter f;
      f.status = pick(2) == 0 ? ConflictStatus::kOpen : ConflictStatus::kAcknowledged;
      auto all = conflicts(f);
      if (!all.empty()) {
        const auto& c = all[pick(all.size())];
        if (pick(2) == 0) {
          ASSERT_TRUE(engine_->acknowledge(alice_, c.id, "").isOk());
        } else {
          ASSERT_TRUE(engine_->resolve(alice_, c.id, "").isOk());
        }
      }
    } else if (action < 98) {
      if (!live.empty()) {
        std::size_t i = pick(live.size());
        (void)ledger_->release(op_, live[i]);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      }
      (void)ledger_->sweep();
    } else {
      std::map<ConflictKind, Policy> change;
      change[ConflictKind::kDuplicateIp] =
          pick(2) == 0 ? Policy::kQuarantineAndReassign : Policy::kAlert;
      change[ConflictKind::kMacDrift] = pick(2) == 0 ? Policy::kRecordMigration : Policy::kNone;
      ASSERT_TRUE(engine_->setPolicies(admin_, change).isOk());
    }
    checkInvariants(*engine_, o, "step " + std::to_string(step), step % 100 == 0);
    if (HasFatalFailure() || HasFailure()) return;
  }
  std::set<ConflictKind> seen;
  for (const auto& c : conflicts()) seen.insert(c.kind);
  const std::size_t raised_kinds = seen.size();
  // The stream must actually stir things up, or the invariant holds vacuously. dhcp_decline
  // comes only from the DHCP server's reports, never from observations.
  EXPECT_EQ(raised_kinds, std::size(kAllConflictKinds) - 1);
  EXPECT_GT(engine_->stats().remediations, 0u);
  EXPECT_GT(engine_->stats().observations, 2000u);

  engine_->tick();
  const auto before = conflicts();
  reopen();
  checkInvariants(*engine_, o, "after reopen", true);
  EXPECT_EQ(conflicts().size(), before.size());
}

}  // namespace
}  // namespace netledger::engine
