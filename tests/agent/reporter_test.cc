#include "agent/reporter.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "agent/snooper.h"

namespace netledger::agent {
namespace {

namespace json = boost::json;

observation::Observation obs(const char* ip, const char* mac, const char* port,
                             wire::FrameKind kind = wire::FrameKind::kArpRequest) {
  observation::Observation o;
  o.ip = *addr::IpAddress::parse(ip);
  o.mac = *addr::Mac::parse(mac);
  o.kind = kind;
  o.source = wire::isArp(kind) ? observation::Source::kArp : observation::Source::kNdp;
  o.time = 1'700'000'000'000;
  o.interface = port;
  return o;
}

struct Recorder {
  std::vector<std::string> bodies;
  Result<unsigned> next = 202u;
  Reporter::Send send() {
    return [this](const std::string& body) -> Result<unsigned> {
      bodies.push_back(body);
      return next;
    };
  }
  json::array items(std::size_t i) const {
    return json::parse(bodies.at(i)).at("observations").as_array();
  }
};

AgentConfig config(std::size_t batch_max = 3, std::size_t queue_max = 5) {
  AgentConfig c;
  c.node = "node-1";
  c.network = "lab";
  c.batch_max = batch_max;
  c.queue_max = queue_max;
  return c;
}

TEST(ReporterTest, BatchesAreBoundedAndCarryNodeNetworkAndPort) {
  Recorder rec;
  AgentConfig c = config(2, 10);
  Reporter r(c, rec.send());
  EXPECT_TRUE(r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1")));
  EXPECT_TRUE(r.offer(obs("192.0.2.11", "02:00:00:00:00:02", "p2")));
  EXPECT_TRUE(r.offer(
      obs("2001:db8::3", "02:00:00:00:00:03", "p3", wire::FrameKind::kNeighborAdvertisement)));
  ASSERT_TRUE(r.flushOnce().isOk());
  ASSERT_TRUE(r.flushOnce().isOk());
  ASSERT_EQ(rec.bodies.size(), 2u);
  auto first = rec.items(0);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].at("ip").as_string(), "192.0.2.10");
  EXPECT_EQ(first[0].at("host").as_string(), "node-1");
  EXPECT_EQ(first[0].at("network").as_string(), "lab");
  EXPECT_EQ(first[0].at("interface").as_string(), "p1");
  EXPECT_EQ(first[0].at("source").as_string(), "arp");
  EXPECT_EQ(first[0].at("kind").as_string(), "request");
  auto second = rec.items(1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].at("source").as_string(), "ndp");
  EXPECT_EQ(second[0].at("kind").as_string(), "na");
  EXPECT_EQ(r.counters().sent.load(), 3u);
  EXPECT_EQ(r.depth(), 0u);
}

TEST(ReporterTest, QueueIsBoundedAndDropsAreCounted) {
  Recorder rec;
  AgentConfig c = config(3, 5);
  Reporter r(c, rec.send());
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    std::string ip = "192.0.2." + std::to_string(10 + i);
    accepted += r.offer(obs(ip.c_str(), "02:00:00:00:00:01", "p1")) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(r.depth(), 5u);
  EXPECT_EQ(r.counters().dropped_full.load(), 15u);
}

