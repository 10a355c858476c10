// http_load: a keep-alive HTTP/1.1 load generator for the netledgerd API benchmarks.
//
//   http_load --url http://127.0.0.1:8080/v1/bindings --method POST
//             --body-template '{"instance":"vm-{n}","pool":"blue"}'
//             --connections 16 --requests 2000 --header "Authorization: Bearer $TOKEN"
//
// Opens --connections connections, each sending --requests requests back to back (one in flight
// per connection, like a client waiting for each answer), and prints one `name: value` line per
// figure: requests_per_s, p50_ms, p99_ms, non_2xx and friends. `{n}` in the body template is
// replaced by a counter unique across all requests (0, 1, 2, ...). Latency is measured from
// starting to write a request to having read its whole response; connecting is not timed.
// https:// URLs are supported; the certificate is not verified (benchmarks use test certs).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Config {
  std::string method = "GET";
  std::string host;  // for the Host header and SNI
  std::string target;
  std::vector<std::string> headers;
  std::vector<std::string> bodyParts;  // the template split at each "{n}"
  bool hasBody = false;
  int requests = 1000;
  std::chrono::seconds timeout{30};
  tcp::resolver::results_type endpoints;
};

struct Totals {
  std::atomic<std::uint64_t> counter{0};  // the {n} sequence
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> non2xx{0};
  std::atomic<std::uint64_t> reconnects{0};
};

std::vector<std::string> splitTemplate(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t at = text.find("{n}", start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 3;
  }
  return parts;
}

// The request as raw bytes: building text directly keeps the client cheap, so the measurement
// is dominated by the server.
std::string buildRequest(const Config& config, Totals& totals) {
  std::string body;
  if (config.hasBody) {
    std::uint64_t n = totals.counter.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < config.bodyParts.size(); ++i) {
      if (i > 0) body += std::to_string(n);
      body += config.bodyParts[i];
    }
  }
  std::string out;
  out.reserve(256 + body.size());
  out += config.method;
  out += ' ';
  out += config.target;
  out += " HTTP/1.1\r\nHost: ";
  out += config.host;
  out += "\r\n";
  for (const std::string& h : config.headers) {
    out += h;
    out += "\r\n";
  }
  if (config.hasBody || config.method == "POST" || config.method == "PUT" ||
      config.method == "PATCH") {
    if (config.hasBody) out += "Content-Type: application/json\r\n";
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

template <class Stream>
class Client : public std::enable_shared_from_this<Client<Stream>> {
 public:
  Client(net::io_context& context, net::ssl::context* tls, const Config& config, Totals& totals)
      : context_(context), tls_(tls), config_(config), totals_(totals) {
    latenciesUs_.reserve(static_cast<std::size_t>(config.requests));
  }

  // Connects; `done(ok)` is called on the client's io_context.
  template <class Done>
  void connect(Done done) {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.emplace(context_);
    } else {
      stream_.emplace(context_, *tls_);
      SSL_set_tlsext_host_name(stream_->native_handle(), config_.host.c_str());
    }
    beast::get_lowest_layer(*stream_).expires_after(config_.timeout);
    beast::get_lowest_layer(*stream_).async_connect(
        config_.endpoints, [self = this->shared_from_this(), done](beast::error_code ec,
                                                                   const tcp::endpoint&) mutable {
          if (ec) return done(false);
          beast::error_code ignored;
          beast::get_lowest_layer(*self->stream_).socket().set_option(tcp::no_delay(true), ignored);
          if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
            done(true);
          } else {
            self->stream_->async_handshake(net::ssl::stream_base::client,
                                           [done](beast::error_code e) mutable { done(!e); });
          }
        });
  }

  void run() { next(); }

  const std::vector<std::uint32_t>& latenciesUs() const { return latenciesUs_; }

 private:
  void next() {
    if (sent_ >= config_.requests) return;
    ++sent_;
    request_ = buildRequest(config_, totals_);
    started_ = Clock::now();
    beast::get_lowest_layer(*stream_).expires_after(config_.timeout);
    net::async_write(*stream_, net::buffer(request_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail();
                       self->read();
                     });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(boost::none);
    bhttp::async_read(*stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->fail();
                        self->onResponse();
                      });
  }

  void onResponse() {
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    latenciesUs_.push_back(static_cast<std::uint32_t>(elapsed.count()));
    auto& response = parser_->get();
    if (response.result_int() < 200 || response.result_int() >= 300) {
      totals_.non2xx.fetch_add(1, std::memory_order_relaxed);
    }
    if (!response.keep_alive()) return reconnect();
    next();
  }

  void fail() {
    totals_.errors.fetch_add(1, std::memory_order_relaxed);
    reconnect();
  }

  // The server closed (or broke) the connection: open a new one and carry on.
  void reconnect() {
    if (sent_ >= config_.requests) return;
    totals_.reconnects.fetch_add(1, std::memory_order_relaxed);
    buffer_.clear();
    connect([self = this->shared_from_this()](bool ok) {
      if (ok) return self->next();
      // Cannot reach the server any more: count the rest as errors.
      self->totals_.errors.fetch_add(
          static_cast<std::uint64_t>(self->config_.requests - self->sent_),
          std::memory_order_relaxed);
      self->sent_ = self->config_.requests;
    });
  }

  net::io_context& context_;
  net::ssl::context* tls_;
  const Config& config_;
  Totals& totals_;
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::string request_;
  Clock::time_point started_;
  int sent_ = 0;
  std::vector<std::uint32_t> latenciesUs_;
};

