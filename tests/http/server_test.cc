// The server over real TCP on 127.0.0.1 with an ephemeral port, driven by a Beast client.

#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "http/metrics_handler.h"
#include "http_test_support.h"
#include "metrics/registry.h"

namespace netledger::http {
namespace {

using namespace std::chrono_literals;
using testing::HttpResponse;
using testing::TestClient;
using testing::TlsTestClient;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

// A member of a JSON response body: the string itself for a string, else its JSON text ("" when
// absent or the body is not a JSON object).
std::string field(const HttpResponse& r, std::string_view key) {
  json::error_code ec;
  json::value v = json::parse(r.body(), ec);
  if (ec || !v.is_object()) return "";
  const json::value* member = v.as_object().if_contains(key);
  if (member == nullptr) return "";
  if (member->is_string()) return std::string(member->as_string());
  return json::serialize(*member);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer(ServerOptions{}); }

  void TearDown() override {
    server_.reset();
    // Responders held by handler threads may fire after the server is gone; that must be safe.
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(threadsMutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  // Runs `fn` on a new thread after `delay` (the way the ledger answers after a commit).
  template <class F>
  void later(std::chrono::milliseconds delay, F&& fn) {
    std::lock_guard lock(threadsMutex_);
    threads_.emplace_back([delay, fn = std::forward<F>(fn)]() mutable {
      std::this_thread::sleep_for(delay);
      fn();
    });
  }

  void startServer(ServerOptions options) {
    server_.reset();
    options.listen = "127.0.0.1:0";
    options.metrics = &registry_;
    auto server = Server::start(std::move(options), makeRouter());
    ASSERT_TRUE(server.isOk()) << server.status().toString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
  }

  Router makeRouter() {
    Router router;
    auto add = [&](std::string_view method, std::string_view pattern, Handler h) {
      Status s = router.add(method, pattern, std::move(h));
      EXPECT_TRUE(s.isOk()) << s.toString();
    };
    auto echo = [](Request& req, Responder respond) {
      json::object o;
      o["method"] = req.method;
      o["name"] = req.param("name");
      o["path"] = req.path;
      o["q"] = req.queryParam("q").value_or("");
      o["plus"] = req.queryParam("plus").value_or("");
      json::array tags;
      for (auto [it, end] = req.query.equal_range("tag"); it != end; ++it)
        tags.push_back(json::string(it->second));
      o["tags"] = std::move(tags);
      o["port"] = req.remote.port;
      o["address"] = req.remote.address;
      o["body_size"] = req.body.size();
      o["x_test"] = req.header("x-test").value_or("");
      respond(Response::json(200, json::serialize(o)));
    };
    add("GET", "/v1/echo/{name}", echo);
    add("DELETE", "/v1/echo/{name}", echo);
    add("POST", "/v1/echo",
        [](Request& req, Responder respond) { respond(Response::json(201, std::move(req.body))); });
    add("POST", "/v1/big", [](Request& req, Responder respond) {
      respond(Response::text(200, std::to_string(req.body.size())));
    });
    add("GET", "/v1/slow", [this](Request& req, Responder respond) {
      // The request stays valid while its Responder lives, even on another thread.
      later(100ms, [&req, respond = std::move(respond)]() mutable {
        respond(Response::text(200, "slow " + req.path));
      });
    });
    add("GET", "/v1/drop", [](Request&, Responder) {});
    add("GET", "/v1/throw", [](Request&, Responder) { throw std::runtime_error("boom"); });
    add("GET", "/v1/seq/{n}", [this](Request& req, Responder respond) {
      std::string n(req.param("n"));
      // Odd requests answer late from another thread, even ones at once: order must still hold.
      if (std::stoi(n) % 2 == 1) {
        later(20ms,
              [n, respond = std::move(respond)]() mutable { respond(Response::text(200, n)); });
      } else {
        respond(Response::text(200, n));
      }
    });
    add("GET", "/v1/gate", [this](Request&, Responder respond) {
      gateEntered_.set_value();
      later(gateDelay_, [respond = std::move(respond)]() mutable {
        respond(Response::json(200, "{\"done\":true}"));
      });
    });
    add("GET", "/v1/empty", [](Request&, Responder respond) { respond(Response::noContent()); });
    add("HEAD", "/v1/head",
        [](Request&, Responder respond) { respond(Response::text(200, "twelve bytes")); });
    add("GET", "/v1/headers", [](Request&, Responder respond) {
      Response r = Response::text(200, "ok");
      r.headers.add("X-Custom", "yes");
      r.headers.add("Content-Length", "999");  // server-owned: must be ignored
      r.headers.add("X-Evil", "a\r\nInjected: 1");
      respond(std::move(r));
    });
    add("GET", "/metrics", metricsHandler(registry_));
    return router;
  }

  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
  std::promise<void> gateEntered_;
  std::chrono::milliseconds gateDelay_{300};
  std::mutex threadsMutex_;
  std::vector<std::thread> threads_;
};

void expectStandardHeaders(const HttpResponse& r) {
  EXPECT_EQ(r[bhttp::field::server], "netledgerd");
  EXPECT_FALSE(r[bhttp::field::content_type].empty());
  EXPECT_EQ(r[bhttp::field::content_length], std::to_string(r.body().size()));
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  std::optional<std::string> port;
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = client.get("/v1/echo/n" + std::to_string(i));
    ASSERT_EQ(r.result_int(), 200u) << r.body();
    expectStandardHeaders(r);
    EXPECT_TRUE(r.keep_alive());
    EXPECT_EQ(field(r, "name"), "n" + std::to_string(i));
    EXPECT_EQ(field(r, "address"), "127.0.0.1");
    // Same client port every time: one connection served them all.
    if (port) {
      EXPECT_EQ(field(r, "port"), *port);
    }
    port = field(r, "port");
  }
}

TEST_F(HttpServerTest, PathParametersAndQueryAreDecoded) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.get("/v1/echo/a%20b%2Fc?q=x%26y%3D1&tag=1&tag=two&plus=a+b&empty");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_EQ(field(r, "name"), "a b/c");
  EXPECT_EQ(field(r, "path"), "/v1/echo/a b/c");
  EXPECT_EQ(field(r, "q"), "x&y=1");
  EXPECT_EQ(field(r, "plus"), "a b");
  EXPECT_EQ(field(r, "tags"), R"(["1","two"])");
}

TEST_F(HttpServerTest, RequestHeadersAndBodyReachTheHandler) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.request(bhttp::verb::delete_, "/v1/echo/x", "", {{"X-Test", "hello"}});
  ASSERT_EQ(r.result_int(), 200u);
  EXPECT_EQ(field(r, "x_test"), "hello");
  EXPECT_EQ(field(r, "method"), "DELETE");
  HttpResponse created = client.request(bhttp::verb::post, "/v1/echo", R"({"a":1})");
  EXPECT_EQ(created.result_int(), 201u);
  EXPECT_EQ(created.body(), R"({"a":1})");
}

