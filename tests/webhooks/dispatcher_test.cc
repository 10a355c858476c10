// The webhook dispatcher against real receivers: netledger's own HTTP server on 127.0.0.1 with an
// ephemeral port, recording every request and answering from a per-endpoint script.

#include "webhooks/dispatcher.h"

#include <gtest/gtest.h>

#include <openssl/hmac.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "http/http_test_support.h"
#include "http/server.h"

namespace netledger::webhooks {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// HMAC-SHA256 in hex straight from OpenSSL's one-shot HMAC(), independent of common/crypto.
std::string referenceSignature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 15];
  }
  return "sha256=" + hex;
}

struct Received {
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  TimePoint at;                                // by the receiver's clock
};

// Records POST /hook/{name}, with the time by `clock` (the dispatcher's, so backoff shows in
// it). Each name answers with its script of statuses in turn (the last one repeats; 200 when
// unscripted); a hanging name never answers.
class Receiver {
 public:
  explicit Receiver(const http::testing::SelfSignedCert* tls = nullptr,
                    const Clock& clock = SystemClock::instance())
      : clock_(clock) {
    http::Router router;
    Status s = router.add("POST", "/hook/{name}", [this](http::Request& req, http::Responder r) {
      onRequest(req, std::move(r));
    });
    EXPECT_TRUE(s.isOk());
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    if (tls != nullptr) {
      options.tlsCertFile = tls->certFile();
      options.tlsKeyFile = tls->keyFile();
    }
    auto server = http::Server::start(options, std::move(router));
    EXPECT_TRUE(server.isOk()) << server.status().toString();
    if (server) server_ = std::move(server).value();
  }

  ~Receiver() {
    server_->stop(0ms);
    std::lock_guard lock(mutex_);
    hung_.clear();
  }

  std::string url(const std::string& name, const std::string& host = "127.0.0.1") const {
    std::string scheme = server_->isTls() ? "https" : "http";
    return scheme + "://" + host + ":" + std::to_string(server_->port()) + "/hook/" + name;
  }

  void script(const std::string& name, std::vector<unsigned> statuses) {
    std::lock_guard lock(mutex_);
    scripts_[name] = std::move(statuses);
  }
  void hang(const std::string& name) { script(name, {0}); }

  std::vector<Received> received(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = received_.find(name);
    return it == received_.end() ? std::vector<Received>{} : it->second;
  }

  // Waits until `name` has received at least `count` requests.
  bool waitFor(const std::string& name, std::size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return received_[name].size() >= count; });
  }

 private:
  void onRequest(http::Request& req, http::Responder respond) {
    std::string name(req.param("name"));
    Received r;
    r.body = req.body;
    for (const auto& [key, value] : req.headers) {
      std::string lower = key;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[lower] = value;
    }
    r.at = clock_.now();
    unsigned status = 200;
    {
      std::lock_guard lock(mutex_);
      auto& list = received_[name];
      list.push_back(std::move(r));
      auto script = scripts_.find(name);
      if (script != scripts_.end() && !script->second.empty()) {
        status = script->second[std::min(list.size(), script->second.size()) - 1];
      }
      changed_.notify_all();
      if (status == 0) {
        hung_.push_back(std::move(respond));
        return;
      }
    }
    http::Response response = http::Response::text(status, "ok");
    if (status == 429) response.headers.add("Retry-After", "1");
    respond(std::move(response));
  }

  const Clock& clock_;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<unsigned>> scripts_;
  std::map<std::string, std::vector<Received>> received_;
  std::vector<http::Responder> hung_;
};

Options fastOptions() {
  Options o;
  o.initial_backoff = 20ms;
  o.max_backoff = 200ms;
  o.timeout = 2s;
  return o;
}

Subscription subscription(std::string id, std::string url, std::vector<std::string> events = {"*"},
                          std::string secret = "s3cret") {
  Subscription s;
  s.id = std::move(id);
  s.url = std::move(url);
  s.secret = std::move(secret);
  s.events = std::move(events);
  return s;
}

