// The sweeper's half of Idempotency-Key: kept answers older than a day are deleted, younger ones
// stay (the request half is tested against the real server in tests/integration).
#include "server/api/idempotency.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/clock.h"
#include "ledger/ledger.h"
#include "store/memory/memory_store.h"

namespace netledger::server {
namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

class ForgetExpiredAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ledger_.open().isOk()); }
  void TearDown() override { ledger_.close(); }
  void keep(const std::string& key, std::int64_t created) {
    boost::json::object body{{"fingerprint", "POST /v1/x 00"},
                             {"status", 201},
                             {"content_type", "application/json"},
                             {"body", "{}"},
                             {"created", created}};
    auto put = ledger_.putDocument(admin_, {"idempotency", key, boost::json::serialize(body), 0, 0},
                                   "", "");
    ASSERT_TRUE(put.isOk()) << put.status().toString();
    ASSERT_TRUE(ledger_.waitDurable(put->ticket).isOk());
  }

  FakeClock clock_;
  store::MemoryStore store_;
  ledger::Ledger ledger_{store_, clock_};
  ledger::Actor admin_{"root", ledger::Role::kAdmin, {}};
};

TEST_F(ForgetExpiredAnswersTest, DeletesAnswersOlderThanADayAndKeepsTheRest) {
  const std::int64_t now = 10 * kDayMs;
  keep("root/old", now - kDayMs - 1);
  keep("root/edge", now - kDayMs);
  keep("root/new", now - 5);
  ASSERT_TRUE(ledger_.putDocument(admin_, {"webhook", "w1", "{}", 0, 0}, "", "").isOk());  // kept
  EXPECT_EQ(forgetExpiredAnswers(ledger_, now), 1u);
  EXPECT_FALSE(ledger_.document("idempotency", "root/old").has_value());
  EXPECT_TRUE(ledger_.document("idempotency", "root/edge").has_value());
  EXPECT_TRUE(ledger_.document("idempotency", "root/new").has_value());
  EXPECT_TRUE(ledger_.document("webhook", "w1").has_value());
  EXPECT_EQ(forgetExpiredAnswers(ledger_, now + kDayMs), 2u);
  EXPECT_TRUE(ledger_.documents("idempotency").empty());
}

TEST_F(ForgetExpiredAnswersTest, AMalformedKeptAnswerIsDeleted) {
  auto put = ledger_.putDocument(admin_, {"idempotency", "root/bad", "not json", 0, 0}, "", "");
  ASSERT_TRUE(put.isOk());
  EXPECT_EQ(forgetExpiredAnswers(ledger_, kDayMs), 1u);
  EXPECT_TRUE(ledger_.documents("idempotency").empty());
}

}  // namespace
}  // namespace netledger::server
