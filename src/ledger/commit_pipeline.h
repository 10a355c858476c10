#pragma once
// CommitPipeline: the group commit. Commands queue their writes under the ledger's lock and get
// a ticket; one committer thread writes everything queued so far to the Store in one batch (one
// transaction, one fsync for many commands) and then acknowledges every ticket in it. When a
// batch fails, every ticket not yet durable fails with it and the ledger's memory is rebuilt
// from the store (the `Rebuild` callback), so memory never claims what the disk does not.
//
// The pipeline shares the ledger's mutex: queueing a write and changing memory are one atomic
// step for readers, and a rebuild after a failure is never seen half done.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/status.h"
#include "ledger/store.h"

namespace netledger::ledger {

struct CommitStats {
  std::uint64_t commits = 0, commit_failures = 0;
  std::uint64_t last_batch_size = 0;
  double last_commit_seconds = 0;
};

class CommitPipeline {
 public:
  // Runs with the mutex held after a failed commit; its error, if any, is what the failed
  // writers are told instead of the store's.
  using Rebuild = std::function<Status()>;
  // Writes in the batch, seconds the commit took, the store's answer.
  using CommitObserver = std::function<void(std::size_t, double, const Status&)>;
  // The events of a durable batch, in seq order, before its writers are acknowledged; not
  // called for a shared store, whose feed returns our events among everyone's (applyCommitted).
  using EventListener = std::function<void(std::span<const EventRecord* const>)>;

  // `store` and `mu` must outlive the pipeline.
  CommitPipeline(Store& store, std::mutex& mu, Rebuild rebuild);
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Set before start(); called on the committer thread without the mutex.
  void setCommitObserver(CommitObserver observer) { commit_observer_ = std::move(observer); }
  void setEventListener(EventListener listener) { event_listener_ = std::move(listener); }
  const EventListener& eventListener() const { return event_listener_; }

  // Starts the committer thread. Call once, without the mutex.
  void start();
  // Commits what is queued, then stops the committer. Idempotent; call without the mutex.
  void stop();

  // Queues `writes` (mutex held) and returns their ticket.
  std::uint64_t pushLocked(std::vector<Write>&& writes);
  // The last ticket handed out, or when that one failed the last durable one: a command that
  // changed nothing orders its answer after both without reporting an old failure.
  std::uint64_t latestTicketLocked() const {
    const std::uint64_t last = next_ticket_ - 1;
    return failedLocked(last) ? durable_ticket_ : last;
  }

  // Calls `done` once `ticket` is durable (OK) or failed, on the committer thread, or at once on
  // the caller's if that already happened. Takes the mutex.
  void whenDurable(std::uint64_t ticket, std::function<void(Status)> done);
  // Blocking form of whenDurable. Takes the mutex.
  Status waitDurable(std::uint64_t ticket);

  CommitStats statsLocked() const { return stats_; }

  // Memory was reloaded from the store by someone else than the pipeline (a shared store's feed
  // lost track) while commands were queued or in flight: their changes left memory with the
  // reload, yet they may still commit. Once every one of them is durable, memory is rebuilt
  // again (the Rebuild callback), so it holds what they committed; commands queued by then fail
  // kAborted (run them again), as they would after a failed commit (mutex held).
  void memoryReloadedLocked();

 private:
  struct Pending {
    std::function<void(Status)> done;
    std::uint64_t ticket;
  };

  void loop();
  bool failedLocked(std::uint64_t ticket) const;
  // Records that every ticket after the durable one up to the last handed out failed.
  void markFailedLocked();
  // Takes the queued commands that fit the store's batch budget (at least one); returns the
  // ticket of the last one taken.
  std::uint64_t takeBatchLocked(std::vector<Write>& batch);
  // Commits one batch (called with `lock` held; releases it around the store call).
  void commitOne(std::unique_lock<std::mutex>& lock);
  void failAllLocked(const Status& why, std::vector<Pending>& to_fail);
  // After the commit that made every ticket of memoryReloadedLocked() durable: rebuilds memory,
  // failing what was queued since into `late`.
  void rebuildAfterReloadLocked(std::vector<Pending>& late);
  void publish(const std::vector<Write>& batch) const;

  Store& store_;
  std::mutex& mu_;
  Rebuild rebuild_;
  CommitObserver commit_observer_;
  EventListener event_listener_;

  std::deque<std::vector<Write>> queued_;  // the writes of each command not yet committed
  std::uint64_t next_ticket_ = 1;          // ticket of the next command
  std::uint64_t durable_ticket_ = 0;       // every ticket <= this is durable
  std::uint64_t failed_below_ = 0;         // tickets < this that are not durable have failed
  std::uint64_t rebuild_after_ = 0;        // memoryReloadedLocked: rebuild once this is durable
  Status last_failure_;
  // Ticket ranges [first, last] whose commands failed (the latest few hundred): a waiter that
  // comes late for one of them learns of the failure even after later tickets committed.
  std::deque<std::pair<std::uint64_t, std::uint64_t>> failed_ranges_;
  std::deque<Pending> waiting_;
  std::condition_variable work_cv_;
  std::condition_variable durable_cv_;
  bool stopping_ = false;
  bool running_ = false;
  std::thread committer_;
  CommitStats stats_;
};

}  // namespace netledger::ledger