// Polls until `done` holds or the timeout passes; returns whether it held.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 5s) {
  auto deadline = SteadyClock::now() + timeout;
  while (!done()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Drives retries without waiting for them: whenever a retry waits for its time (and nothing is
// in flight), moves `clock` to exactly that time and runs it; until `done` holds. Real time goes
// only to the network round trips.
template <class Predicate>
bool retryUntil(FakeClock& clock, Dispatcher& dispatcher, Predicate done) {
  return eventually([&] {
    if (done()) return true;
    if (auto due = dispatcher.nextRetryDue(); due && *due > clock.now()) clock.set(*due);
    dispatcher.runDue();
    return done();
  });
}

TEST(WebhookFilterTest, EventMatches) {
  EXPECT_TRUE(eventMatches("*", "binding.created"));
  EXPECT_TRUE(eventMatches("conflict.opened", "conflict.opened"));
  EXPECT_FALSE(eventMatches("conflict.opened", "conflict.opened2"));
  EXPECT_FALSE(eventMatches("conflict.opened", "conflict"));
  EXPECT_TRUE(eventMatches("binding.*", "binding.created"));
  EXPECT_TRUE(eventMatches("binding.*", "binding.lease.expired"));
  EXPECT_FALSE(eventMatches("binding.*", "binding"));
  EXPECT_FALSE(eventMatches("binding.*", "binding."));
  EXPECT_FALSE(eventMatches("binding.*", "bindings.created"));
  EXPECT_FALSE(eventMatches("binding.*", "pool.created"));
  EXPECT_FALSE(eventMatches("", "binding.created"));
  EXPECT_FALSE(eventMatches(".*", "x.y"));
  EXPECT_FALSE(eventMatches("bind*", "binding.created"));  // only whole segments
}

TEST(WebhookFilterTest, ValidateFilterNamesTheProblem) {
  EXPECT_TRUE(validateFilter("*").isOk());
  EXPECT_TRUE(validateFilter("binding.*").isOk());
  EXPECT_TRUE(validateFilter("conflict.opened").isOk());
  for (std::string_view bad : {"", ".*", "bind*", "a b", "binding.", ".binding", "x\r\ny"}) {
    Status s = validateFilter(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("events"), std::string::npos) << s.message();
  }
}

TEST(WebhookUrlTest, ValidateUrl) {
  EXPECT_TRUE(validateUrl("http://192.0.2.1/hook").isOk());
  EXPECT_TRUE(validateUrl("https://hooks.example.com:8443/a/b?x=1").isOk());
  EXPECT_TRUE(validateUrl("http://[2001:db8::1]:8080").isOk());
  for (std::string_view bad :
       {"", "/relative", "ftp://192.0.2.1/", "http://", "http:///path", "http://user:pw@192.0.2.1/",
        "http://192.0.2.1/#frag", "http://192.0.2.1:0/", "http://192.0.2.1:65536/",
        "http://a%0d%0aInjected:%20x/", "http://192.0.2.12.1/hook", "not a url"}) {
    Status s = validateUrl(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("url"), std::string::npos) << s.message();
  }
}

TEST(WebhookSignatureTest, MatchesAnIndependentHmac) {
  std::string body = R"({"type":"binding.created","ip":"192.0.2.7"})";
  EXPECT_EQ(signatureHeader("s3cret", body), referenceSignature("s3cret", body));
  EXPECT_NE(signatureHeader("other", body), referenceSignature("s3cret", body));
}

TEST(WebhookDispatcherTest, DeliversTheSignedBodyWithItsHeaders) {
  Receiver receiver;
  Dispatcher dispatcher(fastOptions());
  dispatcher.upsert(subscription("a", receiver.url("a"), {"binding.*"}, "k3y-\x01\xff"));
  dispatcher.start();
  // Bytes that a re-serializing receiver would change: the signature covers them exactly.
  const std::string body = "{\"type\":\"binding.created\", \"ip\":\"192.0.2.7\",\"n\":\"\\u00e9\"}";
  dispatcher.publish("binding.created", "evt-1", body);
  ASSERT_TRUE(receiver.waitFor("a", 1));
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered == 1; }));

  Received r = receiver.received("a").at(0);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.headers["user-agent"], "netledgerd");
  EXPECT_EQ(r.headers["x-netledger-event"], "binding.created");
  EXPECT_EQ(r.headers["x-netledger-signature"], referenceSignature("k3y-\x01\xff", body));
  EXPECT_EQ(r.headers["content-length"], std::to_string(body.size()));

  auto log = dispatcher.deliveries("a", 10);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(r.headers["x-netledger-delivery"], std::to_string(log[0].id));
  EXPECT_EQ(log[0].webhook_id, "a");
  EXPECT_EQ(log[0].event_type, "binding.created");
  EXPECT_EQ(log[0].event_id, "evt-1");
  EXPECT_EQ(log[0].attempt, 1);
  EXPECT_EQ(log[0].status, 200u);
  EXPECT_EQ(log[0].outcome, "delivered");
  EXPECT_TRUE(log[0].error.empty());
  EXPECT_GT(log[0].time_ms, 1'600'000'000'000);
  EXPECT_GE(log[0].duration_ms, 0.0);
  Stats stats = dispatcher.stats();
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.failed + stats.retries + stats.dropped, 0u);
}

