#include "server/webhooks/dispatcher.h"

#include <algorithm>
#include <random>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "common/crypto.h"

namespace netledger::webhooks {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

bool eventMatches(std::string_view filter, std::string_view type) {
  if (filter == "*") return true;
  if (filter.size() >= 2 && filter.substr(filter.size() - 2) == ".*") {
    std::string_view prefix = filter.substr(0, filter.size() - 1);  // keeps the dot
    return type.size() > prefix.size() && type.substr(0, prefix.size()) == prefix;
  }
  return filter == type;
}

std::string signatureHeader(std::string_view secret, std::string_view body) {
  return "sha256=" + hmacSha256Hex(secret, body);
}

namespace {

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Target {
  bool https = false;
  std::string host, port, target, host_header;
};

bool parseTarget(const std::string& url, Target& t, std::string& error) {
  auto u = boost::urls::parse_uri(url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty()) {
    error = "not an http(s) URL";
    return false;
  }
  t.https = u->scheme() == "https";
  t.host = u->host_address();
  t.port = u->has_port() ? std::string(u->port()) : (t.https ? "443" : "80");
  t.target = u->encoded_target().empty() ? "/" : std::string(u->encoded_target());
  t.host_header = u->encoded_host_and_port();
  return true;
}

// One POST; fills status (0 when no answer) and error.
template <class Stream>
void exchange(Stream& stream, const Target& t, const bhttp::request<bhttp::string_body>& req,
              std::chrono::milliseconds timeout, unsigned& status, std::string& error) {
  beast::get_lowest_layer(stream).expires_after(timeout);
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024);  // the answer is not interesting; do not let it be huge
  beast::get_lowest_layer(stream).expires_after(timeout);
  bhttp::read(stream, buffer, parser);
  status = parser.get().result_int();
  (void)t;
  (void)error;
}

}  // namespace

Dispatcher::Dispatcher(Options options) : options_(options) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  std::lock_guard lock(mu_);
  if (!workers_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { workerLoop(); });
  }
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  std::lock_guard lock(mu_);
  for (auto& job : queue_) {
    job.delivery.outcome = "dropped";
    job.delivery.error = "server stopping";
    logLocked(job.delivery);
    ++stats_.dropped;
  }
  queue_.clear();
}

void Dispatcher::upsert(Subscription s) {
  std::lock_guard lock(mu_);
  subscriptions_[s.id] = std::move(s);
}

void Dispatcher::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  subscriptions_.erase(id);
  log_.erase(id);
}

void Dispatcher::publish(const std::string& type, const std::string& event_id,
                         const std::string& body) {
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subscriptions_) {
      if (!s.active) continue;
      bool wanted = false;
      for (const auto& f : s.events) wanted = wanted || eventMatches(f, type);
      if (!wanted) continue;
      Job job;
      job.delivery.id = next_delivery_++;
      job.delivery.webhook_id = id;
      job.delivery.event_type = type;
      job.delivery.event_id = event_id;
      job.delivery.time_ms = nowMs();
      job.url = s.url;
      job.secret = s.secret;
      job.body = body;
      job.due = SteadyClock::now();
      if (queue_.size() >= options_.max_queue) {
        job.delivery.outcome = "dropped";
        job.delivery.error = "delivery queue full (" + std::to_string(options_.max_queue) + ")";
        logLocked(job.delivery);
        ++stats_.dropped;
        continue;
      }
      // New jobs are due now: after every job already due, before retries scheduled later.
      auto pos = std::upper_bound(queue_.begin(), queue_.end(), job.due,
                                  [](auto due, const Job& j) { return due < j.due; });
      queue_.insert(pos, std::move(job));
      queued = true;
    }
  }
  if (queued) cv_.notify_one();
}

