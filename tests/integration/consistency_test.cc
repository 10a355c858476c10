// The consistency engine over the wire: observations in, conflicts out, remediation, signed
// webhooks to a local receiver, and the server-sent event stream with resume.
#include <openssl/hmac.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "integration/harness.h"
#include "integration/webhook_receiver.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;
std::string hmacHex(const std::string& key, const std::string& body) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), out, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

json::value observation(std::string ip, std::string mac, std::string kind,
                        std::string host = "node-1") {
  json::object o;
  if (!ip.empty()) o["ip"] = ip;
  o["mac"] = mac;
  o["kind"] = kind;
  o["host"] = host;
  o["interface"] = "tap0";
  o["source"] = "agent";
  return o;
}

class ConsistencyTest : public ServerTest {
 protected:
  void postObservations(std::vector<json::value> list) {
    json::array a;
    for (auto& o : list) a.push_back(std::move(o));
    auto r = api_->post("/v1/observations", obj({{"observations", std::move(a)}}));
    ASSERT_EQ(r.status, 202u) << r.describe();
  }
  // Polls GET /v1/conflicts?QUERY until it lists at least one; bounded.
  json::array waitConflicts(const std::string& query, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto page = mustGet("/v1/conflicts?" + query);
      if (!items(page).empty() || std::chrono::steady_clock::now() > deadline) {
        return items(page);
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  json::value bindingOn(const std::string& ip, const std::string& mac, const std::string& host) {
    return allocate(obj({{"instance", "vm-" + ip},
                         {"pools", json::array{"lab"}},
                         {"address", ip},
                         {"mac", mac},
                         {"host", host}}));
  }
  void SetUp() override {
    ServerTest::SetUp();
    createPool(obj({{"name", "lab"}, {"cidr", "192.0.2.0/24"}, {"gateway", "192.0.2.1"}}));
  }
};

TEST_F(ConsistencyTest, DuplicateIpReachesASignedWebhook) {
  Receiver receiver;
  const std::string secret = "a-long-enough-webhook-secret";
  auto hook = mustPost("/v1/webhooks", obj({{"url", receiver.url()},
                                            {"events", json::array{"conflict.opened"}},
                                            {"secret", secret}}));
  EXPECT_EQ(str(hook, "secret"), secret);
  const std::string hook_id = str(hook, "id");
  bindingOn("192.0.2.10", "52:54:00:00:00:0a", "node-1");
  postObservations({observation("192.0.2.10", "52:54:00:00:00:0a", "reply"),
                    observation("192.0.2.10", "52:54:00:00:00:bb", "announcement")});

  auto hits = receiver.waitFor(1);
  ASSERT_GE(hits.size(), 1u) << "no webhook delivery within 10 s";
  bool saw_duplicate = false;
  for (const auto& hit : hits) {
    // The signature is the HMAC-SHA256 of the exact body bytes, computed independently here.
    EXPECT_EQ(hit.headers.at("x-netledger-signature"), "sha256=" + hmacHex(secret, hit.body));
    EXPECT_EQ(hit.headers.at("x-netledger-event"), "conflict.opened");
    EXPECT_EQ(hit.headers.at("content-type"), "application/json");
    EXPECT_FALSE(hit.headers.at("x-netledger-delivery").empty());
    auto body = parseJson(hit.body);
    EXPECT_EQ(str(body, "type"), "conflict.opened");
    EXPECT_EQ(str(body, "actor"), "engine");
    const auto& data = body.at("data");
    if (str(data, "kind") == "duplicate_ip") {
      saw_duplicate = true;
      EXPECT_EQ(str(data, "ip"), "192.0.2.10");
      EXPECT_EQ(strings(data, "macs"),
                (std::vector<std::string>{"52:54:00:00:00:0a", "52:54:00:00:00:bb"}));
      EXPECT_EQ(str(data, "severity"), "critical");
    }
  }
  if (!saw_duplicate) hits = receiver.waitFor(2);
  for (const auto& hit : hits) saw_duplicate |= hit.body.find("duplicate_ip") != std::string::npos;
  EXPECT_TRUE(saw_duplicate);

  // The delivery log says so; the secret is never shown again, nor in the audit log.
  std::this_thread::sleep_for(100ms);
  auto log = mustGet("/v1/webhooks/" + hook_id + "/deliveries");
  ASSERT_FALSE(items(log).empty());
  EXPECT_EQ(str(items(log)[0], "outcome"), "delivered");
  EXPECT_EQ(num(items(log)[0], "status"), 200);
  auto listed = api_->get("/v1/webhooks");
  EXPECT_EQ(listed.body.find(secret), std::string::npos) << listed.body;
  auto audit = api_->get("/v1/audit?limit=1000");
  EXPECT_EQ(audit.body.find(secret), std::string::npos);
  EXPECT_NE(audit.body.find("webhook.create"), std::string::npos);
}

TEST_F(ConsistencyTest, WebhookRetriesAServerErrorThenDelivers) {
  Receiver receiver;
  receiver.setStatus(503);
  auto hook = mustPost("/v1/webhooks",
                       obj({{"url", receiver.url()}, {"events", json::array{"conflict.*"}}}));
  postObservations({observation("192.0.2.77", "02:00:00:00:00:77", "request")});
  auto first = receiver.waitFor(1);
  ASSERT_GE(first.size(), 1u);
  receiver.setStatus(200);
  // The retry (after about a second of backoff) carries the same delivery id.
  auto hits = receiver.waitFor(2, 15s);
  ASSERT_GE(hits.size(), 2u) << api_->get("/v1/webhooks/" + str(hook, "id") + "/deliveries").body;
  EXPECT_EQ(hits[1].headers.at("x-netledger-delivery"), hits[0].headers.at("x-netledger-delivery"));
  EXPECT_EQ(hits[1].body, hits[0].body);
}

// A delivery still owed when the node was killed (its receiver answering 503) is made after the
// restart, with the same delivery id: the webhook cursor is in the ledger, not in memory.
TEST_F(ConsistencyTest, AWebhookDeliveryOwedAtAKillIsMadeAfterTheRestart) {
  Receiver receiver;
  receiver.setStatus(503);
  mustPost("/v1/webhooks",
           obj({{"url", receiver.url()}, {"events", json::array{"binding.allocate"}}}));
  bindingOn("192.0.2.30", "52:54:00:00:00:1e", "node-1");
  auto first = receiver.waitFor(1);
  ASSERT_GE(first.size(), 1u);
  const std::string id = first[0].headers.at("x-netledger-delivery");
  std::this_thread::sleep_for(1500ms);  // a cursor save or two while it is owed
  server_.kill9();
  receiver.setStatus(200);
  const std::size_t before = receiver.waitFor(0, 0ms).size();
  server_.start();
  auto hits = receiver.waitFor(before + 1, 15s);
  ASSERT_GT(hits.size(), before) << "nothing delivered after the restart";
  EXPECT_EQ(hits[before].headers.at("x-netledger-delivery"), id);
  EXPECT_EQ(hits[before].body, first[0].body);
}

TEST_F(ConsistencyTest, ConflictLifecycleAndRoles) {
  bindingOn("192.0.2.20", "52:54:00:00:00:14", "node-1");
  postObservations({observation("192.0.2.20", "52:54:00:00:00:99", "reply")});
  auto found = waitConflicts("kind=binding_mismatch");
  ASSERT_EQ(found.size(), 1u);
  const auto& c = found[0];
  EXPECT_EQ(str(c, "subject"), "ip:192.0.2.20");
  EXPECT_EQ(str(c, "status"), "open");
  EXPECT_EQ(num(c, "count"), 1);
  ASSERT_EQ(c.at("evidence").as_array().size(), 1u);
  const std::string id = std::to_string(num(c, "id"));

  // More evidence: the same conflict, counted.
  postObservations({observation("192.0.2.20", "52:54:00:00:00:99", "reply")});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (num(mustGet("/v1/conflicts/" + id), "count") < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(num(mustGet("/v1/conflicts/" + id), "count"), 2);
  EXPECT_EQ(items(mustGet("/v1/conflicts?kind=binding_mismatch")).size(), 1u);

  auto viewer = server_.client(createToken("eyes", "viewer"));
  EXPECT_TRUE(isProblem(viewer->post("/v1/conflicts/" + id + "/ack", obj({})), 403, "forbidden"));
  EXPECT_TRUE(isProblem(viewer->post("/v1/observations", obj({{"observations", json::array{}}})),
                        403, "forbidden"));
  EXPECT_EQ(str(mustGet("/v1/conflicts/" + id), "status"), "open");
  auto op = server_.client(createToken("ops", "operator"));
  auto acked = op->post("/v1/conflicts/" + id + "/ack", obj({{"note", "looking"}}));
  ASSERT_EQ(acked.status, 200u) << acked.describe();
  EXPECT_EQ(str(acked.json(), "status"), "acknowledged");
  EXPECT_EQ(str(acked.json(), "acknowledged_by"), "ops");
  auto resolved = op->post("/v1/conflicts/" + id + "/resolve", obj({{"note", "fixed the VM"}}));
  ASSERT_EQ(resolved.status, 200u) << resolved.describe();
  EXPECT_EQ(str(resolved.json(), "status"), "resolved");
  EXPECT_EQ(str(resolved.json(), "resolution"), "fixed the VM");
  EXPECT_TRUE(items(mustGet("/v1/conflicts?kind=binding_mismatch&status=open")).empty());
  EXPECT_TRUE(isProblem(api_->post("/v1/conflicts/999/ack", obj({})), 404, "not_found"));
  EXPECT_TRUE(isProblem(api_->get("/v1/conflicts?kind=nonsense"), 400, "invalid_argument", "kind"));

  // Conflicts survive a restart.
  server_.restart();
  api_ = server_.client();
  EXPECT_EQ(str(mustGet("/v1/conflicts/" + id), "status"), "resolved");
}

TEST_F(ConsistencyTest, QuarantineAndReassignMovesTheDynamicBinding) {
  auto policies = api_->request(
      "PUT", "/v1/policies", json::serialize(obj({{"duplicate_ip", "quarantine_and_reassign"}})));
  ASSERT_EQ(policies.status, 200u) << policies.describe();
  EXPECT_EQ(str(policies.json(), "duplicate_ip"), "quarantine_and_reassign");
  auto b = bindingOn("192.0.2.30", "52:54:00:00:00:1e", "node-1");
  const std::string id = str(b, "id");
  postObservations({observation("192.0.2.30", "52:54:00:00:00:1e", "reply"),
                    observation("192.0.2.30", "02:00:00:00:00:66", "announcement")});
  auto found = waitConflicts("kind=duplicate_ip");
  ASSERT_EQ(found.size(), 1u);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  json::value now;
  do {
    now = mustGet("/v1/bindings/" + id);
    if (strings(now, "addresses") != std::vector<std::string>{"192.0.2.30"}) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_NE(strings(now, "addresses"), std::vector<std::string>{"192.0.2.30"});
  // The contested address is quarantined: nobody gets it now.
  EXPECT_TRUE(isProblem(api_->post("/v1/bindings", obj({{"instance", "other"},
                                                        {"pools", json::array{"lab"}},
                                                        {"address", "192.0.2.30"}})),
                        409, "conflict", "quarantine"));
  auto c = mustGet("/v1/conflicts/" + std::to_string(num(found[0], "id")));
  EXPECT_EQ(str(c.at("remediation"), "action"), "quarantine_and_reassign");
  // Memory shows the change a moment before its batch (and so the audit event) is durable.
  json::value audit;
  deadline = std::chrono::steady_clock::now() + 5s;
  do {
    audit = mustGet("/v1/audit?op=binding.reassign");
  } while (items(audit).empty() && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(items(audit).size(), 1u);
  EXPECT_EQ(str(items(audit)[0], "actor"), "engine");
  // A policy that does not fit the kind is refused, naming it.
  EXPECT_TRUE(isProblem(api_->request("PUT", "/v1/policies",
                                      json::serialize(obj({{"mac_flapping", "record_migration"}}))),
                        400, "invalid_argument", "mac_flapping"));
}

TEST_F(ConsistencyTest, RecordMigrationFollowsAConfirmedDrift) {
  ASSERT_EQ(api_->request("PUT", "/v1/policies",
                          json::serialize(obj({{"mac_drift", "record_migration"}})))
                .status,
            200u);
  auto b = bindingOn("192.0.2.40", "52:54:00:00:00:28", "node-1");
  postObservations({observation("192.0.2.40", "52:54:00:00:00:28", "announcement", "node-2"),
                    observation("192.0.2.40", "52:54:00:00:00:28", "reply", "node-2")});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (str(mustGet("/v1/bindings/" + str(b, "id")), "host") != "node-2" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(str(mustGet("/v1/bindings/" + str(b, "id")), "host"), "node-2");
  auto found = items(mustGet("/v1/conflicts?kind=mac_drift"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(str(found[0], "status"), "resolved");
  EXPECT_EQ(str(found[0].at("remediation"), "action"), "record_migration");
}

TEST_F(ConsistencyTest, BadObservationsAreRefusedWithTheFieldAndChangeNothing) {
  std::string before = fingerprint();
  EXPECT_TRUE(
      isProblem(api_->request("POST", "/v1/observations", "{not json"), 400, "invalid_argument"));
  EXPECT_TRUE(isProblem(
      api_->post(
          "/v1/observations",
          obj({{"observations", json::array{observation("192.0.2.5", "52:54:00:00:00:01", "reply"),
                                            observation("192.0.2.5", "zz", "reply")}}})),
      400, "invalid_argument", "observations[1].mac"));
  EXPECT_TRUE(isProblem(
      api_->post("/v1/observations",
                 obj({{"observations",
                       json::array{observation("300.1.1.1", "52:54:00:00:00:01", "reply")}}})),
      400, "invalid_argument", "observations[0].ip"));
  EXPECT_TRUE(isProblem(
      api_->post("/v1/observations",
                 obj({{"observations",
                       json::array{observation("192.0.2.5", "52:54:00:00:00:01", "sneeze")}}})),
      400, "invalid_argument", "kind"));
  json::array many;
  for (int i = 0; i < 10'001; ++i) many.push_back(observation("", "52:54:00:00:00:01", ""));
  for (auto& o : many) o.as_object().erase("kind");
  EXPECT_TRUE(isProblem(api_->post("/v1/observations", obj({{"observations", many}})), 400,
                        "invalid_argument", "at most 10000"));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(items(mustGet("/v1/conflicts")).empty());
  EXPECT_EQ(fingerprint(), before);
}

TEST_F(ConsistencyTest, EventStreamDeliversLiveAndResumesAfterLastEventId) {
  const std::string start = std::to_string(num(items(mustGet("/v1/audit?limit=1")).at(0), "seq"));
  std::vector<SseEvent> live;
  std::thread reader(
      [&] { live = readSseEvents(server_.port(), server_.adminToken(), "binding.*", "", 2); });
  std::this_thread::sleep_for(300ms);  // let the subscription start before the events
  allocate(obj({{"instance", "sse-1"}, {"pools", json::array{"lab"}}}));
  allocate(obj({{"instance", "sse-2"}, {"pools", json::array{"lab"}}}));
  reader.join();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].event, "binding.allocate");
  EXPECT_LT(std::stoull(live[0].id), std::stoull(live[1].id));
  // Missed while away: resuming from before them replays both, in order, then stops there.
  auto replay = readSseEvents(server_.port(), server_.adminToken(), "binding.*", start, 2);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay, live);
}

}  // namespace
}  // namespace netledger::it