// With the event's position given, a delivery's id is a function of the subscription, the type
// and the position: another process (a replica taking over, a restarted node) delivering the
// same event sends the same X-Netledger-Delivery, so receivers can drop the repeat.
TEST(WebhookDispatcherTest, PositionedDeliveriesHaveTheSameIdInEveryDispatcher) {
  Receiver receiver;
  std::vector<std::string> ids;
  for (int run = 0; run < 2; ++run) {
    Dispatcher dispatcher(fastOptions());
    dispatcher.upsert(subscription("a", receiver.url("a")));
    dispatcher.upsert(subscription("b", receiver.url("b")));
    dispatcher.start();
    dispatcher.publish("binding.allocate", "17", "{}", 4100);
    dispatcher.publish("binding.allocate", "18", "{}", 4101);
    dispatcher.publish("binding.release", "18", "{}", 4101);
    ASSERT_TRUE(receiver.waitFor("a", 3 * (run + 1)));
    ASSERT_TRUE(receiver.waitFor("b", 3 * (run + 1)));
  }
  for (const char* hook : {"a", "b"}) {
    auto got = receiver.received(hook);
    ASSERT_EQ(got.size(), 6u);
    std::set<std::string> distinct;
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(got[i].headers["x-netledger-delivery"], got[i + 3].headers["x-netledger-delivery"])
          << hook << " delivery " << i;
      distinct.insert(got[i].headers["x-netledger-delivery"]);
      EXPECT_LT(std::stoull(got[i].headers["x-netledger-delivery"]), 1ULL << 53);
    }
    EXPECT_EQ(distinct.size(), 3u) << "one id per (type, position)";
  }
  EXPECT_NE(receiver.received("a")[0].headers["x-netledger-delivery"],
            receiver.received("b")[0].headers["x-netledger-delivery"]);
}

// oldestUnfinished: the lowest position still owed, so a successor knows where to resume.
TEST(WebhookDispatcherTest, OldestUnfinishedIsTheLowestPositionNotYetDone) {
  Receiver receiver;
  Dispatcher dispatcher(fastOptions());
  dispatcher.upsert(subscription("a", receiver.url("a"), {"binding.*"}));
  EXPECT_FALSE(dispatcher.oldestUnfinished().has_value());
  dispatcher.publish("binding.allocate", "1", "{}", 0);  // no position: not reported
  EXPECT_FALSE(dispatcher.oldestUnfinished().has_value());
  dispatcher.publish("pool.create", "2", "{}", 300);  // nobody wants it: nothing owed
  EXPECT_FALSE(dispatcher.oldestUnfinished().has_value());
  dispatcher.publish("binding.allocate", "3", "{}", 500);
  dispatcher.publish("binding.allocate", "4", "{}", 700);
  ASSERT_TRUE(dispatcher.oldestUnfinished().has_value());
  EXPECT_EQ(*dispatcher.oldestUnfinished(), 500u);
  dispatcher.start();
  ASSERT_TRUE(receiver.waitFor("a", 3));
  ASSERT_TRUE(eventually([&] { return !dispatcher.oldestUnfinished().has_value(); }));
}

TEST(WebhookDispatcherTest, WantsSaysWhetherAnActiveSubscriptionMatches) {
  Dispatcher dispatcher(fastOptions());  // never started: nothing is sent
  EXPECT_FALSE(dispatcher.wants("conflict.opened"));
  dispatcher.upsert(subscription("b", "http://127.0.0.1:9/h", {"binding.*"}));
  Subscription paused = subscription("p", "http://127.0.0.1:9/h", {"*"});
  paused.active = false;
  dispatcher.upsert(paused);
  EXPECT_TRUE(dispatcher.wants("binding.allocate"));
  EXPECT_FALSE(dispatcher.wants("conflict.opened")) << "only the paused subscription matches";
  dispatcher.remove("b");
  EXPECT_FALSE(dispatcher.wants("binding.allocate"));
}