void Dispatcher::workerLoop() {
  std::minstd_rand jitter(std::random_device{}());
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    if (queue_.front().due > SteadyClock::now()) {
      cv_.wait_until(lock, queue_.front().due);
      continue;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    attempt(job);
    lock.lock();
    Delivery& d = job.delivery;
    const bool ok = d.status >= 200 && d.status < 300;
    const bool retryable = d.status == 0 || d.status >= 500 || d.status == 408 || d.status == 429;
    if (ok) {
      d.outcome = "delivered";
      ++stats_.delivered;
    } else if (retryable && d.attempt < options_.max_attempts && !stopping_) {
      d.outcome = "retrying";
      ++stats_.retries;
      auto base = options_.initial_backoff * (1LL << std::min(d.attempt - 1, 20));
      auto capped = std::min<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(base), options_.max_backoff);
      // +-20% so receivers coming back are not hit by every retry at the same instant.
      double factor = 0.8 + 0.4 * (static_cast<double>(jitter() % 1000) / 1000.0);
      job.due = SteadyClock::now() +
                std::chrono::milliseconds(static_cast<std::int64_t>(capped.count() * factor));
    } else {
      d.outcome = "failed";
      ++stats_.failed;
    }
    logLocked(d);
    if (d.outcome == "retrying") {
      auto pos = std::upper_bound(queue_.begin(), queue_.end(), job.due,
                                  [](auto due, const Job& j) { return due < j.due; });
      queue_.insert(pos, std::move(job));
      cv_.notify_one();
    }
  }
}

void Dispatcher::attempt(Job& job) {
  Delivery& d = job.delivery;
  ++d.attempt;
  d.status = 0;
  d.error.clear();
  d.time_ms = nowMs();
  const auto started = SteadyClock::now();
  Target t;
  if (!parseTarget(job.url, t, d.error)) {
    d.duration_ms = 0;
    d.status = 400;  // not retryable: the URL will not get better
    return;
  }
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, t.target, 11};
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "netledgerd");
  req.set(bhttp::field::content_type, "application/json");
  req.set("X-Netledger-Signature", signatureHeader(job.secret, job.body));
  req.set("X-Netledger-Event", d.event_type);
  req.set("X-Netledger-Delivery", std::to_string(d.id));
  req.keep_alive(false);
  req.body() = job.body;
  req.prepare_payload();
  try {
    net::io_context io;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(t.host, t.port);
    if (t.https) {
      net::ssl::context ctx(net::ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(options_.insecure_tls ? net::ssl::verify_none : net::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
      if (!options_.insecure_tls) {
        stream.set_verify_callback(net::ssl::host_name_verification(t.host));
      }
      SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str());
      beast::get_lowest_layer(stream).expires_after(options_.timeout);
      beast::get_lowest_layer(stream).connect(endpoints);
      beast::get_lowest_layer(stream).expires_after(options_.timeout);
      stream.handshake(net::ssl::stream_base::client);
      exchange(stream, t, req, options_.timeout, d.status, d.error);
    } else {
      beast::tcp_stream stream(io);
      stream.expires_after(options_.timeout);
      stream.connect(endpoints);
      exchange(stream, t, req, options_.timeout, d.status, d.error);
    }
    if (d.status < 200 || d.status >= 300) d.error = "HTTP " + std::to_string(d.status);
  } catch (const std::exception& e) {
    d.status = 0;
    d.error = e.what();
  }
  d.duration_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
}

void Dispatcher::logLocked(const Delivery& d) {
  auto& log = log_[d.webhook_id];
  log.push_front(d);
  while (log.size() > options_.log_per_webhook) log.pop_back();
}

std::vector<Delivery> Dispatcher::deliveries(const std::string& webhook_id,
                                             std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<Delivery> out;
  auto it = log_.find(webhook_id);
  if (it == log_.end()) return out;
  for (const auto& d : it->second) {
    if (out.size() == limit) break;
    out.push_back(d);
  }
  return out;
}

Stats Dispatcher::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

}  // namespace netledger::webhooks
