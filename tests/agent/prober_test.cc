#include "agent/prober.h"

#include <gtest/gtest.h>

#include "addr/addr_test_util.h"
#include "agent/scanner.h"
#include "fake_link.h"

namespace netledger::agent {
namespace {

using testing::FakeLink;

using ::netledger::addr::testing_util::ip;
using ::netledger::addr::testing_util::mac;
addr::Ipv4 v4(const char* t) { return ip(t).v4(); }
addr::Ipv6 v6(const char* t) { return ip(t).v6(); }

const addr::Mac kProberMac = mac("02:00:00:00:00:aa");
const addr::Mac kOther = mac("52:54:00:00:00:01");

wire::Frame parse(const wire::FrameBytes& b) {
  wire::Frame f;
  EXPECT_EQ(wire::parseFrame(b.bytes(), f), wire::ParseError::kOk);
  return f;
}

std::optional<addr::Mac> answer(const wire::FrameBytes& b, const char* target) {
  return ProbeWatch::answerOf(parse(b), ip(target), {kProberMac});
}

TEST(ProbeWatchTest, Ipv4Rules) {
  // Any ARP with the probed address as sender: a reply, a request, an announcement.
  EXPECT_EQ(answer(wire::buildArpReply(kOther, v4("192.0.2.10"), kProberMac, v4("0.0.0.0")),
                   "192.0.2.10"),
            kOther);
  EXPECT_EQ(answer(wire::buildArpRequest(kOther, v4("192.0.2.10"), v4("192.0.2.1")), "192.0.2.10"),
            kOther);
  EXPECT_EQ(answer(wire::buildArpAnnouncement(kOther, v4("192.0.2.10")), "192.0.2.10"), kOther);
  // Someone else probing for it at the same time.
  EXPECT_EQ(answer(wire::buildArpProbe(kOther, v4("192.0.2.10")), "192.0.2.10"), kOther);
  // Near misses: our own probe, another address, someone merely asking for it.
  EXPECT_FALSE(answer(wire::buildArpProbe(kProberMac, v4("192.0.2.10")), "192.0.2.10"));
  EXPECT_FALSE(answer(wire::buildArpReply(kOther, v4("192.0.2.11"), kProberMac, v4("0.0.0.0")),
                      "192.0.2.10"));
  EXPECT_FALSE(
      answer(wire::buildArpRequest(kOther, v4("192.0.2.5"), v4("192.0.2.10")), "192.0.2.10"));
  EXPECT_FALSE(answer(wire::buildArpProbe(kOther, v4("192.0.2.11")), "192.0.2.10"));
  // Garbage senders are no answer.
  EXPECT_FALSE(answer(wire::buildArpReply(*addr::Mac::parse("01:00:5e:00:00:01"), v4("192.0.2.10"),
                                          kProberMac, v4("0.0.0.0")),
                      "192.0.2.10"));
  // An IPv6 frame says nothing about an IPv4 address.
  EXPECT_FALSE(answer(wire::buildDadProbe(kOther, v6("2001:db8::10")), "192.0.2.10"));
}

TEST(ProbeWatchTest, Ipv6Rules) {
  EXPECT_EQ(answer(wire::buildNeighborAdvertisement(kOther, v6("2001:db8::10"), wire::kNaOverride),
                   "2001:db8::10"),
            kOther);
  EXPECT_EQ(answer(wire::buildDadProbe(kOther, v6("2001:db8::10")), "2001:db8::10"), kOther);
  EXPECT_EQ(answer(wire::buildNeighborSolicitation(kOther, v6("2001:db8::10"), v6("2001:db8::1")),
                   "2001:db8::10"),
            kOther);
  EXPECT_FALSE(answer(wire::buildDadProbe(kProberMac, v6("2001:db8::10")), "2001:db8::10"));
  EXPECT_FALSE(
      answer(wire::buildNeighborAdvertisement(kOther, v6("2001:db8::11"), 0), "2001:db8::10"));
  EXPECT_FALSE(answer(wire::buildArpProbe(kOther, v4("192.0.2.10")), "2001:db8::10"));
}

ProbeTiming quick() { return {Millis(0), 3, Millis(5), Millis(10), Millis(50), 2, Millis(30)}; }

TEST(ProbeTest, FreeAddressGetsAllProbesAndNoAnswer) {
  FakeLink link(kProberMac);
  std::atomic<bool> stop{false};
  std::mt19937_64 rng(1);
  ProbeResult r = probeAddress(link, ip("192.0.2.10"), quick(), stop, rng);
  EXPECT_FALSE(r.answer);
  EXPECT_FALSE(r.stopped);
  auto sent = link.sentFrames();
  ASSERT_EQ(sent.size(), 3u);
  for (const auto& f : sent) {
    EXPECT_EQ(f.kind, wire::FrameKind::kArpProbe);
    EXPECT_EQ(f.sender_ip, v4("0.0.0.0"));
    EXPECT_EQ(f.target_ip, v4("192.0.2.10"));
    EXPECT_EQ(f.sender_mac, kProberMac);
    EXPECT_TRUE(f.target_mac.isZero());
    EXPECT_TRUE(f.eth_dst.isBroadcast());
  }
  EXPECT_EQ(link.watcherCount(), 0u);  // the watch is gone with the probe
}

TEST(ProbeTest, AnswerStopsTheProbeAndNamesTheStation) {
  FakeLink link(kProberMac);
  link.on_send = [&](const wire::Frame& f) {
    if (f.kind == wire::FrameKind::kArpProbe) {
      link.deliver(wire::buildArpReply(kOther, f.target_ip, f.sender_mac, v4("0.0.0.0")), "vm3");
    }
  };
  std::atomic<bool> stop{false};
  std::mt19937_64 rng(1);
  ProbeResult r = probeAddress(link, ip("192.0.2.10"), ProbeTiming::rfc(), stop, rng);
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->mac, kOther);
  EXPECT_EQ(r.answer->port, "vm3");
  EXPECT_EQ(r.frames_sent, 1);  // no second probe after an answer
}

TEST(ProbeTest, DadSendsSolicitationsFromUnspecified) {
  FakeLink link(kProberMac);
  std::atomic<bool> stop{false};
  std::mt19937_64 rng(1);
  ProbeResult r = probeAddress(link, ip("2001:db8::10"), quick(), stop, rng);
  EXPECT_FALSE(r.answer);
  auto sent = link.sentFrames();
  ASSERT_EQ(sent.size(), 2u);  // dad_transmits
  for (const auto& f : sent) {
    EXPECT_EQ(f.kind, wire::FrameKind::kDadProbe);
    EXPECT_EQ(f.target, v6("2001:db8::10"));
    EXPECT_EQ(f.ip_dst, wire::solicitedNodeGroup(v6("2001:db8::10")));
  }
}

TEST(ProbeTest, DadDefendedByNeighborAdvertisement) {
  FakeLink link(kProberMac);
  link.on_send = [&](const wire::Frame& f) {
    link.deliver(wire::buildNeighborAdvertisement(kOther, f.target, wire::kNaOverride));
  };
  std::atomic<bool> stop{false};
  std::mt19937_64 rng(1);
  ProbeResult r = probeAddress(link, ip("2001:db8::10"), quick(), stop, rng);
  ASSERT_TRUE(r.answer);
  EXPECT_EQ(r.answer->mac, kOther);
}

TEST(ProbeTest, RfcTimingsAreRespected) {
  // Fast in wall time: the probe is stopped after the first probe is out, and the elapsed time
  // before it shows the random PROBE_WAIT stayed within bounds.
  ProbeTiming t = quick();
  t.probe_wait = Millis(40);
  t.probe_min = Millis(30);
  t.probe_max = Millis(60);
  t.announce_wait = Millis(80);
  for (int seed = 0; seed < 5; ++seed) {
    FakeLink link(kProberMac);
    std::vector<std::chrono::steady_clock::time_point> at;
    link.on_send = [&](const wire::Frame&) { at.push_back(std::chrono::steady_clock::now()); };
    std::atomic<bool> stop{false};
    std::mt19937_64 rng(seed);
    auto t0 = std::chrono::steady_clock::now();
    probeAddress(link, ip("192.0.2.10"), t, stop, rng);
    auto total = std::chrono::steady_clock::now() - t0;
    ASSERT_EQ(at.size(), 3u);
    EXPECT_LE(at[0] - t0, Millis(40 + 150));  // PROBE_WAIT (plus generous scheduling slack)
    for (int i = 1; i < 3; ++i) {
      EXPECT_GE(at[i] - at[i - 1], Millis(30));  // PROBE_MIN
      EXPECT_LE(at[i] - at[i - 1], Millis(60 + 150));
    }
    EXPECT_GE(total - (at[2] - t0), Millis(80));  // ANNOUNCE_WAIT after the last probe
  }
}

TEST(ProbeTest, StopInterruptsQuickly) {
  FakeLink link(kProberMac);
  std::atomic<bool> stop{true};
  std::mt19937_64 rng(1);
  ProbeResult r = probeAddress(link, ip("192.0.2.10"), ProbeTiming::rfc(), stop, rng);
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.answer);
}