TEST(WebhookDispatcherTest, FiltersChooseTheSubscriptions) {
  Receiver receiver;
  Dispatcher dispatcher(fastOptions());
  dispatcher.upsert(subscription("exact", receiver.url("exact"), {"conflict.opened"}));
  dispatcher.upsert(subscription("prefix", receiver.url("prefix"), {"binding.*"}));
  dispatcher.upsert(subscription("two", receiver.url("two"), {"pool.created", "conflict.*"}));
  dispatcher.upsert(subscription("all", receiver.url("all"), {"*"}));
  dispatcher.upsert(subscription("none", receiver.url("none"), {}));
  Subscription paused = subscription("paused", receiver.url("paused"), {"*"});
  paused.active = false;
  dispatcher.upsert(paused);
  dispatcher.start();
  dispatcher.publish("conflict.opened", "1", "{}");
  dispatcher.publish("binding.deleted", "2", "{}");
  dispatcher.publish("pool.created", "3", "{}");
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered == 7; }));
  std::this_thread::sleep_for(50ms);  // nothing else arrives
  auto events = [&](const std::string& name) {
    std::vector<std::string> out;
    for (auto& r : receiver.received(name)) out.push_back(r.headers["x-netledger-event"]);
    return out;
  };
  EXPECT_EQ(events("exact"), std::vector<std::string>{"conflict.opened"});
  EXPECT_EQ(events("prefix"), std::vector<std::string>{"binding.deleted"});
  EXPECT_EQ(events("two"), (std::vector<std::string>{"conflict.opened", "pool.created"}));
  EXPECT_EQ(events("all"),
            (std::vector<std::string>{"conflict.opened", "binding.deleted", "pool.created"}));
  EXPECT_TRUE(events("none").empty());
  EXPECT_TRUE(events("paused").empty());
  EXPECT_EQ(dispatcher.stats().delivered, 7u);
}

TEST(WebhookDispatcherTest, RetriesServerErrorsWithBackoffThenSucceeds) {
  FakeClock clock;
  Receiver receiver(nullptr, clock);
  receiver.script("a", {500, 503, 200});
  Options options = fastOptions();
  options.initial_backoff = 60ms;
  Dispatcher dispatcher(options, clock);
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.start();
  dispatcher.publish("binding.created", "evt-1", R"({"n":1})");
  ASSERT_TRUE(retryUntil(clock, dispatcher, [&] { return receiver.received("a").size() >= 3; }));
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered == 1; }));

  auto got = receiver.received("a");
  ASSERT_EQ(got.size(), 3u);
  // The same delivery each time: same id, same body, same signature.
  for (auto& r : got) {
    EXPECT_EQ(r.body, R"({"n":1})");
    EXPECT_EQ(r.headers["x-netledger-delivery"], got[0].headers["x-netledger-delivery"]);
    EXPECT_EQ(r.headers["x-netledger-signature"], referenceSignature("s3cret", R"({"n":1})"));
  }
  // Exponential backoff with at most half jittered away: >= 30 ms, then >= 60 ms.
  EXPECT_GE(got[1].at - got[0].at, 30ms);
  EXPECT_GE(got[2].at - got[1].at, 60ms);

  auto log = dispatcher.deliveries("a", 10);  // newest first
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].outcome, "retrying");
  EXPECT_EQ(log[2].status, 500u);
  EXPECT_EQ(log[2].error, "HTTP 500 Internal Server Error");
  EXPECT_EQ(log[2].attempt, 1);
  EXPECT_EQ(log[1].outcome, "retrying");
  EXPECT_EQ(log[1].status, 503u);
  EXPECT_EQ(log[0].outcome, "delivered");
  EXPECT_EQ(log[0].attempt, 3);
  EXPECT_EQ(log[0].id, log[2].id);
  Stats stats = dispatcher.stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(WebhookDispatcherTest, TooManyRequestsAndRequestTimeoutAreRetried) {
  FakeClock clock;
  Receiver receiver(nullptr, clock);
  receiver.script("a", {429, 408, 200});  // the 429 says Retry-After: 1
  Options options = fastOptions();
  options.max_backoff = 3s;
  Dispatcher dispatcher(options, clock);
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.start();
  dispatcher.publish("x.y", "1", "{}");
  ASSERT_TRUE(retryUntil(clock, dispatcher, [&] { return dispatcher.stats().delivered == 1; }));
  auto got = receiver.received("a");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(dispatcher.stats().retries, 2u);
  // Retry-After outweighs the 20 ms backoff; the 408 that follows has none.
  EXPECT_GE(got[1].at - got[0].at, 1s);
  EXPECT_LT(got[2].at - got[1].at, 1s);
}

