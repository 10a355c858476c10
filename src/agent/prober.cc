#include "agent/prober.h"

#include <algorithm>
#include <thread>

namespace netledger::agent {

using Clock = std::chrono::steady_clock;

ProbeWatch::ProbeWatch(addr::IpAddress target, std::vector<addr::Mac> own_macs)
    : target_(target), own_(std::move(own_macs)) {}

std::optional<addr::Mac> ProbeWatch::answerOf(const wire::Frame& f, const addr::IpAddress& target,
                                              const std::vector<addr::Mac>& own) {
  // Our own frames are no answer, and neither is a multicast or zero "station": no station can
  // hold an address with those (and the server would refuse to record them).
  auto ours = [&](addr::Mac m) {
    return m.isMulticast() || m.isZero() || std::find(own.begin(), own.end(), m) != own.end();
  };
  if (wire::isArp(f.kind)) {
    if (!target.isV4()) return std::nullopt;
    const addr::Ipv4 t = target.v4();
    if (f.kind == wire::FrameKind::kArpProbe) {
      // Another station probing for the same address at the same time (RFC 5227 2.1.1).
      if (f.target_ip == t && !ours(f.sender_mac)) return f.sender_mac;
      return std::nullopt;
    }
    if (f.sender_ip == t && !ours(f.sender_mac)) return f.sender_mac;
    return std::nullopt;
  }
  if (!target.isV6()) return std::nullopt;
  const addr::Ipv6 t = target.v6();
  const addr::Mac station = wire::stationMacOf(f);
  switch (f.kind) {
    case wire::FrameKind::kNeighborAdvertisement:
      if (f.target == t && !ours(station)) return station;
      break;
    case wire::FrameKind::kDadProbe:
      if (f.target == t && !ours(f.eth_src)) return f.eth_src;
      break;
    case wire::FrameKind::kNeighborSolicitation:
      // Someone sending from the address is using it.
      if (f.ip_src == t && !ours(station)) return station;
      break;
    default:
      break;
  }
  return std::nullopt;
}

void ProbeWatch::onFrame(const wire::Frame& frame, const std::string& port) {
  auto mac = answerOf(frame, target_, own_);
  if (!mac) return;
  {
    std::lock_guard lock(mu_);
    if (answer_) return;
    answer_ = ProbeAnswer{*mac, port};
  }
  cv_.notify_all();
}

std::optional<ProbeAnswer> ProbeWatch::waitUntil(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return answer_.has_value(); });
  return answer_;
}

std::optional<ProbeAnswer> ProbeWatch::answer() const {
  std::lock_guard lock(mu_);
  return answer_;
}

namespace {

Millis uniform(std::mt19937_64& rng, Millis lo, Millis hi) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<long long> d(lo.count(), hi.count());
  return Millis(d(rng));
}

// Sleeps until `deadline` in small steps, watching `stop` and the answer. True if an answer came.
bool waitFor(ProbeWatch& watch, Clock::time_point deadline, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    auto step = std::min(deadline, Clock::now() + Millis(100));
    if (watch.waitUntil(step)) return true;
    if (step >= deadline) return false;
  }
  return false;
}

}  // namespace

ProbeResult probeAddress(LinkLayer& link, const addr::IpAddress& ip, const ProbeTiming& timing,
                         const std::atomic<bool>& stop, std::mt19937_64& rng) {
  ProbeResult result;
  ProbeWatch watch(ip, link.ownMacs());
  WatchGuard guard(link, watch);
  const bool v4 = ip.isV4();
  const int count = v4 ? timing.probe_num : timing.dad_transmits;
  // RFC 5227: a random wait first, so hosts started together do not probe in lockstep. DAD
  // (RFC 4862 5.4.2) also delays the first solicitation randomly, by up to MAX_RTR_SOLICITATION_
  // DELAY; the same configured wait serves both.
  if (waitFor(watch, Clock::now() + uniform(rng, Millis(0), timing.probe_wait), stop)) {
    result.answer = watch.answer();
    return result;
  }
  for (int i = 0; i < count && !stop.load(); ++i) {
    result.frames_sent += link.sendAll([&](addr::Mac own) {
      return v4 ? wire::buildArpProbe(own, ip.v4()) : wire::buildDadProbe(own, ip.v6());
    });
    const bool last = i + 1 == count;
    Millis gap =
        v4 ? (last ? timing.announce_wait : uniform(rng, timing.probe_min, timing.probe_max))
           : timing.dad_retrans;
    if (waitFor(watch, Clock::now() + gap, stop)) break;
  }
  result.stopped = stop.load() && !watch.answer();
  result.answer = watch.answer();
  return result;
}

}  // namespace netledger::agent