TEST(ScanTest, ProbesEveryAddressAndRecordsAnswers) {
  FakeLink link(kProberMac);
  link.on_send = [&](const wire::Frame& f) {
    if (f.target_ip == v4("192.0.2.12") || f.target_ip == v4("192.0.2.14")) {
      link.deliver(wire::buildArpReply(kOther, f.target_ip, f.sender_mac, v4("0.0.0.0")));
    }
  };
  ScanJob job;
  job.id = "s1";
  job.ranges.push_back(*addr::IpRange::make(ip("192.0.2.10"), ip("192.0.2.15")));
  job.rate_per_s = 1000;
  std::atomic<bool> stop{false};
  ScanOutcome out = scanRanges(link, job, Millis(20), stop);
  EXPECT_EQ(out.probed, 6u);
  ASSERT_EQ(out.answered.size(), 2u);
  EXPECT_EQ(out.answered[0].first, ip("192.0.2.12"));
  EXPECT_EQ(out.answered[1].first, ip("192.0.2.14"));
  EXPECT_EQ(out.answered[1].second, kOther);
}

TEST(ScanTest, RateIsBounded) {
  FakeLink link(kProberMac);
  ScanJob job;
  job.id = "s1";
  job.ranges.push_back(*addr::IpRange::make(ip("192.0.2.1"), ip("192.0.2.21")));
  job.rate_per_s = 200;  // 21 probes: at least 100 ms
  std::atomic<bool> stop{false};
  auto t0 = std::chrono::steady_clock::now();
  ScanOutcome out = scanRanges(link, job, Millis(0), stop);
  EXPECT_EQ(out.probed, 21u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, Millis(95));
}

}  // namespace
}  // namespace netledger::agent