TEST(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  FakeClock clock;
  Receiver receiver;
  receiver.script("a", {502});
  Options options = fastOptions();
  options.max_attempts = 3;
  Dispatcher dispatcher(options, clock);
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.start();
  dispatcher.publish("x.y", "1", "{}");
  ASSERT_TRUE(retryUntil(clock, dispatcher, [&] { return dispatcher.stats().failed == 1; }));
  clock.advance(300ms);  // longer than any backoff: no fourth attempt
  dispatcher.runDue();
  EXPECT_EQ(receiver.received("a").size(), 3u);
  auto log = dispatcher.deliveries("a", 10);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].outcome, "failed");
  EXPECT_EQ(log[0].attempt, 3);
  EXPECT_EQ(log[0].status, 502u);
  Stats stats = dispatcher.stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.delivered, 0u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(WebhookDispatcherTest, ClientErrorsAreNotRetried) {
  FakeClock clock;
  Receiver receiver;
  receiver.script("gone", {410});
  receiver.script("bad", {400});
  Dispatcher dispatcher(fastOptions(), clock);
  dispatcher.upsert(subscription("gone", receiver.url("gone")));
  dispatcher.upsert(subscription("bad", receiver.url("bad")));
  dispatcher.start();
  dispatcher.publish("x.y", "1", "{}");
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().failed == 2; }));
  clock.advance(300ms);  // longer than any backoff: no retry
  dispatcher.runDue();
  EXPECT_EQ(receiver.received("gone").size(), 1u);
  EXPECT_EQ(receiver.received("bad").size(), 1u);
  EXPECT_EQ(dispatcher.deliveries("bad", 1).at(0).outcome, "failed");
  EXPECT_EQ(dispatcher.deliveries("bad", 1).at(0).status, 400u);
  EXPECT_EQ(dispatcher.stats().retries, 0u);
}

TEST(WebhookDispatcherTest, UnreachableReceiverIsRetriedThenFails) {
  // A port nobody listens on: bind one, then close it.
  std::uint16_t port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  FakeClock clock;
  Options options = fastOptions();
  options.max_attempts = 2;
  Dispatcher dispatcher(options, clock);
  dispatcher.upsert(subscription("a", "http://127.0.0.1:" + std::to_string(port) + "/"));
  dispatcher.start();
  dispatcher.publish("x.y", "1", "{}");
  ASSERT_TRUE(retryUntil(clock, dispatcher, [&] { return dispatcher.stats().failed == 1; }));
  auto log = dispatcher.deliveries("a", 10);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].outcome, "retrying");
  EXPECT_EQ(log[0].outcome, "failed");
  EXPECT_EQ(log[0].status, 0u);
  EXPECT_NE(log[0].error.find("connect"), std::string::npos) << log[0].error;
}

TEST(WebhookDispatcherTest, InvalidUrlFailsAtOnce) {
  Dispatcher dispatcher(fastOptions());
  dispatcher.upsert(subscription("a", "ftp://192.0.2.1/"));
  dispatcher.start();
  dispatcher.publish("x.y", "1", "{}");
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().failed == 1; }));
  auto log = dispatcher.deliveries("a", 10);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].outcome, "failed");
  EXPECT_NE(log[0].error.find("scheme"), std::string::npos) << log[0].error;
  EXPECT_EQ(dispatcher.stats().retries, 0u);
}

