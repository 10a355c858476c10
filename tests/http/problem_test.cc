#include "http/problem.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/responder.h"

namespace netledger::http {
namespace {

TEST(ProblemTest, BodyHasTheRfc9457MembersAndCode) {
  Response r = problem(409, "pool_exhausted", "pool blue: no free address", {{"pool", "blue"}});
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.contentType, "application/problem+json");
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body.at("type"), "urn:netledger:error:pool_exhausted");
  EXPECT_EQ(body.at("title"), "Pool exhausted");
  EXPECT_EQ(body.at("status"), 409);
  EXPECT_EQ(body.at("code"), "pool_exhausted");
  EXPECT_EQ(body.at("detail"), "pool blue: no free address");
  EXPECT_EQ(body.at("pool"), "blue");
}

TEST(ProblemTest, ExtraMembersCannotReplaceStandardOnes) {
  auto body = boost::json::parse(problem(400, "invalid_argument", "d", {{"status", 200}}).body);
  EXPECT_EQ(body.at("status"), 400);
}

TEST(ProblemTest, StatusCodesMapToHttp) {
  struct Case {
    StatusCode code;
    unsigned http;
  };
  for (auto [code, http] : {Case{StatusCode::kInvalidArgument, 400},
                            {StatusCode::kNotFound, 404},
                            {StatusCode::kConflict, 409},
                            {StatusCode::kPoolExhausted, 409},
                            {StatusCode::kUnauthorized, 401},
                            {StatusCode::kForbidden, 403},
                            {StatusCode::kPayloadTooLarge, 413},
                            {StatusCode::kUnavailable, 503},
                            {StatusCode::kInternal, 500}}) {
    Response r = problemFromStatus(Status(code, "why"));
    EXPECT_EQ(r.status, http) << codeName(code);
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("code").as_string(), codeName(code));
    EXPECT_EQ(body.at("detail"), "why");
  }
}

TEST(ProblemTest, UnauthorizedAsksForABearerToken) {
  Response r = problemFromStatus(Status(StatusCode::kUnauthorized, "no token"));
  EXPECT_EQ(r.headers.get("WWW-Authenticate"), "Bearer");
  EXPECT_FALSE(problemFromStatus(Status::notFound("x")).headers.contains("WWW-Authenticate"));
}

TEST(ProblemTest, OkStatusIsAnInternalError) {
  EXPECT_EQ(problemFromStatus(Status::ok()).status, 500u);
}

TEST(ResponderTest, DeliversOnceAndIgnoresASecondCall) {
  std::vector<unsigned> got;
  Responder r = Responder::fromCallback([&](Response resp) { got.push_back(resp.status); });
  EXPECT_TRUE(r.pending());
  r(Response::text(201, "made"));
  EXPECT_FALSE(r.pending());
  r(Response::text(202, "again"));
  EXPECT_EQ(got, std::vector<unsigned>{201});
}

TEST(ResponderTest, DroppingAnUnansweredResponderAnswers500) {
  std::vector<Response> got;
  {
    Responder r = Responder::fromCallback([&](Response resp) { got.push_back(std::move(resp)); });
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 500u);
  EXPECT_EQ(boost::json::parse(got[0].body).at("code"), "internal");
}

TEST(ResponderTest, MovingTransfersTheObligation) {
  int calls = 0;
  Responder a = Responder::fromCallback([&](Response) { ++calls; });
  Responder b = std::move(a);
  EXPECT_FALSE(a.pending());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(b.pending());
  b(Response::noContent());
  EXPECT_EQ(calls, 1);
}

TEST(ResponderTest, AssigningOverAPendingResponderAnswersIt) {
  std::vector<unsigned> got;
  Responder a = Responder::fromCallback([&](Response r) { got.push_back(r.status); });
  a = Responder::fromCallback([&](Response r) { got.push_back(r.status + 1000); });
  EXPECT_EQ(got, std::vector<unsigned>{500});
  a(Response::text(200, ""));
  EXPECT_EQ(got, (std::vector<unsigned>{500, 1200}));
}

TEST(ResponderTest, AsCallbackSharesOneAnswer) {
  std::vector<unsigned> got;
  auto callback = asCallback(Responder::fromCallback([&](Response r) { got.push_back(r.status); }));
  auto copy = callback;
  copy(Response::text(200, ""));
  callback(Response::text(201, ""));
  EXPECT_EQ(got, std::vector<unsigned>{200});

  std::vector<unsigned> dropped;
  {
    auto c = asCallback(Responder::fromCallback([&](Response r) { dropped.push_back(r.status); }));
  }
  EXPECT_EQ(dropped, std::vector<unsigned>{500});
}

}  // namespace
}  // namespace netledger::http
