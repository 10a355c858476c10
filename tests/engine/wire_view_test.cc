// The engine's wire view (what `netledger check` reads): claims kept with their place, probes
// not counted as claims, bounded in size, forgotten after the retention, and binding sightings
// kept as long as the view reaches (not only never_seen_ms).
#include <gtest/gtest.h>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/ledger_adapter.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::engine {
namespace {

using std::chrono::milliseconds;

class WireViewTest : public ::testing::Test {
 protected:
  void start(EngineOptions options = {}) {
    ASSERT_TRUE(ledger_.open().isOk());
    engine_ = std::make_unique<Engine>(port_, clock_, options);
    ASSERT_TRUE(engine_->open().isOk());
  }
  void TearDown() override {
    engine_.reset();
    ledger_.close();
  }
  Millis now() const {
    return std::chrono::duration_cast<milliseconds>(clock_.now().time_since_epoch()).count();
  }
  Observation obs(const char* address, std::uint64_t m, const char* host,
                  FrameKind kind = FrameKind::kArpReply) {
    Observation o;
    if (address) o.ip = addr::IpAddress::parse(address).value();
    o.mac = addr::Mac(m);
    o.host = host;
    o.interface = "tap0";
    o.kind = kind;
    o.time = now();
    return o;
  }

  FakeClock clock_;
  store::MemoryStore store_;
  ledger::Ledger ledger_{store_, clock_};
  LedgerAdapter port_{ledger_};
  std::unique_ptr<Engine> engine_;
};

TEST_F(WireViewTest, KeepsTheNewestPlaceOfEachClaim) {
  start();
  engine_->process({obs("192.0.2.5", 0x020000000001, "hv1")});
  clock_.advance(milliseconds(1000));
  engine_->process({obs("192.0.2.5", 0x020000000001, "hv2"), obs("192.0.2.6", 0x020000000002, ""),
                    obs("192.0.2.7", 0x020000000003, "hv1", FrameKind::kArpProbe),
                    obs(nullptr, 0x020000000004, "hv3")});
  auto view = engine_->wireView();
  ASSERT_EQ(view.sightings.size(), 4u);  // the probe is a MAC seen without a claim
  std::map<std::uint64_t, Engine::Sighting> by_mac;
  for (const auto& s : view.sightings) by_mac[s.mac.value()] = s;
  EXPECT_EQ(by_mac[0x020000000001].host, "hv2");
  EXPECT_EQ(by_mac[0x020000000001].last, now());
  EXPECT_EQ(by_mac[0x020000000002].host, "");
  EXPECT_FALSE(by_mac[0x020000000003].ip.has_value());
  EXPECT_FALSE(by_mac[0x020000000004].ip.has_value());
  EXPECT_EQ(by_mac[0x020000000004].host, "hv3");
  EXPECT_EQ(view.watched_since.at("default"), now() - 1000);
}

TEST_F(WireViewTest, BoundedAndForgottenAfterTheRetention) {
  EngineOptions o;
  o.wire_view_max = 3;
  o.wire_view_retention_ms = 10'000;
  start(o);
  for (int i = 1; i <= 5; ++i) {
    engine_->process({obs(("192.0.2." + std::to_string(i)).c_str(), 0x020000000000 + i, "hv1")});
  }
  EXPECT_EQ(engine_->wireView().sightings.size(), 3u);
  EXPECT_EQ(engine_->stats().wire_view_dropped, 2u);
  clock_.advance(milliseconds(5'000));
  engine_->process({obs("192.0.2.1", 0x020000000001, "hv1")});  // refreshed: stays
  clock_.advance(milliseconds(61'000));
  engine_->tick();
  auto view = engine_->wireView();
  ASSERT_EQ(view.sightings.size(), 0u);  // all older than 10 s by now
  clock_.advance(milliseconds(1'000));
  engine_->process({obs("192.0.2.9", 0x020000000009, "hv1")});
  EXPECT_EQ(engine_->wireView().sightings.size(), 1u);  // room again
}

// A host is watched from its first sighting until a gap longer than kWatchGapMs starts it
// again; a client clock ahead of ours cannot date a sighting into the future.
TEST_F(WireViewTest, WatchesHostsAcrossGapsAndClampsClientClocks) {
  start();
  auto hostOf = [&](const char* name) {
    for (const auto& h : engine_->wireView().hosts) {
      if (h.host == name) return h;
    }
    return Engine::WatchedHost{};
  };
  const Millis t0 = now();
  engine_->process({obs("192.0.2.5", 0x020000000001, "hv1")});
  clock_.advance(milliseconds(10 * 60'000));
  engine_->process({obs("192.0.2.5", 0x020000000001, "hv1")});
  EXPECT_EQ(hostOf("hv1").since, t0);  // a 10 min pause is no gap
  EXPECT_EQ(hostOf("hv1").last, now());
  clock_.advance(milliseconds(Engine::kWatchGapMs + 1));
  engine_->process({obs("192.0.2.5", 0x020000000001, "hv1")});
  EXPECT_EQ(hostOf("hv1").since, now());  // watched again from here only

  Observation ahead = obs("192.0.2.6", 0x020000000002, "hv2");
  ahead.time = now() + 86'400'000;
  engine_->process({ahead});
  EXPECT_EQ(hostOf("hv2").last, now() + Engine::kFutureSkewMs);
  for (const auto& s : engine_->wireView().sightings) {
    EXPECT_LE(s.last, now() + Engine::kFutureSkewMs);
  }
}

}  // namespace
}  // namespace netledger::engine