TEST(WebhookDispatcherTest, HungReceiverDoesNotDelayOtherSubscriptions) {
  Receiver receiver;
  receiver.hang("stuck");
  Options options = fastOptions();
  options.workers = 1;  // even one I/O thread serves both
  options.timeout = 1500ms;
  options.max_attempts = 1;
  Dispatcher dispatcher(options);
  dispatcher.upsert(subscription("stuck", receiver.url("stuck")));
  dispatcher.upsert(subscription("fast", receiver.url("fast")));
  dispatcher.start();
  auto start = SteadyClock::now();
  constexpr int kEvents = 20;
  for (int i = 0; i < kEvents; ++i) dispatcher.publish("x.y", std::to_string(i), "{}");
  ASSERT_TRUE(receiver.waitFor("fast", kEvents));
  auto fastDone = SteadyClock::now() - start;
  EXPECT_LT(fastDone, 1s) << "deliveries to the healthy receiver waited for the hung one";
  EXPECT_EQ(receiver.received("stuck").size(), 1u);  // still waiting for its first answer

  // The hung one times out and fails; then the next delivery to it starts.
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().failed >= 1; }, 5s));
  auto log = dispatcher.deliveries("stuck", 10);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().outcome, "failed");
  EXPECT_NE(log.back().error.find("timeout"), std::string::npos) << log.back().error;
  EXPECT_GE(log.back().duration_ms, 1400.0);
}

TEST(WebhookDispatcherTest, HealthyReceiverSeesEventsInOrder) {
  Receiver receiver;
  Dispatcher dispatcher(fastOptions());
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.start();
  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) {
    dispatcher.publish("x.y", std::to_string(i), "{\"seq\":" + std::to_string(i) + "}");
  }
  ASSERT_TRUE(receiver.waitFor("a", kEvents));
  auto got = receiver.received("a");
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_EQ(got[i].body, "{\"seq\":" + std::to_string(i) + "}") << i;
  }
}

TEST(WebhookDispatcherTest, PublishNeverBlocksAndDropsWhenTheQueueIsFull) {
  Receiver receiver;
  receiver.hang("stuck");
  Options options = fastOptions();
  options.max_queue = 10;
  options.timeout = 10s;
  Dispatcher dispatcher(options);
  dispatcher.upsert(subscription("stuck", receiver.url("stuck")));
  dispatcher.start();
  auto start = SteadyClock::now();
  constexpr int kEvents = 1000;
  for (int i = 0; i < kEvents; ++i) dispatcher.publish("x.y", std::to_string(i), "{}");
  EXPECT_LT(SteadyClock::now() - start, 1s);
  Stats stats = dispatcher.stats();
  EXPECT_EQ(stats.queued, 10u);
  EXPECT_EQ(stats.dropped, static_cast<std::uint64_t>(kEvents - 10));
  auto log = dispatcher.deliveries("stuck", 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].outcome, "dropped");
  EXPECT_EQ(log[0].event_id, std::to_string(kEvents - 1));
  EXPECT_EQ(log[0].attempt, 0);
  EXPECT_NE(log[0].error.find("queue full"), std::string::npos);
}

TEST(WebhookDispatcherTest, StopWithPendingRetriesAndAHungReceiverReturnsQuickly) {
  Receiver receiver;
  receiver.script("failing", {500});
  receiver.hang("stuck");
  Options options = fastOptions();
  options.initial_backoff = 30s;  // retries wait far longer than the test
  options.timeout = 30s;
  Dispatcher dispatcher(options);
  dispatcher.upsert(subscription("failing", receiver.url("failing")));
  dispatcher.upsert(subscription("stuck", receiver.url("stuck")));
  dispatcher.start();
  for (int i = 0; i < 3; ++i) dispatcher.publish("x.y", std::to_string(i), "{}");
  // Each failing delivery is waiting for a retry; one stuck delivery is in flight.
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().retries == 3; }));
  ASSERT_TRUE(receiver.waitFor("stuck", 1));
  EXPECT_EQ(dispatcher.stats().queued, 6u);

  auto start = SteadyClock::now();
  dispatcher.stop();
  EXPECT_LT(SteadyClock::now() - start, 500ms);
  Stats stats = dispatcher.stats();
  EXPECT_EQ(stats.dropped, 6u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(dispatcher.deliveries("stuck", 10).front().outcome, "dropped");
  dispatcher.stop();  // idempotent
}

TEST(WebhookDispatcherTest, DeliveriesPublishedBeforeStartGoOutAfterIt) {
  Receiver receiver;
  Dispatcher dispatcher(fastOptions());
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.publish("x.y", "1", "{}");
  EXPECT_EQ(dispatcher.stats().queued, 1u);
  dispatcher.start();
  ASSERT_TRUE(receiver.waitFor("a", 1));
  // A restart after stop() works too.
  dispatcher.stop();
  dispatcher.start();
  dispatcher.publish("x.y", "2", "{}");
  ASSERT_TRUE(receiver.waitFor("a", 2));
}

