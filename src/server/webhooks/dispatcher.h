#pragma once
// Webhook delivery: signed JSON POSTs of ledger events to subscribers' URLs, with retries and
// exponential backoff, off the ledger's threads. publish() only queues (it is called from the
// ledger's committer thread); a small pool of workers delivers whatever is due, so a dead or
// slow receiver delays nobody else's deliveries beyond a worker's timeout.
//
// Beast, Asio and OpenSSL stay inside dispatcher.cc.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace netledger::webhooks {

struct Subscription {
  std::string id;
  std::string url;                  // http://host[:port]/path or https://...
  std::string secret;               // the HMAC key
  std::vector<std::string> events;  // filters: "conflict.opened", "binding.*", "*"
  bool active = true;
};

struct Delivery {
  std::uint64_t id = 0;  // the same across the retries of one delivery
  std::string webhook_id, event_type, event_id;
  int attempt = 0;
  std::int64_t time_ms = 0;
  unsigned status = 0;  // 0: no HTTP answer
  std::string error;
  double duration_ms = 0;
  std::string outcome;  // "delivered" | "retrying" | "failed" | "dropped"
};

struct Options {
  std::size_t max_queue = 10'000;
  int max_attempts = 8;
  std::chrono::milliseconds initial_backoff{1000}, max_backoff{300'000}, timeout{5000};
  int workers = 2;
  std::size_t log_per_webhook = 200;
  bool insecure_tls = false;  // tests only: accept any certificate
};

struct Stats {
  std::uint64_t delivered = 0, failed = 0, retries = 0, dropped = 0;
  std::size_t queued = 0;
};

// Exact type, "prefix.*" (any type starting with "prefix."), or "*".
bool eventMatches(std::string_view filter, std::string_view type);
// "sha256=<hex HMAC-SHA256 of body keyed with secret>".
std::string signatureHeader(std::string_view secret, std::string_view body);

class Dispatcher {
 public:
  explicit Dispatcher(Options options = {});
  ~Dispatcher();  // stops
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // Bounded: workers finish their current attempt (at most one timeout); what is still queued
  // is dropped and counted.
  void stop();

  void upsert(Subscription s);
  void remove(const std::string& id);

  // Never blocks: one delivery per active subscription whose filters match `type`; dropped
  // (counted, logged "dropped") when the queue is full.
  void publish(const std::string& type, const std::string& event_id, const std::string& body);

  // Newest first.
  std::vector<Delivery> deliveries(const std::string& webhook_id, std::size_t limit) const;
  Stats stats() const;

 private:
  struct Job {
    Delivery delivery;
    std::string url, secret, body;
    std::chrono::steady_clock::time_point due;
  };

  void workerLoop();
  void attempt(Job& job);
  void logLocked(const Delivery& d);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Subscription> subscriptions_;
  std::deque<Job> queue_;  // kept ordered by due time (retries are inserted in place)
  std::map<std::string, std::deque<Delivery>> log_;
  Stats stats_;
  std::uint64_t next_delivery_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace netledger::webhooks
