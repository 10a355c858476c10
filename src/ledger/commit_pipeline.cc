#include "ledger/commit_pipeline.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace netledger::ledger {

CommitPipeline::CommitPipeline(Store& store, std::mutex& mu, Rebuild rebuild)
    : store_(store), mu_(mu), rebuild_(std::move(rebuild)) {}

CommitPipeline::~CommitPipeline() { stop(); }

void CommitPipeline::start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  committer_ = std::thread([this] { loop(); });
}

void CommitPipeline::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

std::uint64_t CommitPipeline::pushLocked(std::vector<Write>&& writes) {
  queued_.push_back(std::move(writes));
  std::uint64_t ticket = next_ticket_++;
  work_cv_.notify_one();
  return ticket;
}

void CommitPipeline::whenDurable(std::uint64_t ticket, std::function<void(Status)> done) {
  Status result;
  {
    std::lock_guard lock(mu_);
    if (ticket > durable_ticket_ && ticket >= failed_below_) {
      waiting_.push_back({std::move(done), ticket});
      return;
    }
    if (ticket > durable_ticket_ || failedLocked(ticket)) result = last_failure_;
  }
  done(result);
}

Status CommitPipeline::waitDurable(std::uint64_t ticket) {
  std::unique_lock lock(mu_);
  durable_cv_.wait(lock, [&] { return ticket <= durable_ticket_ || ticket < failed_below_; });
  return ticket <= durable_ticket_ && !failedLocked(ticket) ? Status::ok() : last_failure_;
}

bool CommitPipeline::failedLocked(std::uint64_t ticket) const {
  for (const auto& [first, last] : failed_ranges_)
    if (ticket >= first && ticket <= last) return true;
  return false;
}

void CommitPipeline::markFailedLocked() {
  if (next_ticket_ - 1 > durable_ticket_)
    failed_ranges_.emplace_back(durable_ticket_ + 1, next_ticket_ - 1);
  while (failed_ranges_.size() > 256) failed_ranges_.pop_front();
  failed_below_ = next_ticket_;
}

void CommitPipeline::memoryReloadedLocked() {
  const std::uint64_t last = next_ticket_ - 1;
  if (last > durable_ticket_ && last >= failed_below_) rebuild_after_ = last;
}

void CommitPipeline::failAllLocked(const Status& why, std::vector<Pending>& to_fail) {
  // Another writer of a shared store changed what the batch was built on: the commands are
  // sound, only late; the caller runs them again on the state rebuilt below.
  const bool overtaken = store_.shared() && (why.code() == StatusCode::kConflict ||
                                             why.code() == StatusCode::kAborted);
  last_failure_ =
      overtaken ? Status::aborted("another replica changed the ledger first: " + why.message())
                : Status::unavailable("the store did not commit the change: " + why.message());
  markFailedLocked();
  rebuild_after_ = 0;  // nothing pending will commit; the rebuild below is the last word
  queued_.clear();
  for (auto& p : waiting_) to_fail.push_back(std::move(p));
  waiting_.clear();
  // Memory may hold changes the store refused: rebuild it from what is durable.
  Status rebuilt = rebuild_();
  if (!rebuilt.isOk()) last_failure_ = rebuilt;
}

void CommitPipeline::publish(const std::vector<Write>& batch) const {
  // A shared store's feed hands back every writer's events, ours too, in the store's one order
  // (applyCommitted): publishing ours here as well would put them out of that order.
  if (!event_listener_ || store_.shared()) return;
  std::vector<const EventRecord*> events;
  for (const Write& w : batch) {
    if (const auto* e = std::get_if<AppendEvent>(&w)) events.push_back(&e->event);
  }
  if (!events.empty()) event_listener_(events);
}

void CommitPipeline::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
    if (queued_.empty()) break;  // stopping, nothing left
    commitOne(lock);
  }
}

std::uint64_t CommitPipeline::takeBatchLocked(std::vector<Write>& batch) {
  const std::uint64_t first = next_ticket_ - queued_.size();
  const std::size_t budget = store_.maxBatchCost();
  std::size_t cost = 0;
  std::size_t taken = 0;
  while (!queued_.empty()) {
    std::size_t c = 0;
    if (budget != SIZE_MAX) {
      for (const Write& w : queued_.front()) c += store_.costOf(w);
    }
    if (taken > 0 && cost + c > budget) break;
    cost += c;
    if (batch.empty()) {
      batch = std::move(queued_.front());
    } else {
      std::move(queued_.front().begin(), queued_.front().end(), std::back_inserter(batch));
    }
    queued_.pop_front();
    ++taken;
  }
  return first + taken - 1;
}

void CommitPipeline::commitOne(std::unique_lock<std::mutex>& lock) {
  std::vector<Write> batch;
  const std::uint64_t top = takeBatchLocked(batch);
  lock.unlock();
  auto t0 = std::chrono::steady_clock::now();
  Status s = store_.commit(batch);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Listeners hear of a batch before its writers are acknowledged: whoever got an answer can
  // rely on the event stream already having the event (and on a resume not repeating it).
  if (s.isOk()) publish(batch);
  lock.lock();
  std::vector<Pending> ready, late;  // late: queued after a reload, failed by the rebuild
  Status outcome = s;
  stats_.last_commit_seconds = seconds;
  stats_.last_batch_size = batch.size();
  if (s.isOk()) {
    ++stats_.commits;
    durable_ticket_ = top;
    auto keep = std::partition(waiting_.begin(), waiting_.end(),
                               [&](const Pending& p) { return p.ticket > top; });
    std::move(keep, waiting_.end(), std::back_inserter(ready));
    waiting_.erase(keep, waiting_.end());
    if (rebuild_after_ != 0 && top >= rebuild_after_) rebuildAfterReloadLocked(late);
  } else {
    ++stats_.commit_failures;
    failAllLocked(s, ready);
    outcome = last_failure_;
  }
  durable_cv_.notify_all();
  const Status late_outcome = last_failure_;
  lock.unlock();
  if (commit_observer_) commit_observer_(batch.size(), seconds, s);
  for (auto& p : ready) p.done(outcome);
  for (auto& p : late) p.done(late_outcome);
  lock.lock();
}

void CommitPipeline::rebuildAfterReloadLocked(std::vector<Pending>& late) {
  rebuild_after_ = 0;
  // What committed since the reload is in the store, not in memory: rebuild. Commands queued
  // meanwhile changed the memory about to go, so they fail (kAborted: run them again) rather
  // than commit changes memory would not hold.
  if (!queued_.empty()) {
    last_failure_ = Status::aborted(
        "the ledger reloaded its memory while the change waited to "
        "commit; run it again");
    markFailedLocked();
    queued_.clear();
    for (auto& p : waiting_) late.push_back(std::move(p));
    waiting_.clear();
  }
  Status rebuilt = rebuild_();
  if (!rebuilt.isOk() && !late.empty()) last_failure_ = rebuilt;
}

}  // namespace netledger::ledger
