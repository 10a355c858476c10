#include "http/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace netledger::http {
namespace {

Handler tag(std::string name) {
  return [name](Request& request, Responder respond) {
    std::string body = name;
    for (const auto& [k, v] : request.params) body += " " + k + "=" + v;
    respond(Response::text(200, body));
  };
}

Request makeRequest(std::string method, std::vector<std::string> segments) {
  Request r;
  r.method = std::move(method);
  r.segments = std::move(segments);
  for (const auto& s : r.segments) r.path += "/" + s;
  return r;
}

Response route(const Router& router, Request request) {
  Response out;
  out.status = 0;
  router.handle(request, Responder::fromCallback([&](Response r) { out = std::move(r); }));
  return out;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_.add("GET", "/v1/pools", tag("list")).isOk());
    ASSERT_TRUE(router_.add("POST", "/v1/pools", tag("create")).isOk());
    ASSERT_TRUE(router_.add("GET", "/v1/pools/{name}", tag("get")).isOk());
    ASSERT_TRUE(router_.add("DELETE", "/v1/pools/{name}", tag("delete")).isOk());
    ASSERT_TRUE(router_.add("GET", "/v1/pools/stats", tag("stats")).isOk());
    ASSERT_TRUE(router_.add("POST", "/v1/conflicts/{id}/ack", tag("ack")).isOk());
    ASSERT_TRUE(router_.add("POST", "/v1/addresses/{ip}/move", tag("move")).isOk());
    ASSERT_TRUE(router_.add("GET", "/v1/{kind}/x/y", tag("fallback")).isOk());
    ASSERT_TRUE(router_.add("GET", "/healthz", tag("health")).isOk());
    ASSERT_TRUE(router_.add("GET", "/", tag("root")).isOk());
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralAndParameterSegments) {
  EXPECT_EQ(route(router_, makeRequest("GET", {"v1", "pools"})).body, "list");
  EXPECT_EQ(route(router_, makeRequest("POST", {"v1", "pools"})).body, "create");
  EXPECT_EQ(route(router_, makeRequest("GET", {"v1", "pools", "blue"})).body, "get name=blue");
  EXPECT_EQ(route(router_, makeRequest("POST", {"v1", "conflicts", "17", "ack"})).body,
            "ack id=17");
  EXPECT_EQ(route(router_, makeRequest("POST", {"v1", "addresses", "2001:db8::1", "move"})).body,
            "move ip=2001:db8::1");
  EXPECT_EQ(route(router_, makeRequest("GET", {"healthz"})).body, "health");
  EXPECT_EQ(route(router_, makeRequest("GET", {})).body, "root");
}

TEST_F(RouterTest, LiteralWinsOverParameterButFallsBackWhenItDeadEnds) {
  EXPECT_EQ(route(router_, makeRequest("GET", {"v1", "pools", "stats"})).body, "stats");
  // "pools" is a literal under /v1, but /v1/pools/x/y only exists through /v1/{kind}/x/y.
  EXPECT_EQ(route(router_, makeRequest("GET", {"v1", "pools", "x", "y"})).body,
            "fallback kind=pools");
}

TEST_F(RouterTest, UnknownPathIsNotFoundProblem) {
  Response r = route(router_, makeRequest("GET", {"v1", "nothing"}));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.contentType, "application/problem+json");
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body.at("code"), "not_found");
  EXPECT_EQ(body.at("status"), 404);
}

TEST_F(RouterTest, ParameterNeverMatchesAnEmptySegment) {
  EXPECT_EQ(route(router_, makeRequest("GET", {"v1", "pools", ""})).status, 404u);
}

TEST_F(RouterTest, WrongMethodIs405WithSortedAllow) {
  Response r = route(router_, makeRequest("PUT", {"v1", "pools", "blue"}));
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.headers.get("allow"), "DELETE, GET, HEAD");
  EXPECT_EQ(boost::json::parse(r.body).at("code"), "method_not_allowed");
  // Allow covers every pattern the path matches (the literal "stats" and the {name} parameter),
  // not only the first one found...
  Response r2 = route(router_, makeRequest("PUT", {"v1", "pools", "stats"}));
  EXPECT_EQ(r2.status, 405u);
  EXPECT_EQ(r2.headers.get("Allow"), "DELETE, GET, HEAD");
  // ...and a method the literal lacks falls back to the parameter route.
  EXPECT_EQ(route(router_, makeRequest("DELETE", {"v1", "pools", "stats"})).body,
            "delete name=stats");
}

TEST_F(RouterTest, RoutesAreListedInRegistrationOrder) {
  auto routes = router_.routes();
  ASSERT_EQ(routes.size(), 10u);
  EXPECT_EQ(routes[0], (RouteInfo{"GET", "/v1/pools"}));
  EXPECT_EQ(routes[2], (RouteInfo{"GET", "/v1/pools/{name}"}));
  EXPECT_EQ(routes[5], (RouteInfo{"POST", "/v1/conflicts/{id}/ack"}));
}

TEST_F(RouterTest, RejectsInvalidAndDuplicatePatterns) {
  EXPECT_EQ(router_.add("GET", "v1/pools", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.add("GET", "/v1/{}", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.add("GET", "/v1/a{b}", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.add("GET", "/v1/{a}/{a}", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.add("GET", "/v1//x", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.add("", "/v1/x", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.add("GET", "/v1/pools", tag("x")).code(), StatusCode::kInvalidArgument);
  // Same shape, different parameter name: still the same route.
  EXPECT_EQ(router_.add("GET", "/v1/pools/{id}", tag("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.routes().size(), 10u);
}

TEST_F(RouterTest, HeadMatchesTheGetRouteAndAllowListsIt) {
  Router router;
  ASSERT_TRUE(router.add("GET", "/v1/pools/{name}", tag("get")).isOk());
  ASSERT_TRUE(router.add("DELETE", "/v1/pools/{name}", tag("delete")).isOk());
  ASSERT_TRUE(router.add("POST", "/v1/pools", tag("create")).isOk());
  auto head = router.match("HEAD", {"v1", "pools", "a"});
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->method, "GET");
  // A path without GET has no HEAD either, and its 405 does not offer one.
  auto noGet = router.match("HEAD", {"v1", "pools"});
  EXPECT_EQ(noGet.route, nullptr);
  EXPECT_EQ(noGet.allow, "POST");
  auto put = router.match("PUT", {"v1", "pools", "a"});
  EXPECT_EQ(put.route, nullptr);
  EXPECT_EQ(put.allow, "DELETE, GET, HEAD");
}

TEST_F(RouterTest, ARegisteredHeadRouteWinsOverGet) {
  Router router;
  ASSERT_TRUE(router.add("GET", "/x", tag("get")).isOk());
  ASSERT_TRUE(router.add("HEAD", "/x", tag("head")).isOk());
  auto m = router.match("HEAD", {"x"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "HEAD");
}

}  // namespace
}  // namespace netledger::http