TEST_F(HttpServerTest, UnknownPathIs404Problem) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.get("/v1/nothing/here");
  EXPECT_EQ(r.result_int(), 404u);
  EXPECT_EQ(r[bhttp::field::content_type], "application/problem+json");
  expectStandardHeaders(r);
  EXPECT_EQ(field(r, "code"), "not_found");
  EXPECT_EQ(field(r, "type"), "urn:netledger:error:not_found");
  EXPECT_EQ(field(r, "status"), "404");
  // A 404 does not end the connection.
  EXPECT_EQ(client.get("/v1/echo/x").result_int(), 200u);
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.request(bhttp::verb::put, "/v1/echo/x", "{}");
  EXPECT_EQ(r.result_int(), 405u);
  EXPECT_EQ(r[bhttp::field::allow], "DELETE, GET, HEAD");
  EXPECT_EQ(field(r, "code"), "method_not_allowed");
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413AndCloses) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.request(bhttp::verb::post, "/v1/echo", std::string((1 << 20) + 1, 'x'));
  ASSERT_EQ(r.result_int(), 413u) << r.body();
  EXPECT_EQ(r[bhttp::field::content_type], "application/problem+json");
  EXPECT_EQ(field(r, "code"), "payload_too_large");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  // Without Content-Length the limit is only known to be exceeded while reading.
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  std::string chunk((1 << 19), 'y');
  std::ostringstream raw;
  raw << "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) raw << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
  raw << "0\r\n\r\n";
  ASSERT_FALSE(client.writeRaw(raw.str()));
  auto [ec, r] = client.read();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_EQ(field(r, "code"), "payload_too_large");
}

TEST_F(HttpServerTest, OneBodyLimitServesEveryRoute) {
  ServerOptions options;
  options.maxBodyBytes = 4 << 20;
  startServer(options);
  for (const char* route : {"/v1/big", "/v1/echo"}) {
    TestClient client;
    ASSERT_FALSE(client.connect(server_->port()));
    HttpResponse r = client.request(bhttp::verb::post, route, std::string(2 << 20, 'z'));
    EXPECT_EQ(r.result_int(), route == std::string_view("/v1/big") ? 200u : 201u) << route;
  }
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.request(bhttp::verb::post, "/v1/big", std::string((4 << 20) + 1, 'z'));
  EXPECT_EQ(r.result_int(), 413u);
}

TEST_F(HttpServerTest, MalformedRequestLineIs400AndCloses) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  ASSERT_FALSE(client.writeRaw("THIS IS NOT HTTP\r\n\r\n"));
  auto [ec, r] = client.read();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(field(r, "code"), "invalid_argument");
  EXPECT_TRUE(client.closedByServer());
}

