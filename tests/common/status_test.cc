#include "common/status.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/crypto.h"

namespace netledger {
namespace {

TEST(StatusTest, CodesHaveStableApiNames) {
  EXPECT_EQ(codeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(codeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(codeName(StatusCode::kConflict), "conflict");
  EXPECT_EQ(codeName(StatusCode::kPoolExhausted), "pool_exhausted");
  EXPECT_EQ(codeName(StatusCode::kUnauthorized), "unauthorized");
  EXPECT_EQ(codeName(StatusCode::kForbidden), "forbidden");
  EXPECT_EQ(codeName(StatusCode::kPayloadTooLarge), "payload_too_large");
}

TEST(StatusTest, ContextKeepsTheCode) {
  Status s = Status::invalidArgument("bad value").withContext("cidr");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cidr: bad value");
  EXPECT_EQ(s.toString(), "invalid_argument: cidr: bad value");
  EXPECT_TRUE(Status::ok().withContext("x").isOk());
}

Status failsWhen(bool fail) {
  NL_RETURN_IF_ERROR(fail ? Status::notFound("gone") : Status::ok());
  return Status::conflict("reached the end");
}

TEST(StatusTest, ReturnIfErrorReturnsEarly) {
  EXPECT_EQ(failsWhen(true).code(), StatusCode::kNotFound);
  EXPECT_EQ(failsWhen(false).code(), StatusCode::kConflict);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  Result<int> bad = Status::notFound("nope");
  EXPECT_TRUE(good.isOk());
  EXPECT_EQ(*good, 7);
  EXPECT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.valueOr(3), 3);
}

Result<int> forgotTheValue() { return Status::ok(); }

TEST(ResultTest, BuiltFromAnOkStatusIsAnInternalError) {
  // In every build, not only with assertions on: the caller asked for a value and got none.
  Result<int> r = forgotTheValue();
  EXPECT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "a Result was built from an OK status");
  EXPECT_EQ(r.valueOr(5), 5);
}

TEST(ResultDeathTest, ValueOfAnErrorAborts) {
  Result<int> bad = Status::notFound("nope");
  EXPECT_DEATH((void)bad.value(), "value\\(\\) of an error Result: not_found: nope");
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock;
  TimePoint t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.now() - t0, std::chrono::seconds(5));
}

TEST(CryptoTest, Sha256MatchesTheFips180Vector) {
  auto d = sha256("abc");
  // FIPS 180-2 appendix B.1: ba7816bf...
  EXPECT_EQ(d[0], 0xba);
  EXPECT_EQ(d[1], 0x78);
  EXPECT_EQ(d[2], 0x16);
  EXPECT_EQ(d[31], 0xad);
}

TEST(CryptoTest, SecureRandomIsNotConstant) {
  SecureRandom r;
  std::uint64_t first = r.next64();
  bool differs = false;
  for (int i = 0; i < 1000 && !differs; ++i) differs = r.next64() != first;
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace netledger
