// Idempotency-Key on POST: a retried request gets the first answer, not a second resource; the
// kept answer survives a restart; a key reused for another request, or a malformed key, is
// refused naming the header.
#include <string>

#include "integration/harness.h"

namespace netledger::it {
namespace {

class IdempotencyTest : public ServerTest {
 protected:
  HttpResponse postWithKey(std::string_view target, const json::value& body,
                           const std::string& key) {
    return api_->request("POST", target, json::serialize(body),
                         {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
  }
  std::size_t webhookCount() { return items(mustGet("/v1/webhooks")).size(); }
};

// A webhook POST creates a new subscription each time: the resource a retry would duplicate.
const json::value kHook =
    json::parse(R"({"url":"http://127.0.0.1:9/hook","events":["binding.allocate"]})");

TEST_F(IdempotencyTest, ARetryGetsTheFirstAnswerNotASecondResource) {
  auto first = postWithKey("/v1/webhooks", kHook, "retry-1");
  ASSERT_EQ(first.status, 201u) << first.describe();
  auto again = postWithKey("/v1/webhooks", kHook, "retry-1");
  EXPECT_EQ(again.status, 201u);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(webhookCount(), 1u);
  // Without a key, or with another key, the same POST creates another subscription.
  ASSERT_EQ(api_->post("/v1/webhooks", kHook).status, 201u);
  ASSERT_EQ(postWithKey("/v1/webhooks", kHook, "retry-2").status, 201u);
  EXPECT_EQ(webhookCount(), 3u);
}

TEST_F(IdempotencyTest, TheKeptAnswerSurvivesARestart) {
  auto first = postWithKey("/v1/webhooks", kHook, "durable-key");
  ASSERT_EQ(first.status, 201u) << first.describe();
  // The kept answer is durable with the next group commit: any later acknowledged write
  // (this pool) is ordered after it.
  createPool(obj({{"name", "after"}, {"cidr", "192.0.2.0/24"}}));
  server_.kill9();
  server_.start();
  api_ = server_.client();
  auto again = postWithKey("/v1/webhooks", kHook, "durable-key");
  EXPECT_EQ(again.status, 201u);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(webhookCount(), 1u);
}

TEST_F(IdempotencyTest, AKeyReusedForAnotherRequestIsAConflict) {
  ASSERT_EQ(postWithKey("/v1/webhooks", kHook, "k").status, 201u);
  json::value other =
      json::parse(R"({"url":"http://127.0.0.1:9/other","events":["binding.allocate"]})");
  auto r = postWithKey("/v1/webhooks", other, "k");
  EXPECT_TRUE(isProblem(r, 409, "conflict", "Idempotency-Key"));
  EXPECT_TRUE(
      isProblem(postWithKey("/v1/pools", obj({{"name", "p"}, {"cidr", "192.0.2.0/24"}}), "k"), 409,
                "conflict", "different request"));
  EXPECT_EQ(webhookCount(), 1u);
}

TEST_F(IdempotencyTest, ErrorAnswersAreKeptTooButServerErrorsAreNot) {
  // A 4xx is the answer to that request: the retry gets it again, nothing is created.
  auto bad = postWithKey("/v1/pools", obj({{"name", "p"}, {"cidr", "192.0.2.0/33"}}), "bad");
  EXPECT_TRUE(isProblem(bad, 400, "invalid_argument", "cidr"));
  auto again = postWithKey("/v1/pools", obj({{"name", "p"}, {"cidr", "192.0.2.0/33"}}), "bad");
  EXPECT_EQ(again.body, bad.body);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
}

TEST_F(IdempotencyTest, MalformedKeysAreRefusedNamingTheHeader) {
  for (const std::string& key : {std::string(256, 'k'), std::string("with space"),
                                 std::string("tab\there"), std::string("\xc3\xbc")}) {
    auto r = postWithKey("/v1/webhooks", kHook, key);
    EXPECT_TRUE(isProblem(r, 400, "invalid_argument", "Idempotency-Key")) << key;
  }
  EXPECT_EQ(webhookCount(), 0u);
}

TEST_F(IdempotencyTest, KeysAreScopedToTheToken) {
  ASSERT_EQ(postWithKey("/v1/webhooks", kHook, "shared").status, 201u);
  api_->setToken(createToken("second-admin", "admin"));
  auto other = postWithKey("/v1/webhooks", kHook, "shared");
  EXPECT_EQ(other.status, 201u);
  EXPECT_TRUE(other.header("Idempotent-Replayed").empty());
  EXPECT_EQ(webhookCount(), 2u);
}

}  // namespace
}  // namespace netledger::it