TEST_F(HttpServerTest, BadContentLengthIs400) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  ASSERT_FALSE(client.writeRaw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"));
  auto [ec, r] = client.read();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 400u);
}

TEST_F(HttpServerTest, MalformedTargetIs400) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  ASSERT_FALSE(client.writeRaw("GET /v1/echo/%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto [ec, r] = client.read();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(field(r, "code"), "invalid_argument");
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r =
      client.request(bhttp::verb::get, "/v1/echo/x", "", {{"X-Big", std::string(20000, 'h')}});
  EXPECT_EQ(r.result_int(), 431u);
  EXPECT_EQ(field(r, "code"), "header_too_large");
}

TEST_F(HttpServerTest, AsyncHandlerAnswersFromAnotherThread) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.get("/v1/slow");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "slow /v1/slow");
  EXPECT_EQ(client.get("/v1/echo/after").result_int(), 200u);
}

TEST_F(HttpServerTest, DroppedResponderIs500AndTheConnectionLives) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.get("/v1/drop");
  EXPECT_EQ(r.result_int(), 500u);
  EXPECT_EQ(field(r, "code"), "internal");
  HttpResponse thrown = client.get("/v1/throw");
  EXPECT_EQ(thrown.result_int(), 500u);
  EXPECT_EQ(client.get("/v1/echo/still-here").result_int(), 200u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  std::string raw;
  constexpr int kCount = 10;
  for (int i = 0; i < kCount; ++i) {
    raw += "GET /v1/seq/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  ASSERT_FALSE(client.writeRaw(raw));  // all requests in one segment
  for (int i = 0; i < kCount; ++i) {
    auto [ec, r] = client.read();
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.body(), std::to_string(i));
  }
}

TEST_F(HttpServerTest, ConcurrentClients) {
  constexpr int kThreads = 32;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TestClient client;
      if (client.connect(server_->port())) return;
      for (int i = 0; i < kRequests; ++i) {
        std::string name = std::to_string(t) + "-" + std::to_string(i);
        HttpResponse r = client.get("/v1/echo/" + name);
        if (r.result_int() == 200 && field(r, "name") == name) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST_F(HttpServerTest, NoContentHasNoBodyHeaders) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.get("/v1/empty");
  EXPECT_EQ(r.result_int(), 204u);
  EXPECT_EQ(r[bhttp::field::server], "netledgerd");
  EXPECT_EQ(r.count(bhttp::field::content_length), 0u);
  EXPECT_EQ(client.get("/v1/echo/next").result_int(), 200u);
}

TEST_F(HttpServerTest, HeadResponseAnnouncesLengthWithoutBody) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  bhttp::request<bhttp::string_body> req(bhttp::verb::head, "/v1/head", 11);
  req.set(bhttp::field::host, "x");
  ASSERT_FALSE(client.write(req));
  auto [ec, r] = client.readHead();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r[bhttp::field::content_length], "12");
  // Had a body been sent, it would now be misread as the next response.
  EXPECT_EQ(client.get("/v1/echo/next").result_int(), 200u);
}

TEST_F(HttpServerTest, HandlerCannotBreakFraming) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  HttpResponse r = client.get("/v1/headers");
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r[bhttp::field::content_length], "2");
  EXPECT_EQ(r["X-Custom"], "yes");
  EXPECT_EQ(r.count("X-Evil"), 0u);
  EXPECT_EQ(r.count("Injected"), 0u);
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  ASSERT_FALSE(client.writeRaw(
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n"));
  auto [ec, interim] = client.readHead();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(interim.result_int(), 100u);
  ASSERT_FALSE(client.writeRaw(R"({"a":1})"));
  auto [ec2, r] = client.read();
  ASSERT_FALSE(ec2) << ec2.message();
  EXPECT_EQ(r.result_int(), 201u);
  EXPECT_EQ(r.body(), R"({"a":1})");
}

TEST_F(HttpServerTest, IdleConnectionsTimeOut) {
  ServerOptions options;
  options.idleTimeout = 150ms;
  startServer(options);
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  EXPECT_EQ(client.get("/v1/echo/x").result_int(), 200u);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closedByServer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(HttpServerTest, MetricsCountRequestsByRoutePattern) {
  TestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.get("/v1/echo/m" + std::to_string(i)).result_int(), 200u);
  ASSERT_EQ(client.get("/nowhere").result_int(), 404u);
  HttpResponse r = client.get("/metrics");
  ASSERT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");

  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::istringstream in(r.body());
  std::string line;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.starts_with("# TYPE ")) {
      std::istringstream fields(line.substr(7));
      std::string name, type;
      fields >> name >> type;
      types[name] = type;
      continue;
    }
    if (line.starts_with("#")) continue;
    auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  EXPECT_EQ(types["netledger_http_requests_total"], "counter");
  EXPECT_EQ(types["netledger_http_request_duration_seconds"], "histogram");
  EXPECT_EQ(
      samples
          [R"(netledger_http_requests_total{route="/v1/echo/{name}",method="GET",status="200"})"],
      3);
  EXPECT_EQ(
      samples[R"(netledger_http_requests_total{route="unmatched",method="GET",status="404"})"], 1);
  EXPECT_EQ(
      samples
          [R"(netledger_http_request_duration_seconds_count{route="/v1/echo/{name}",method="GET"})"],
      3);
  EXPECT_EQ(
      samples
          [R"(netledger_http_request_duration_seconds_bucket{route="/v1/echo/{name}",method="GET",le="+Inf"})"],
      3);
  EXPECT_EQ(samples["netledger_http_connections"], 1);
}