double percentileMs(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)] / 1000.0;
}

template <class Stream>
int runLoad(const Config& config, net::ssl::context* tls, int connections, int threads) {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (int i = 0; i < threads; ++i) contexts.push_back(std::make_unique<net::io_context>(1));
  Totals totals;
  std::vector<std::shared_ptr<Client<Stream>>> clients;
  std::atomic<int> connected{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < connections; ++i) {
    auto client = std::make_shared<Client<Stream>>(*contexts[static_cast<std::size_t>(i % threads)],
                                                   tls, config, totals);
    client->connect([&](bool ok) { ++(ok ? connected : failed); });
    clients.push_back(client);
  }
  for (auto& c : contexts) c->run();  // connect everything before the clock starts
  if (failed.load() > 0) {
    std::fprintf(stderr, "http_load: %d of %d connections failed\n", failed.load(), connections);
    return 1;
  }
  for (auto& c : contexts) c->restart();
  for (std::size_t i = 0; i < clients.size(); ++i) {
    net::post(*contexts[i % contexts.size()], [client = clients[i]] { client->run(); });
  }
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (auto& c : contexts) workers.emplace_back([&c] { c->run(); });
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<std::uint32_t> all;
  for (auto& client : clients) {
    all.insert(all.end(), client->latenciesUs().begin(), client->latenciesUs().end());
  }
  std::sort(all.begin(), all.end());
  double mean = 0;
  for (auto v : all) mean += v;
  mean = all.empty() ? 0 : mean / static_cast<double>(all.size()) / 1000.0;
  std::printf("requests: %zu\n", all.size());
  std::printf("errors: %llu\n", static_cast<unsigned long long>(totals.errors.load()));
  std::printf("non_2xx: %llu\n", static_cast<unsigned long long>(totals.non2xx.load()));
  std::printf("reconnects: %llu\n", static_cast<unsigned long long>(totals.reconnects.load()));
  std::printf("duration_s: %.3f\n", seconds);
  std::printf("requests_per_s: %.0f\n",
              seconds > 0 ? static_cast<double>(all.size()) / seconds : 0);
  std::printf("mean_ms: %.3f\n", mean);
  std::printf("p50_ms: %.3f\n", percentileMs(all, 0.50));
  std::printf("p99_ms: %.3f\n", percentileMs(all, 0.99));
  std::printf("max_ms: %.3f\n", all.empty() ? 0.0 : all.back() / 1000.0);
  return totals.errors.load() == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Keep-alive HTTP/1.1 load generator"};
  std::string url;
  std::string bodyTemplate;
  Config config;
  int connections = 8;
  int threads = 1;
  int timeoutSeconds = 30;
  app.add_option("--url", url, "http://host:port/path?query or https://...")->required();
  app.add_option("--method", config.method, "request method")->capture_default_str();
  app.add_option("--body-template", bodyTemplate, "request body; {n} becomes a unique counter");
  std::string bodyFile;
  app.add_option("--body-file", bodyFile, "request body read from a file, sent as is (batches)");
  app.add_option("--connections", connections, "concurrent connections")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--requests", config.requests, "requests per connection")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--header", config.headers, "extra header \"Name: value\" (repeatable)");
  app.add_option("--threads", threads, "client I/O threads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", timeoutSeconds, "per-operation timeout in seconds")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty()) {
    std::fprintf(stderr, "http_load: --url must be http(s)://host[:port]/path\n");
    return 1;
  }
  const bool https = parsed->scheme() == "https";
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (https ? "443" : "80");
  std::string host = parsed->host_address();
  config.host = parsed->encoded_host_and_port();
  config.target = parsed->encoded_target().empty() ? "/" : std::string(parsed->encoded_target());
  config.bodyParts = splitTemplate(bodyTemplate);
  config.hasBody = !bodyTemplate.empty();
  if (!bodyFile.empty()) {
    std::ifstream in(bodyFile, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "http_load: cannot read --body-file %s\n", bodyFile.c_str());
      return 1;
    }
    config.bodyParts = {std::string(std::istreambuf_iterator<char>(in), {})};
    config.hasBody = true;
  }
  config.timeout = std::chrono::seconds(timeoutSeconds);
  for (const std::string& h : config.headers) {
    if (h.find(':') == std::string::npos || h.find_first_of("\r\n") != std::string::npos) {
      std::fprintf(stderr, "http_load: --header must be \"Name: value\": %s\n", h.c_str());
      return 1;
    }
  }

  net::io_context resolverContext;
  tcp::resolver resolver(resolverContext);
  beast::error_code ec;
  config.endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    std::fprintf(stderr, "http_load: cannot resolve %s: %s\n", host.c_str(), ec.message().c_str());
    return 1;
  }
  if (!https) return runLoad<beast::tcp_stream>(config, nullptr, connections, threads);
  net::ssl::context tls(net::ssl::context::tls_client);
  tls.set_verify_mode(net::ssl::verify_none);
  return runLoad<beast::ssl_stream<beast::tcp_stream>>(config, &tls, connections, threads);
}
