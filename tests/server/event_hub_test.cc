// EventHub: live fan-out and resume from any seq (store, then ring, then live) with no gap and
// no repeat, over a real Ledger on the memory: store.
#include "server/events/event_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::server {
namespace {

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = std::make_unique<ledger::Ledger>(store_, clock_);
    ledger_->setEventListener([this](std::span<const ledger::EventRecord* const> events) {
      if (auto* hub = hub_.load()) hub->publish(events);
    });
    ASSERT_TRUE(ledger_->open().isOk());
  }
  void TearDown() override {
    ledger_->close();
    hub_ = nullptr;
  }
  void startHub(std::size_t ring) {
    owned_ = std::make_unique<EventHub>(*ledger_, ledger_->lastEventSeq(), ring);
    hub_ = owned_.get();
  }
  // One durable event (a token creation) per call.
  void event(const std::string& name) {
    auto r = ledger_->createToken(admin_, name, ledger::Role::kViewer, {});
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    ASSERT_TRUE(ledger_->waitDurable(r->ticket).isOk());
  }

  FakeClock clock_;
  store::MemoryStore store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<EventHub> owned_;
  std::atomic<EventHub*> hub_{nullptr};
  ledger::Actor admin_{"root", ledger::Role::kAdmin, {}};
};

struct Collector {
  std::mutex mu;
  std::vector<std::uint64_t> seqs;
  int pings = 0;
  bool open = true;
  EventHub::Subscriber subscriber() {
    return [this](const ledger::EventRecord* e) {
      std::lock_guard lock(mu);
      if (e == nullptr) {
        ++pings;
      } else {
        seqs.push_back(e->seq);
      }
      return open;
    };
  }
  std::vector<std::uint64_t> get() {
    std::lock_guard lock(mu);
    return seqs;
  }
};

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> out;
  for (auto s = from; s <= to; ++s) out.push_back(s);
  return out;
}

TEST_F(EventHubTest, WithoutLastIdOnlyNewEventsArrive) {
  for (int i = 0; i < 3; ++i) event("old" + std::to_string(i));
  startHub(100);
  Collector c;
  ASSERT_NE(hub_.load()->subscribe(0, c.subscriber()), 0u);
  EXPECT_TRUE(c.get().empty());
  event("new1");
  event("new2");
  EXPECT_EQ(c.get(), range(4, 5));
}

TEST_F(EventHubTest, ResumeOlderThanTheRingReplaysStoreThenRingThenLive) {
  for (int i = 0; i < 5; ++i) event("before-hub" + std::to_string(i));  // only in the store
  startHub(3);
  for (int i = 0; i < 6; ++i) event("after-hub" + std::to_string(i));  // ring keeps 9..11
  Collector c;
  hub_.load()->subscribe(2, c.subscriber());
  EXPECT_EQ(c.get(), range(3, 11));
  event("live");
  EXPECT_EQ(c.get(), range(3, 12));
}

TEST_F(EventHubTest, ResumeInsideTheRingAndAtTheEnd) {
  startHub(10);
  for (int i = 0; i < 4; ++i) event("e" + std::to_string(i));
  Collector inside, at_end;
  hub_.load()->subscribe(2, inside.subscriber());
  hub_.load()->subscribe(4, at_end.subscriber());
  EXPECT_EQ(inside.get(), range(3, 4));
  EXPECT_TRUE(at_end.get().empty());
  event("e4");
  EXPECT_EQ(inside.get(), range(3, 5));
  EXPECT_EQ(at_end.get(), range(5, 5));
}

TEST_F(EventHubTest, ConcurrentCommitsDuringReplayLeaveNoGapAndNoRepeat) {
  for (int i = 0; i < 50; ++i) event("seed" + std::to_string(i));
  startHub(4);  // tiny ring: the replay has to go to the store while commits keep coming
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) event("w" + std::to_string(i));
    done = true;
  });
  Collector c;
  hub_.load()->subscribe(1, c.subscriber());
  writer.join();
  auto got = c.get();
  EXPECT_EQ(got, range(2, 250));
}

TEST_F(EventHubTest, ASubscriberReturningFalseIsDroppedAndHeartbeatsReachTheRest) {
  startHub(10);
  Collector keep, leave;
  hub_.load()->subscribe(0, keep.subscriber());
  hub_.load()->subscribe(0, leave.subscriber());
  EXPECT_EQ(hub_.load()->subscribers(), 2u);
  leave.open = false;
  hub_.load()->heartbeat();
  EXPECT_EQ(hub_.load()->subscribers(), 1u);
  event("x");
  EXPECT_EQ(keep.get(), range(1, 1));
  EXPECT_TRUE(leave.get().empty());
  EXPECT_EQ(keep.pings, 1);
}

}  // namespace
}  // namespace netledger::server