TEST_F(HttpServerTest, GracefulStopLetsTheInFlightRequestFinish) {
  TestClient idle;
  ASSERT_FALSE(idle.connect(server_->port()));
  ASSERT_EQ(idle.get("/v1/echo/idle").result_int(), 200u);

  TestClient busy;
  ASSERT_FALSE(busy.connect(server_->port()));
  bhttp::request<bhttp::string_body> req(bhttp::verb::get, "/v1/gate", 11);
  req.set(bhttp::field::host, "x");
  ASSERT_FALSE(busy.write(req));
  ASSERT_EQ(gateEntered_.get_future().wait_for(5s), std::future_status::ready);

  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->stop(5s); });
  auto [ec, r] = busy.read();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), R"({"done":true})");
  EXPECT_FALSE(r.keep_alive());  // answered with Connection: close
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(idle.closedByServer());
  TestClient late;
  EXPECT_TRUE(late.connect(server_->port()));  // no longer accepting
}

TEST_F(HttpServerTest, StopDeadlineClosesRequestsThatDoNotFinish) {
  gateDelay_ = 600ms;  // answers after the server is gone
  TestClient busy;
  ASSERT_FALSE(busy.connect(server_->port()));
  bhttp::request<bhttp::string_body> req(bhttp::verb::get, "/v1/gate", 11);
  req.set(bhttp::field::host, "x");
  ASSERT_FALSE(busy.write(req));
  ASSERT_EQ(gateEntered_.get_future().wait_for(5s), std::future_status::ready);
  auto start = std::chrono::steady_clock::now();
  server_->stop(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_TRUE(busy.closedByServer());
  server_.reset();  // TearDown then joins the late Responder's thread: it must find no server
}

TEST_F(HttpServerTest, TlsServesTheSameRoutes) {
  testing::SelfSignedCert cert;
  ASSERT_TRUE(cert.ok());
  ServerOptions options;
  options.tlsCertFile = cert.certFile();
  options.tlsKeyFile = cert.keyFile();
  startServer(options);
  EXPECT_TRUE(server_->isTls());
  TlsTestClient client;
  ASSERT_FALSE(client.connect(server_->port()));
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = client.get("/v1/echo/tls" + std::to_string(i));
    EXPECT_EQ(r.result_int(), 200u);
    EXPECT_EQ(field(r, "name"), "tls" + std::to_string(i));
  }
  EXPECT_EQ(client.get("/nope").result_int(), 404u);
  // Plain HTTP to the TLS port is not answered as HTTP.
  TestClient plain;
  ASSERT_FALSE(plain.connect(server_->port()));
  EXPECT_NE(plain.get("/v1/echo/x").result_int(), 200u);
}

TEST(HttpServerStartTest, ReportsBadConfiguration) {
  ServerOptions bad;
  bad.listen = "not-an-address";
  EXPECT_EQ(Server::start(bad, Router()).status().code(), StatusCode::kInvalidArgument);
  bad.listen = "127.0.0.1:99999";
  EXPECT_EQ(Server::start(bad, Router()).status().code(), StatusCode::kInvalidArgument);
  bad.listen = "::1:80";
  EXPECT_EQ(Server::start(bad, Router()).status().code(), StatusCode::kInvalidArgument);

  ServerOptions tls;
  tls.listen = "127.0.0.1:0";
  tls.tlsCertFile = "/nonexistent/cert.pem";
  tls.tlsKeyFile = "/nonexistent/key.pem";
  auto r = Server::start(tls, Router());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tls-cert"), std::string::npos);
  tls.tlsKeyFile.clear();
  EXPECT_EQ(Server::start(tls, Router()).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpServerStartTest, PortInUseIsUnavailable) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto first = Server::start(options, Router());
  ASSERT_TRUE(first.isOk());
  options.listen = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_EQ(Server::start(options, Router()).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace netledger::http
