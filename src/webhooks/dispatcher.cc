#include "webhooks/dispatcher.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/crypto.h"
#include "webhooks/http_post.h"

namespace netledger::webhooks {
namespace {

// A delivery that is not finished: waiting for its first attempt, in flight, or waiting for a
// retry.
struct Pending {
  std::uint64_t id = 0;  // the publish order
  std::string type;
  std::string eventId;
  std::shared_ptr<const std::string> body;  // shared by the deliveries of one publish()
  int attempts = 0;                         // made so far
  std::uint64_t position = 0;               // the event's (publish()), 0 when not given
  std::uint64_t deliveryId = 0;             // X-Netledger-Delivery
};

// The log entry of `item`'s latest attempt (or of its drop), started at `time_ms`.
Delivery deliveryOf(const Pending& item, const std::string& webhookId, std::int64_t time_ms) {
  Delivery d;
  d.id = item.deliveryId;
  d.webhook_id = webhookId;
  d.event_type = item.type;
  d.event_id = item.eventId;
  d.attempt = item.attempts;
  d.time_ms = time_ms;
  return d;
}

// The same delivery id on every replica and after every restart for one event and one
// subscription (FNV-1a of the three), below 2^53 so JSON clients read it exactly.
std::uint64_t stableDeliveryId(std::string_view hook, std::string_view type,
                               std::uint64_t position) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;  // a separator no text contains
  };
  mix(hook);
  mix(type);
  mix(std::to_string(position));
  return (h & ((std::uint64_t{1} << 53) - 1)) | 1;  // never 0
}

struct Hook {
  Subscription subscription;
  // Distinguishes a subscription removed and added again from the one an in-flight result
  // belongs to.
  std::uint64_t generation = 0;
  std::deque<Pending> fresh;                  // never attempted, in publish order
  std::multimap<TimePoint, Pending> retries;  // by due time (the Clock's)
  std::optional<Pending> current;             // in flight (at most one)
  std::deque<Delivery> log;                   // oldest first
};

std::int64_t unixMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool isSuccess(unsigned status) { return status >= 200 && status < 300; }

// No response at all, a server error, or an explicit "try later".
bool isRetryable(unsigned status) {
  return status == 0 || status >= 500 || status == 408 || status == 429;
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool matchesAny(const std::vector<std::string>& filters, std::string_view type) {
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return eventMatches(f, type); });
}

}  // namespace

bool eventMatches(std::string_view filter, std::string_view type) {
  if (filter == "*") return true;
  if (filter.ends_with(".*")) {
    std::string_view prefix = filter.substr(0, filter.size() - 1);  // keeps the '.'
    return prefix.size() > 1 && type.size() > prefix.size() && type.starts_with(prefix);
  }
  return !filter.empty() && filter == type;
}

std::string signatureHeader(std::string_view secret, std::string_view body) {
  return "sha256=" + hmacSha256Hex(secret, body);
}

Status validateUrl(std::string_view url) {
  auto target = parsePostUrl(url);
  return target ? Status::ok() : target.status();
}

Status validateFilter(std::string_view filter) {
  auto bad = [&](std::string_view why) {
    return Status::invalidArgument("events: \"" + std::string(filter.substr(0, 100)) +
                                   "\": " + std::string(why) +
                                   " (expected \"*\", \"prefix.*\" or an event type)");
  };
  if (filter == "*") return Status::ok();
  std::string_view name = filter.ends_with(".*") ? filter.substr(0, filter.size() - 2) : filter;
  if (name.empty()) return bad("empty");
  if (name.size() > 200) return bad("too long");
  if (!std::all_of(name.begin(), name.end(), isNameChar)) return bad("invalid character");
  if (name.front() == '.' || name.back() == '.') return bad("must not start or end with '.'");
  return Status::ok();
}

struct Dispatcher::Impl {
  Impl(Options o, Clock& c) : options(std::move(o)), clock(c) {
    options.max_attempts = std::max(1, options.max_attempts);
    options.workers = std::max(1, options.workers);
  }

  // What the scheduler hands to the poster, taken under the lock and sent outside it.
  struct Launch {
    std::string hookId;
    std::uint64_t generation;
    Subscription subscription;
    Pending item;
  };

