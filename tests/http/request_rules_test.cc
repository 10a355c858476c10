// RFC 9112 request rules and the JSON media type, through a real server over TCP: each raw
// request below is one a strict outside tester sends, and the answer is checked on the wire.
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "http/http_test_support.h"
#include "http/router.h"
#include "http/server.h"

namespace netledger::http {
namespace {

using testing::HttpResponse;
using testing::TestClient;
namespace bhttp = boost::beast::http;

class RequestRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Router router;
    auto echo = [](Request& req, Responder respond) {
      boost::json::object o;
      o["path"] = req.path;
      o["target"] = req.target;
      o["q"] = req.queryParam("q").value_or("");
      o["body"] = req.body;
      respond(Response::json(200, boost::json::serialize(o)));
    };
    ASSERT_TRUE(router.add("GET", "/v1/echo", echo).isOk());
    ASSERT_TRUE(router.add("POST", "/v1/echo", echo).isOk());
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.jsonBodiesOnly = true;
    auto server = Server::start(std::move(options), std::move(router));
    ASSERT_TRUE(server.isOk()) << server.status().toString();
    server_ = std::move(server).value();
  }

  // Sends `raw` on a new connection; the response, and with kCheckClose whether the server then
  // closed (not checked otherwise: on a kept-alive connection the check waits for its deadline).
  enum Mode { kPlain, kCheckClose, kHeadersOnly };
  std::pair<HttpResponse, bool> send(const std::string& raw, Mode mode = kPlain) {
    TestClient client;
    EXPECT_FALSE(client.connect(server_->port()));
    EXPECT_FALSE(client.writeRaw(raw));
    auto [ec, r] = mode == kHeadersOnly ? client.readHead() : client.read();
    EXPECT_FALSE(ec) << ec.message();
    const bool closed = mode == kCheckClose && client.closedByServer();
    return {std::move(r), closed};
  }

  static std::string code(const HttpResponse& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body(), ec);
    return !ec && v.is_object() && v.as_object().contains("code")
               ? std::string(v.at("code").as_string())
               : "";
  }

  std::unique_ptr<Server> server_;
};

TEST_F(RequestRulesTest, Http11WithoutHostIs400AndCloses) {
  auto [r, closed] = send("GET /v1/echo HTTP/1.1\r\n\r\n", kCheckClose);
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_NE(r.body().find("Host"), std::string::npos) << r.body();
  EXPECT_TRUE(closed);
}

TEST_F(RequestRulesTest, RepeatedHostIs400) {
  auto [r, closed] = send("GET /v1/echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_NE(r.body().find("Host: repeated"), std::string::npos) << r.body();
}

TEST_F(RequestRulesTest, Http10MayOmitHost) {
  auto [r, closed] = send("GET /v1/echo HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200u) << r.body();
}

TEST_F(RequestRulesTest, AnUnsupportedTransferCodingIs501NeverReadAsPlain) {
  // gzip alone would otherwise leave the body to be read as the next request; "gzip, chunked"
  // would be de-chunked and handed on still compressed.
  for (const char* te : {"gzip", "gzip, chunked", "chunked, gzip", "identity"}) {
    auto [r, closed] =
        send(std::string("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Transfer-Encoding: ") +
                 te + "\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
             kCheckClose);
    EXPECT_EQ(r.result_int(), 501u) << te << ": " << r.body();
    EXPECT_EQ(code(r), "not_implemented") << te;
    EXPECT_TRUE(closed) << te;
  }
}

TEST_F(RequestRulesTest, ChunkedTwiceOrInHttp10Is400) {
  auto [twice, c1] = send(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(twice.result_int(), 400u) << twice.body();
  auto [old, c2] =
      send("POST /v1/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(old.result_int(), 400u) << old.body();
}

TEST_F(RequestRulesTest, ChunkedBodyIsRead) {
  auto [r, closed] = send(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: Chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_NE(r.body().find(R"("body":"{}")"), std::string::npos) << r.body();
}

TEST_F(RequestRulesTest, AbsoluteFormTargetIsServedAsItsOriginForm) {
  auto [r, closed] =
      send("GET http://example.test:8080/v1/echo?q=a%20b HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_NE(r.body().find(R"("path":"/v1/echo")"), std::string::npos) << r.body();
  EXPECT_NE(r.body().find(R"("target":"/v1/echo?q=a%20b")"), std::string::npos) << r.body();
  EXPECT_NE(r.body().find(R"("q":"a b")"), std::string::npos) << r.body();
  auto [bad, closed2] = send("GET ftp://example.test/v1/echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(bad.result_int(), 400u);
}

TEST_F(RequestRulesTest, SchemesAreCaseInsensitiveAndControlCharactersAreRefused) {
  auto [upper, c1] = send("GET HTTP://example.test/v1/echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(upper.result_int(), 200u) << upper.body();
  for (const char* target : {"/v1/echo?q=a%07b", "/v1/echo?a%00=1", "/v1/ec%1Bho"}) {
    auto [r, closed] = send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.result_int(), 400u) << target;
    EXPECT_NE(r.body().find("control characters"), std::string::npos) << target << r.body();
  }
}

TEST_F(RequestRulesTest, HostMustBeHostAndPort) {
  for (const char* host : {"a b", "user@x", "[::1", "x:port"}) {
    auto [r, closed] = send(std::string("GET /v1/echo HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    EXPECT_EQ(r.result_int(), 400u) << host;
  }
  for (const char* host : {"x", "x:80", "[2001:db8::1]:8080", "192.0.2.1"}) {
    auto [r, closed] = send(std::string("GET /v1/echo HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    EXPECT_EQ(r.result_int(), 200u) << host << r.body();
  }
}

TEST_F(RequestRulesTest, HeadIsAnsweredWhereGetIsWithTheHeadersOnly) {
  auto [get, c1] = send("GET /v1/echo HTTP/1.1\r\nHost: x\r\n\r\n");
  auto [head, c2] = send("HEAD /v1/echo HTTP/1.1\r\nHost: x\r\n\r\n", kHeadersOnly);
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(get.body().size()));
  EXPECT_EQ(head[bhttp::field::content_type], "application/json");
  EXPECT_TRUE(head.body().empty());
}

TEST_F(RequestRulesTest, ANonJsonBodyIs415) {
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                           "multipart/form-data; boundary=x"}) {
    auto [r, closed] = send(std::string("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: ") +
                            type + "\r\nContent-Length: 2\r\n\r\n{}");
    EXPECT_EQ(r.result_int(), 415u) << type;
    EXPECT_EQ(code(r), "unsupported_media_type") << type;
  }
}

TEST_F(RequestRulesTest, JsonMediaTypesAndNoTypeAreAccepted) {
  for (const char* type :
       {"Content-Type: application/json\r\n", "Content-Type: Application/JSON; charset=utf-8\r\n",
        "Content-Type: application/merge-patch+json\r\n", ""}) {
    auto [r, closed] = send(std::string("POST /v1/echo HTTP/1.1\r\nHost: x\r\n") + type +
                            "Content-Length: 2\r\n\r\n{}");
    EXPECT_EQ(r.result_int(), 200u) << type << r.body();
  }
  // No body: the type does not matter (a DELETE or POST with nothing to read).
  auto [empty, closed] = send(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(empty.result_int(), 200u);
}

}  // namespace
}  // namespace netledger::http
