// HTTP/1.1 as RFC 9112 has it, against the real daemon over a raw socket: requests a strict
// outside tester writes by hand, answered on the wire as the RFC requires.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "integration/harness.h"

namespace netledger::it {
namespace {

// Writes `raw` on a new connection and reads until the server closes or goes quiet for 2 s
// (a kept-alive connection): everything the server sent.
std::string exchange(std::uint16_t port, const std::string& raw) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{};
  tv.tv_sec = 2;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size())) {
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got;
}

std::string statusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

class HttpRfcTest : public ServerTest {
 protected:
  std::string auth() { return "Authorization: Bearer " + server_.adminToken() + "\r\n"; }
};

TEST_F(HttpRfcTest, HostIsRequiredOnceInHttp11) {
  std::string r = exchange(server_.port(), "GET /v1/pools HTTP/1.1\r\n" + auth() + "\r\n");
  EXPECT_EQ(statusLine(r), "HTTP/1.1 400 Bad Request") << r;
  EXPECT_NE(r.find("Host: required"), std::string::npos) << r;
  r = exchange(server_.port(),
               "GET /v1/pools HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + auth() + "\r\n");
  EXPECT_EQ(statusLine(r), "HTTP/1.1 400 Bad Request") << r;
  EXPECT_NE(r.find("Host: repeated"), std::string::npos) << r;
  r = exchange(server_.port(), "GET /v1/pools HTTP/1.0\r\n" + auth() + "\r\n");
  EXPECT_EQ(statusLine(r), "HTTP/1.0 200 OK") << r;
}

TEST_F(HttpRfcTest, UnsupportedTransferCodingIs501AndNothingIsStored) {
  const std::string before = fingerprint();
  const std::string body = R"({"name":"te","cidr":"198.51.100.0/24"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  for (const char* te : {"gzip", "gzip, chunked", "deflate, chunked"}) {
    std::string r =
        exchange(server_.port(), "POST /v1/pools HTTP/1.1\r\nHost: x\r\n" + auth() +
                                     "Content-Type: application/json\r\nTransfer-Encoding: " + te +
                                     "\r\n\r\n" + size + "\r\n" + body + "\r\n0\r\n\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 501 Not Implemented") << te << ": " << r;
  }
  EXPECT_EQ(fingerprint(), before);
  // Plain chunked coding is read.
  std::string r =
      exchange(server_.port(), "POST /v1/pools HTTP/1.1\r\nHost: x\r\n" + auth() +
                                   "Content-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                                   size + "\r\n" + body + "\r\n0\r\n\r\n");
  EXPECT_EQ(statusLine(r), "HTTP/1.1 201 Created") << r;
}

// The framings a request could be smuggled through: each refused, the connection closed, and
// nothing stored (the body is never read as the next request).
TEST_F(HttpRfcTest, AmbiguousFramingIs400AndNothingIsStored) {
  const std::string before = fingerprint();
  const std::string body = R"({"name":"sm","cidr":"198.51.100.0/24"})";
  const std::string chunked = "26\r\n" + body + "\r\n0\r\n\r\n";
  const std::string head =
      "POST /v1/pools HTTP/1.1\r\nHost: x\r\n" + auth() + "Content-Type: application/json\r\n";
  for (const std::string& raw : {
           head + "Content-Length: 42\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
           head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
           head + "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked,
           "POST /v1/pools HTTP/1.0\r\n" + auth() +
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
       }) {
    std::string r = exchange(server_.port(), raw);
    EXPECT_EQ(r.substr(9, 3), "400") << raw << "\n-> " << r;
    // One response only: the body was not taken for a second request.
    EXPECT_EQ(r.find("Server: netledgerd"), r.rfind("Server: netledgerd")) << r;
  }
  EXPECT_EQ(fingerprint(), before);
}

TEST_F(HttpRfcTest, HostMustBeHostAndPort) {
  for (const char* host : {"a b", "user@host", "[::1"}) {
    std::string r = exchange(server_.port(), std::string("GET /v1/pools HTTP/1.1\r\nHost: ") +
                                                 host + "\r\n" + auth() + "\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 400 Bad Request") << host << ": " << r;
  }
  for (const char* host : {"127.0.0.1:8080", "[::1]:8080", "netledger.example", ""}) {
    std::string r =
        exchange(server_.port(), std::string("GET /v1/pools HTTP/1.1\r\nHost: ") + host +
                                     "\r\nConnection: close\r\n" + auth() + "\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK") << host << ": " << r;
  }
}

TEST_F(HttpRfcTest, AbsoluteFormTargetsAreAccepted) {
  createPool(obj({{"name", "abs"}, {"cidr", "198.51.100.0/24"}}));
  std::string r =
      exchange(server_.port(), "GET http://127.0.0.1:" + std::to_string(server_.port()) +
                                   "/v1/pools/abs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                                   auth() + "\r\n");
  EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK") << r;
  EXPECT_NE(r.find(R"("name":"abs")"), std::string::npos) << r;
}

TEST_F(HttpRfcTest, HeadIsAnsweredWhereverGetIs) {
  createPool(obj({{"name", "h"}, {"cidr", "198.51.100.0/24"}}));
  const std::string id = str(allocate(obj({{"instance", "vm"}, {"pool", "h"}})), "id");
  // The dashboard's script, named in its page, so its media type is checked too.
  const std::string page = api_->get("/").body;
  const auto at = page.find("/assets/");
  ASSERT_NE(at, std::string::npos) << page.substr(0, 300);
  const std::string asset = page.substr(at, page.find('"', at) - at);
  const std::vector<std::string> targets = {
      "/v1/pools", "/v1/pools/h", "/v1/bindings/" + id, "/v1/openapi.json", "/healthz", "/metrics",
      "/",         asset};
  for (const std::string& target : targets) {
    SCOPED_TRACE(target);
    const HttpResponse get = api_->get(target);
    const HttpResponse head = api_->request("HEAD", target);
    EXPECT_EQ(head.status, get.status);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.header("Content-Type"), get.header("Content-Type"));
    // /metrics changes between the two requests (it counts them); the rest is fixed.
    if (get.header("Content-Encoding").empty() && target != "/metrics") {
      EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size()));
    }
  }
  // HEAD on the event stream: the stream's headers, no body, and the connection is not held.
  std::string events = exchange(server_.port(), "HEAD /v1/events HTTP/1.1\r\nHost: x\r\n" + auth() +
                                                    "Connection: close\r\n\r\n");
  EXPECT_EQ(statusLine(events), "HTTP/1.1 200 OK") << events;
  EXPECT_NE(events.find("text/event-stream"), std::string::npos) << events;
  EXPECT_EQ(events.find("retry:"), std::string::npos) << events;
  // A path without GET offers no HEAD: 405 with Allow.
  const HttpResponse r = api_->request("HEAD", "/v1/observations");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("Allow"), "POST");
}

}  // namespace
}  // namespace netledger::it
