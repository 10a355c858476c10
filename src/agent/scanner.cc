#include "agent/scanner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace netledger::agent {

namespace {

using Clock = std::chrono::steady_clock;

class ScanWatch final : public FrameWatcher {
 public:
  explicit ScanWatch(const std::vector<addr::IpRange>& ranges) : ranges_(ranges) {}
  void onFrame(const wire::Frame& frame, const std::string&) override {
    auto claim = wire::claimOf(frame);
    // Only stations can hold addresses: a multicast or zero source is garbage, not an answer.
    if (!claim || claim->mac.isMulticast() || claim->mac.isZero()) return;
    bool inside = std::any_of(ranges_.begin(), ranges_.end(),
                              [&](const addr::IpRange& r) { return r.contains(claim->ip); });
    if (!inside) return;
    std::lock_guard lock(mu_);
    answers_.try_emplace(claim->ip, claim->mac);
  }
  std::vector<std::pair<addr::IpAddress, addr::Mac>> answers() const {
    std::lock_guard lock(mu_);
    return {answers_.begin(), answers_.end()};
  }

 private:
  const std::vector<addr::IpRange>& ranges_;
  mutable std::mutex mu_;
  std::map<addr::IpAddress, addr::Mac> answers_;
};

}  // namespace

ScanOutcome scanRanges(LinkLayer& link, const ScanJob& job, Millis listen_after,
                       const std::atomic<bool>& stop) {
  ScanOutcome out;
  ScanWatch watch(job.ranges);
  WatchGuard guard(link, watch);
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) /
                   std::max(1, job.rate_per_s);
  auto next = Clock::now();
  for (const addr::IpRange& range : job.ranges) {
    for (addr::IpAddress ip = range.first(); !stop.load();) {
      std::this_thread::sleep_until(next);
      next += gap;
      link.sendAll([&](addr::Mac own) {
        return ip.isV4() ? wire::buildArpProbe(own, ip.v4()) : wire::buildDadProbe(own, ip.v6());
      });
      ++out.probed;
      if (ip == range.last()) break;
      auto n = ip.next();
      if (!n) break;
      ip = *n;
    }
  }
  for (auto until = Clock::now() + listen_after; Clock::now() < until && !stop.load();) {
    std::this_thread::sleep_for(Millis(20));
  }
  out.stopped = stop.load();
  out.answered = watch.answers();
  return out;
}

}  // namespace netledger::agent