TEST(ReporterTest, RepeatsCoalesceButEveryChangeIsKept) {
  Recorder rec;
  AgentConfig c = config(100, 100);
  Reporter r(c, rec.send());
  // A storm of one frame: one entry.
  for (int i = 0; i < 50; ++i) r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1"));
  EXPECT_EQ(r.depth(), 1u);
  EXPECT_EQ(r.counters().coalesced.load(), 49u);
  // A MAC flapping p1 -> p2 -> p1 -> p2: every step stays, in order.
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p2"));
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1"));
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p2"));
  ASSERT_TRUE(r.flushOnce().isOk());
  auto items = rec.items(0);
  ASSERT_EQ(items.size(), 4u);
  const char* ports[] = {"p1", "p2", "p1", "p2"};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(items[i].at("interface").as_string(), ports[i]);
  // Once sent, the same observation is news again.
  EXPECT_TRUE(r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p2")));
  EXPECT_EQ(r.depth(), 1u);
}

TEST(ReporterTest, UnreachableServerKeepsTheBatchForRetry) {
  Recorder rec;
  AgentConfig c = config(2, 10);
  Reporter r(c, rec.send());
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1"));
  r.offer(obs("192.0.2.11", "02:00:00:00:00:02", "p1"));
  rec.next = Status::unavailable("connection refused");
  EXPECT_EQ(r.flushOnce().code(), StatusCode::kUnavailable);
  rec.next = 503u;
  EXPECT_EQ(r.flushOnce().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.depth(), 2u);
  EXPECT_FALSE(r.serverReachable());
  rec.next = 202u;
  EXPECT_TRUE(r.flushOnce().isOk());
  ASSERT_EQ(rec.bodies.size(), 3u);
  EXPECT_EQ(rec.bodies[0], rec.bodies[2]);  // the same batch, resent
  EXPECT_EQ(r.counters().sent.load(), 2u);
  EXPECT_EQ(r.counters().send_failures.load(), 2u);
  EXPECT_TRUE(r.serverReachable());
}

TEST(ReporterTest, RefusedBatchIsDroppedAndCounted) {
  Recorder rec;
  AgentConfig c = config(2, 10);
  Reporter r(c, rec.send());
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1"));
  rec.next = 400u;
  EXPECT_EQ(r.flushOnce().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.depth(), 0u);
  EXPECT_EQ(r.counters().rejected.load(), 1u);
}

TEST(ReporterTest, BackgroundThreadSendsWithinTheBatchInterval) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> bodies;
  AgentConfig c = config(100, 100);
  c.batch_interval = Millis(20);
  Reporter r(c, [&](const std::string& body) -> Result<unsigned> {
    std::lock_guard lock(mu);
    bodies.push_back(body);
    cv.notify_all();
    return 202u;
  });
  r.start();
  // Idle first (longer than the interval), as after start-up: the first observation must wake
  // the sender.
  std::this_thread::sleep_for(Millis(100));
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1"));
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !bodies.empty(); }));
  lock.unlock();
  r.stop();
}

TEST(ReporterTest, StopSendsWhatIsLeft) {
  Recorder rec;
  AgentConfig c = config(100, 100);
  c.batch_interval = Millis(60'000);
  Reporter r(c, rec.send());
  r.start();
  r.offer(obs("192.0.2.10", "02:00:00:00:00:01", "p1"));
  r.stop();
  ASSERT_EQ(rec.bodies.size(), 1u);
  EXPECT_EQ(r.depth(), 0u);
}

TEST(SnooperTest, FramesBecomeObservationsAndGarbageIsCounted) {
  Recorder rec;
  AgentConfig c = config(100, 100);
  c.interfaces = {"br-none"};
  Reporter r(c, rec.send());
  Snooper s(c, r);
  auto reply =
      wire::buildArpReply(*addr::Mac::parse("52:54:00:00:00:01"), *addr::Ipv4::parse("192.0.2.10"),
                          *addr::Mac::parse("02:00:00:00:00:aa"), *addr::Ipv4::parse("192.0.2.1"));
  s.handleFrame(reply.bytes(), 1'700'000'000'000'000, "vm1");
  std::vector<std::uint8_t> garbage(reply.data.begin(), reply.data.begin() + 20);  // truncated
  s.handleFrame(garbage, 1, "vm1");
  std::vector<std::uint8_t> empty;
  s.handleFrame(empty, 1, "vm1");
  EXPECT_EQ(s.counters().frames.load(), 3u);
  EXPECT_EQ(s.counters().by_error[static_cast<int>(wire::ParseError::kTruncated)].load(), 2u);
  EXPECT_EQ(s.counters().by_kind[static_cast<int>(wire::FrameKind::kArpReply)].load(), 1u);
  ASSERT_TRUE(r.flushOnce().isOk());
  auto items = rec.items(0);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("interface").as_string(), "vm1");
  EXPECT_EQ(items[0].at("mac").as_string(), "52:54:00:00:00:01");
  EXPECT_EQ(items[0].at("kind").as_string(), "reply");
}

}  // namespace
}  // namespace netledger::agent