  void runScheduler();
  std::vector<Launch> takeDue(TimePoint now, TimePoint& wakeAt);
  void launch(Launch launch);
  void complete(const std::string& hookId, std::uint64_t generation, std::int64_t startedMs,
                PostResult result, bool permanent);
  std::chrono::milliseconds backoff(int attempts, std::chrono::milliseconds retryAfter);
  void appendLog(Hook& hook, Delivery delivery);
  void dropWaiting(Hook& hook, const std::string& webhookId, std::string_view why);
  void dropAll(Hook& hook, const std::string& webhookId, std::string_view why);
  void drop(Hook& hook, const std::string& webhookId, const Pending& item, std::string_view why);

  Options options;
  Clock& clock;
  mutable std::mutex mutex;  // guards everything below except poster and scheduler
  std::condition_variable wake;
  std::map<std::string, Hook> hooks;
  std::uint64_t nextDeliveryId = 1;
  std::uint64_t nextGeneration = 1;
  Stats stats;
  bool running = false;
  bool stopping = false;
  std::mt19937_64 random{std::random_device{}()};
  // Created by start() before the scheduler thread, destroyed by stop() after it is joined;
  // only that thread uses it in between.
  std::unique_ptr<HttpPoster> poster;
  std::thread scheduler;
};

void Dispatcher::Impl::runScheduler() {
  std::unique_lock lock(mutex);
  while (!stopping) {
    auto wakeAt = TimePoint::max();
    const TimePoint now = clock.now();
    std::vector<Launch> due = takeDue(now, wakeAt);
    if (!due.empty()) {
      // Signing and handing over happen outside the lock: publish() must never wait on them.
      lock.unlock();
      for (Launch& l : due) launch(std::move(l));
      lock.lock();
      continue;
    }
    if (wakeAt == TimePoint::max()) {
      wake.wait(lock);
    } else {
      // Real time for a span of the Clock's: a FakeClock's test calls runDue() instead.
      wake.wait_for(lock, wakeAt - now);
    }
  }
}

// For each subscription with nothing in flight: the oldest delivery that may go now. A due
// retry older than the next fresh delivery goes first (order where possible); one not yet due
// does not hold the fresh ones back.
std::vector<Dispatcher::Impl::Launch> Dispatcher::Impl::takeDue(TimePoint now, TimePoint& wakeAt) {
  std::vector<Launch> due;
  for (auto& [id, hook] : hooks) {
    if (hook.current || !hook.subscription.active) continue;
    auto retry = hook.retries.begin();
    bool retryDue = retry != hook.retries.end() && retry->first <= now;
    if (retryDue && (hook.fresh.empty() || retry->second.id < hook.fresh.front().id)) {
      hook.current = std::move(retry->second);
      hook.retries.erase(retry);
    } else if (!hook.fresh.empty()) {
      hook.current = std::move(hook.fresh.front());
      hook.fresh.pop_front();
    } else {
      if (retry != hook.retries.end()) wakeAt = std::min(wakeAt, retry->first);
      continue;
    }
    due.push_back(Launch{id, hook.generation, hook.subscription, *hook.current});
  }
  return due;
}

void Dispatcher::Impl::launch(Launch l) {
  std::int64_t startedMs = unixMs(clock.now());
  auto target = parsePostUrl(l.subscription.url);
  if (!target) {
    PostResult result;
    result.error = target.status().message();
    return complete(l.hookId, l.generation, startedMs, std::move(result), /*permanent=*/true);
  }
  HttpPoster::Headers headers = {
      {"Content-Type", "application/json"},
      {"User-Agent", "netledgerd"},
      {"X-Netledger-Event", l.item.type},
      {"X-Netledger-Delivery", std::to_string(l.item.deliveryId)},
      {"X-Netledger-Signature", signatureHeader(l.subscription.secret, *l.item.body)},
  };
  poster->post(*target, std::move(headers), l.item.body,
               [this, hookId = std::move(l.hookId), generation = l.generation,
                startedMs](PostResult result) {
                 complete(hookId, generation, startedMs, std::move(result), false);
               });
}

