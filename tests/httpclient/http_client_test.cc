// The CLI's HTTP client against a scripted loopback server: keep-alive reuse, reconnects,
// request framing, timeouts and URL handling.
#include "httpclient/http_client.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/fake_http_server.h"

namespace netledger::httpclient {
namespace {

using cli::testing::FakeHttpServer;
using cli::testing::jsonResponse;
using cli::testing::SeenRequest;

// A loopback port with nothing listening on it.
int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<HttpClient> client(const std::string& url, HttpClientOptions options = {}) {
  auto c = HttpClient::create(url, options);
  EXPECT_TRUE(c.isOk()) << c.status().toString();
  return c.isOk() ? std::move(c).value() : nullptr;
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  FakeHttpServer server(
      [](const SeenRequest& r) { return jsonResponse(200, "{\"n\":\"" + r.target + "\"}"); });
  auto c = client(server.url());
  for (int i = 0; i < 3; ++i) {
    auto r = c->send({"GET", "/v1/pools?i=" + std::to_string(i), {}, ""});
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "{\"n\":\"/v1/pools?i=" + std::to_string(i) + "\"}");
    EXPECT_EQ(r->header("content-type").value_or(""), "application/json");
  }
  EXPECT_EQ(server.connections(), 1);
  ASSERT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests()[2].connection, 0);
}

TEST(HttpClientTest, ReconnectsWhenTheServerClosesTheConnection) {
  FakeHttpServer server([](const SeenRequest&) {
    return cli::testing::httpResponse(200, "application/json", "{}", /*close=*/true);
  });
  auto c = client(server.url());
  for (int i = 0; i < 3; ++i) {
    auto r = c->send({"POST", "/v1/pools", {}, "{}"});
    ASSERT_TRUE(r.isOk()) << r.status().toString();
  }
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].connection, 0);
  EXPECT_EQ(seen[2].connection, 2);
}

TEST(HttpClientTest, SendsHostHeadersBodyAndPathPrefix) {
  FakeHttpServer server([](const SeenRequest&) { return jsonResponse(201, "{}"); });
  auto c = client(server.url() + "/netledger/");
  auto r = c->send({"POST", "/v1/pools", {{"Authorization", "Bearer s3cret"}}, R"({"name":"a"})"});
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, 201u);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/netledger/v1/pools");
  EXPECT_EQ(seen[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].header("authorization"), "Bearer s3cret");
  EXPECT_EQ(seen[0].header("content-length"), "12");
  EXPECT_EQ(seen[0].body, R"({"name":"a"})");
  EXPECT_EQ(c->origin(), server.url());
}

TEST(HttpClientTest, ReturnsErrorStatusesAsResponses) {
  FakeHttpServer server([](const SeenRequest&) {
    return cli::testing::problemResponse(404, "not_found", "pool x not found");
  });
  auto r = client(server.url())->send({"GET", "/v1/pools/x", {}, ""});
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, 404u);
  EXPECT_NE(r->body.find("not_found"), std::string::npos);
}

TEST(HttpClientTest, TimesOutWhenTheServerDoesNotAnswer) {
  FakeHttpServer server([](const SeenRequest&) { return std::string(); });
  HttpClientOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  auto r = client(server.url(), options)->send({"GET", "/healthz", {}, ""});
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("no response within"), std::string::npos)
      << r.status().message();
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  int port = closedPort();
  auto r = client("http://127.0.0.1:" + std::to_string(port))->send({"GET", "/healthz", {}, ""});
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("cannot connect to http://127.0.0.1:"), std::string::npos)
      << r.status().message();
}

TEST(HttpClientTest, RejectsUnusableUrls) {
  for (const char* url : {"ftp://example.com", "127.0.0.1:8080", "http://", "http://h/?q=1",
                          "http://user@h:1", "not a url"}) {
    auto c = HttpClient::create(url);
    ASSERT_FALSE(c.isOk()) << url;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << url;
  }
  EXPECT_TRUE(HttpClient::create("https://[2001:db8::1]:8443").isOk());
  EXPECT_EQ((*HttpClient::create("HTTP://Example.com"))->origin(), "http://Example.com");
  EXPECT_EQ((*HttpClient::create("http://[::1]:80/x"))->origin(), "http://[::1]:80");
}

TEST(HttpClientTest, UnknownMethodIsInvalid) {
  FakeHttpServer server([](const SeenRequest&) { return jsonResponse(200, "{}"); });
  auto r = client(server.url())->send({"FROB", "/", {}, ""});
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, PercentEncoding) {
  EXPECT_EQ(encodePathSegment("a/b c"), "a%2Fb%20c");
  EXPECT_EQ(encodePathSegment("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(encodePathSegment("aa:bb:cc:dd:ee:ff"), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(encodeQueryValue("2026-11-21T14:00:00+02:00"), "2026-11-21T14%3A00%3A00%2B02%3A00");
  EXPECT_EQ(encodeQueryValue("a&b=c"), "a%26b%3Dc");
}

}  // namespace
}  // namespace netledger::httpclient
