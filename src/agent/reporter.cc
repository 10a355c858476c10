#include "agent/reporter.h"

#include <algorithm>
#include <random>

namespace netledger::agent {

using Clock = std::chrono::steady_clock;

Reporter::Reporter(const AgentConfig& config, Send send)
    : config_(config), send_(std::move(send)) {}

Reporter::~Reporter() { stop(); }

Reporter::Sighting Reporter::sightingOf(const observation::Observation& o) {
  return Sighting{o.ip, o.kind, o.vlan, o.interface};
}

bool Reporter::offer(observation::Observation o) {
  Sighting key = sightingOf(o);
  std::unique_lock lock(mu_);
  auto last = last_by_mac_.find(o.mac);
  if (last != last_by_mac_.end() && last->second == key) {
    counters_.coalesced.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (queue_.size() + retry_.size() >= config_.queue_max) {
    counters_.dropped_full.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  last_by_mac_.insert_or_assign(o.mac, std::move(key));
  o.network = config_.network;
  o.host = config_.node;
  queue_.push_back(std::move(o));
  counters_.queued.fetch_add(1, std::memory_order_relaxed);
  // Wake the sender for the first observation (its batch clock starts) and for a full batch.
  const bool wake = queue_.size() == 1 || queue_.size() >= config_.batch_max;
  lock.unlock();
  if (wake) cv_.notify_one();
  return true;
}

std::size_t Reporter::depth() const {
  std::lock_guard lock(mu_);
  return queue_.size() + retry_.size();
}

Status Reporter::flushOnce() {
  std::vector<observation::Observation> batch;
  {
    std::lock_guard lock(mu_);
    if (!retry_.empty()) {
      batch.swap(retry_);
    } else {
      const std::size_t n = std::min(queue_.size(), config_.batch_max);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        // Leaving the queue: a repeat of it is news again.
        auto last = last_by_mac_.find(queue_.front().mac);
        if (last != last_by_mac_.end() && last->second == sightingOf(queue_.front())) {
          last_by_mac_.erase(last);
        }
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
  }
  if (batch.empty()) return Status::ok();
  auto status = send_(observation::observationsToJson(batch));
  const bool delivered = status.isOk() && *status < 300;
  const bool refused =
      status.isOk() && *status >= 400 && *status < 500 && *status != 429 && *status != 408;
  reachable_.store(delivered || refused);  // the server took it (or judged it)
  if (delivered) {
    counters_.sent.fetch_add(batch.size(), std::memory_order_relaxed);
    counters_.batches.fetch_add(1, std::memory_order_relaxed);
    return Status::ok();
  }
  if (refused) {
    // Invalid for the server: retrying cannot help. Count, drop, go on.
    counters_.rejected.fetch_add(batch.size(), std::memory_order_relaxed);
    return Status::invalidArgument("server refused a batch of " + std::to_string(batch.size()) +
                                   " observations with HTTP " + std::to_string(*status));
  }
  counters_.send_failures.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    retry_ = std::move(batch);
  }
  return status.isOk() ? Status::unavailable("server answered HTTP " + std::to_string(*status))
                       : status.status();
}

void Reporter::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Reporter::stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Reporter::run() {
  std::mt19937_64 rng(std::random_device{}());
  Millis backoff(0);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Wait for a full batch, or for the first waiting observation to be batch_interval old
      // (approximated by waiting batch_interval after something is there), or for stop.
      cv_.wait_for(lock, backoff.count() > 0 ? backoff : config_.batch_interval,
                   [&] { return stopping_ || queue_.size() >= config_.batch_max; });
      if (stopping_) break;
      if (queue_.empty() && retry_.empty()) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        // Give the first observation's batch its time to fill.
        cv_.wait_for(lock, config_.batch_interval,
                     [&] { return stopping_ || queue_.size() >= config_.batch_max; });
        if (stopping_) break;
      }
    }
    Status s = flushOnce();
    if (s.code() == StatusCode::kUnavailable) {
      // The server is away or overloaded: back off exponentially (100 ms .. 5 s, jittered).
      Millis next = backoff.count() == 0 ? Millis(100) : std::min(backoff * 2, Millis(5000));
      std::uniform_int_distribution<long long> jitter(next.count() / 2, next.count());
      backoff = Millis(jitter(rng));
    } else {
      backoff = Millis(0);
    }
  }
  // Last words: one attempt for what is left, so a clean stop loses nothing the server takes.
  for (int i = 0; i < 4 && depth() > 0; ++i) {
    if (!flushOnce().isOk()) break;
  }
}

}  // namespace netledger::agent