void Dispatcher::Impl::complete(const std::string& hookId, std::uint64_t generation,
                                std::int64_t startedMs, PostResult result, bool permanent) {
  std::lock_guard lock(mutex);
  auto it = hooks.find(hookId);
  // Removed (and maybe re-added) meanwhile: remove() has already accounted for it.
  if (it == hooks.end() || it->second.generation != generation || !it->second.current) return;
  Hook& hook = it->second;
  Pending item = std::move(*hook.current);
  hook.current.reset();
  ++item.attempts;

  Delivery d = deliveryOf(item, hookId, startedMs);
  d.status = result.status;
  d.error = std::move(result.error);
  d.duration_ms = result.durationMs;
  bool retry = !permanent && !isSuccess(result.status) && isRetryable(result.status) &&
               item.attempts < options.max_attempts;
  if (isSuccess(result.status)) {
    d.outcome = "delivered";
    ++stats.delivered;
    --stats.queued;
  } else if (retry && hook.subscription.active) {
    d.outcome = "retrying";
    ++stats.retries;
    auto due = clock.now() + backoff(item.attempts, result.retryAfter);
    hook.retries.emplace(due, std::move(item));
  } else if (retry) {
    d.outcome = "dropped";
    d.error += "; subscription deactivated";
    ++stats.dropped;
    --stats.queued;
  } else {
    d.outcome = "failed";
    ++stats.failed;
    --stats.queued;
  }
  appendLog(hook, std::move(d));
  wake.notify_one();
}

std::chrono::milliseconds Dispatcher::Impl::backoff(int attempts,
                                                    std::chrono::milliseconds retryAfter) {
  double cap = static_cast<double>(options.max_backoff.count());
  double base = std::min(cap, static_cast<double>(options.initial_backoff.count()) *
                                  std::ldexp(1.0, std::min(attempts - 1, 62)));
  // "Equal jitter": half fixed, half random, so the wait still grows with every attempt.
  double jittered = base * std::uniform_real_distribution<double>(0.5, 1.0)(random);
  auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(jittered));
  return std::min(std::max(delay, retryAfter), options.max_backoff);
}

void Dispatcher::Impl::appendLog(Hook& hook, Delivery delivery) {
  if (options.log_per_webhook == 0) return;
  hook.log.push_back(std::move(delivery));
  while (hook.log.size() > options.log_per_webhook) hook.log.pop_front();
}

void Dispatcher::Impl::drop(Hook& hook, const std::string& webhookId, const Pending& item,
                            std::string_view why) {
  Delivery d = deliveryOf(item, webhookId, unixMs(clock.now()));
  d.error = std::string(why);
  d.outcome = "dropped";
  ++stats.dropped;
  appendLog(hook, std::move(d));
}

// Drops the deliveries that are queued but not in flight.
void Dispatcher::Impl::dropWaiting(Hook& hook, const std::string& webhookId, std::string_view why) {
  for (const Pending& item : hook.fresh) drop(hook, webhookId, item, why);
  for (const auto& [due, item] : hook.retries) drop(hook, webhookId, item, why);
  stats.queued -= hook.fresh.size() + hook.retries.size();
  hook.fresh.clear();
  hook.retries.clear();
}

// Drops every unfinished delivery; a result still arriving for the one in flight is ignored.
void Dispatcher::Impl::dropAll(Hook& hook, const std::string& webhookId, std::string_view why) {
  dropWaiting(hook, webhookId, why);
  if (!hook.current) return;
  drop(hook, webhookId, *hook.current, why);
  --stats.queued;
  hook.current.reset();
}

Dispatcher::Dispatcher(Options options, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  if (impl.running) return;
  PosterOptions posterOptions;
  posterOptions.threads = static_cast<std::size_t>(impl.options.workers);
  posterOptions.timeout = impl.options.timeout;
  posterOptions.insecureTls = impl.options.insecure_tls;
  posterOptions.caFile = impl.options.ca_file;
  impl.poster = std::make_unique<HttpPoster>(std::move(posterOptions));
  impl.stopping = false;
  impl.running = true;
  impl.scheduler = std::thread([&impl] { impl.runScheduler(); });
}

void Dispatcher::stop() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    if (!impl.running || impl.stopping) return;
    impl.stopping = true;
    impl.wake.notify_all();
  }
  impl.scheduler.join();
  // Not under the lock: a delivery callback that is running needs it to finish. Afterwards no
  // callback runs again, so whatever is still in flight can be accounted for below.
  impl.poster->stop();
  std::unique_ptr<HttpPoster> poster = std::move(impl.poster);
  std::lock_guard lock(impl.mutex);
  for (auto& [id, hook] : impl.hooks) impl.dropAll(hook, id, "dispatcher stopped");
  impl.stats.queued = 0;
  impl.running = false;
  impl.stopping = false;
}