TEST(WebhookDispatcherTest, RemoveAndDeactivateDropPendingDeliveries) {
  Receiver receiver;
  receiver.script("a", {500});
  receiver.script("b", {500});
  Options options = fastOptions();
  options.initial_backoff = 30s;
  Dispatcher dispatcher(options);
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.upsert(subscription("b", receiver.url("b")));
  dispatcher.start();
  dispatcher.publish("x.y", "1", "{}");
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().retries == 2; }));

  dispatcher.remove("a");
  EXPECT_TRUE(dispatcher.deliveries("a", 10).empty());
  EXPECT_EQ(dispatcher.stats().dropped, 1u);
  dispatcher.remove("unknown");  // ignored

  Subscription b = subscription("b", receiver.url("b"));
  b.active = false;
  dispatcher.upsert(b);
  EXPECT_EQ(dispatcher.stats().dropped, 2u);
  EXPECT_EQ(dispatcher.stats().queued, 0u);
  EXPECT_EQ(dispatcher.deliveries("b", 1).at(0).outcome, "dropped");
  dispatcher.publish("x.y", "2", "{}");  // inactive: no delivery
  EXPECT_EQ(dispatcher.stats().queued, 0u);
}

TEST(WebhookDispatcherTest, LogKeepsTheNewestEntriesPerWebhook) {
  Receiver receiver;
  Options options = fastOptions();
  options.log_per_webhook = 3;
  Dispatcher dispatcher(options);
  dispatcher.upsert(subscription("a", receiver.url("a")));
  dispatcher.start();
  for (int i = 0; i < 10; ++i) dispatcher.publish("x.y", std::to_string(i), "{}");
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered == 10; }));
  auto log = dispatcher.deliveries("a", 100);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].event_id, "9");
  EXPECT_EQ(log[2].event_id, "7");
  EXPECT_EQ(dispatcher.deliveries("a", 2).size(), 2u);
  EXPECT_TRUE(dispatcher.deliveries("nobody", 10).empty());
}

TEST(WebhookDispatcherTest, HttpsVerifiesTheReceiverCertificate) {
  http::testing::SelfSignedCert cert;  // CN=localhost
  ASSERT_TRUE(cert.ok());
  Receiver receiver(&cert);

  // Trusted through ca_file, and the name matches: delivered.
  Options trusted = fastOptions();
  trusted.ca_file = cert.certFile();
  Dispatcher good(trusted);
  good.upsert(subscription("a", receiver.url("a", "localhost")));
  good.start();
  good.publish("x.y", "1", R"({"tls":true})");
  ASSERT_TRUE(eventually([&] { return good.stats().delivered == 1; }));
  EXPECT_EQ(receiver.received("a").at(0).headers["x-netledger-signature"],
            referenceSignature("s3cret", R"({"tls":true})"));

  // Default verification does not trust a self-signed certificate.
  Options strict = fastOptions();
  strict.max_attempts = 1;
  Dispatcher refused(strict);
  refused.upsert(subscription("b", receiver.url("b", "localhost")));
  refused.start();
  refused.publish("x.y", "1", "{}");
  ASSERT_TRUE(eventually([&] { return refused.stats().failed == 1; }));
  EXPECT_NE(refused.deliveries("b", 1).at(0).error.find("certificate verify failed"),
            std::string::npos)
      << refused.deliveries("b", 1).at(0).error;
  EXPECT_TRUE(receiver.received("b").empty());

  // Trusted, but the certificate is not for 127.0.0.1: refused as well.
  trusted.max_attempts = 1;
  Dispatcher wrongName(trusted);
  wrongName.upsert(subscription("c", receiver.url("c", "127.0.0.1")));
  wrongName.start();
  wrongName.publish("x.y", "1", "{}");
  ASSERT_TRUE(eventually([&] { return wrongName.stats().failed == 1; }));
  EXPECT_NE(wrongName.deliveries("c", 1).at(0).error.find("tls handshake"), std::string::npos);
  EXPECT_TRUE(receiver.received("c").empty());

  // insecure_tls skips verification (tests only).
  Options insecure = fastOptions();
  insecure.insecure_tls = true;
  Dispatcher lax(insecure);
  lax.upsert(subscription("d", receiver.url("d", "127.0.0.1")));
  lax.start();
  lax.publish("x.y", "1", "{}");
  ASSERT_TRUE(eventually([&] { return lax.stats().delivered == 1; }));
}

}  // namespace
}  // namespace netledger::webhooks