std::size_t Dispatcher::runDue() {
  Impl& impl = *impl_;
  std::vector<Impl::Launch> due;
  {
    std::lock_guard lock(impl.mutex);
    if (!impl.running || impl.stopping) return 0;
    auto wakeAt = TimePoint::max();
    due = impl.takeDue(impl.clock.now(), wakeAt);
  }
  // Outside the lock, as the scheduler does: publish() must never wait on signing.
  for (Impl::Launch& l : due) impl.launch(std::move(l));
  return due.size();
}

std::optional<TimePoint> Dispatcher::nextRetryDue() const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  std::optional<TimePoint> next;
  for (const auto& [id, hook] : impl.hooks) {
    if (hook.current || !hook.subscription.active || hook.retries.empty()) continue;
    const TimePoint due = hook.retries.begin()->first;
    if (!next || due < *next) next = due;
  }
  return next;
}

void Dispatcher::upsert(Subscription s) {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  auto [it, inserted] = impl.hooks.try_emplace(s.id);
  Hook& hook = it->second;
  if (inserted) hook.generation = impl.nextGeneration++;
  hook.subscription = std::move(s);
  // The attempt in flight, if any, still completes and is logged; it is not retried.
  if (!hook.subscription.active) impl.dropWaiting(hook, it->first, "subscription deactivated");
  impl.wake.notify_one();
}

void Dispatcher::remove(const std::string& id) {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  auto it = impl.hooks.find(id);
  if (it == impl.hooks.end()) return;
  impl.dropAll(it->second, id, "subscription removed");
  impl.hooks.erase(it);
}

void Dispatcher::publish(const std::string& type, const std::string& event_id,
                         const std::string& body, std::uint64_t position) {
  Impl& impl = *impl_;
  std::shared_ptr<const std::string> shared;
  bool added = false;
  std::lock_guard lock(impl.mutex);
  for (auto& [id, hook] : impl.hooks) {
    if (!hook.subscription.active || !matchesAny(hook.subscription.events, type)) continue;
    Pending item{impl.nextDeliveryId++, type, event_id, nullptr, 0, position, 0};
    item.deliveryId = position != 0 ? stableDeliveryId(id, type, position) : item.id;
    if (impl.stats.queued >= impl.options.max_queue) {
      impl.drop(hook, id, item,
                "queue full (" + std::to_string(impl.options.max_queue) + " deliveries pending)");
      continue;
    }
    if (!shared) shared = std::make_shared<const std::string>(body);
    item.body = shared;
    hook.fresh.push_back(std::move(item));
    ++impl.stats.queued;
    added = true;
  }
  if (added) impl.wake.notify_one();
}

std::optional<std::uint64_t> Dispatcher::oldestUnfinished() const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  std::optional<std::uint64_t> oldest;
  auto consider = [&](const Pending& p) {
    if (p.position != 0 && (!oldest || p.position < *oldest)) oldest = p.position;
  };
  for (const auto& [id, hook] : impl.hooks) {
    for (const Pending& p : hook.fresh) consider(p);
    for (const auto& [due, p] : hook.retries) consider(p);
    if (hook.current) consider(*hook.current);
  }
  return oldest;
}

bool Dispatcher::wants(std::string_view type) const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  for (const auto& [id, hook] : impl.hooks) {
    if (hook.subscription.active && matchesAny(hook.subscription.events, type)) return true;
  }
  return false;
}

std::vector<Delivery> Dispatcher::deliveries(const std::string& webhook_id,
                                             std::size_t limit) const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  std::vector<Delivery> out;
  auto it = impl.hooks.find(webhook_id);
  if (it == impl.hooks.end()) return out;
  const auto& log = it->second.log;
  out.reserve(std::min(limit, log.size()));
  for (auto entry = log.rbegin(); entry != log.rend() && out.size() < limit; ++entry) {
    out.push_back(*entry);
  }
  return out;
}

Stats Dispatcher::stats() const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  return impl.stats;
}

}  // namespace netledger::webhooks
