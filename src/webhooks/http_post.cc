#include "webhooks/http_post.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "common/parse.h"

namespace netledger::webhooks {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Retry-After as delta-seconds (RFC 9110 §10.2.3). The HTTP-date form is ignored: the
// exponential backoff applies then.
std::chrono::milliseconds parseRetryAfter(std::string_view value) {
  auto seconds = parseUnsigned("Retry-After", value, UINT32_MAX);
  if (!seconds) return {};
  return std::chrono::seconds(*seconds);
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

// One POST from resolve to response header. Lives on one io_context (its handlers never run
// concurrently) and is kept alive by its pending handlers.
template <class Stream>
class PostOperation : public std::enable_shared_from_this<PostOperation<Stream>> {
 public:
  template <class... StreamArgs>
  PostOperation(net::io_context& context, PostTarget target,
                bhttp::request<bhttp::string_body> request, std::chrono::milliseconds timeout,
                bool verifyPeer, std::function<void(PostResult)> done, StreamArgs&&... streamArgs)
      : target_(std::move(target)),
        request_(std::move(request)),
        timeout_(timeout),
        verifyPeer_(verifyPeer),
        done_(std::move(done)),
        resolver_(context),
        deadline_(context),
        stream_(context, std::forward<StreamArgs>(streamArgs)...) {}

  void start() {
    started_ = SteadyClock::now();
    // One deadline for the whole exchange: a receiver that accepts and then never answers
    // costs this long, and not a moment more.
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->onDeadline();
    });
    beast::error_code ec;
    auto address = net::ip::make_address(target_.host, ec);
    if (!ec) {
      // parsePostUrl wrote the port: 1-65535.
      auto port = static_cast<std::uint16_t>(parseUnsigned("port", target_.port, 65535).valueOr(0));
      endpoints_ = tcp::resolver::results_type::create(tcp::endpoint(address, port), target_.host,
                                                       target_.port);
      return connect();
    }
    phase_ = "resolve";
    resolver_.async_resolve(
        target_.host, target_.port,
        [self = this->shared_from_this()](beast::error_code e, tcp::resolver::results_type r) {
          if (e) return self->fail(e);
          self->endpoints_ = std::move(r);
          self->connect();
        });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void connect() {
    phase_ = "connect";
    lowest().async_connect(
        endpoints_, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return self->fail(ec);
          beast::error_code ignored;
          self->lowest().socket().set_option(tcp::no_delay(true), ignored);
          self->handshake();
        });
  }

  void handshake() {
    if constexpr (kIsTls<Stream>) {
      phase_ = "tls handshake";
      beast::error_code notAnAddress;
      net::ip::make_address(target_.host, notAnAddress);
      // SNI carries names only (RFC 6066 §3).
      if (notAnAddress) SSL_set_tlsext_host_name(stream_.native_handle(), target_.host.c_str());
      if (verifyPeer_) {
        stream_.set_verify_mode(ssl::verify_peer);
        stream_.set_verify_callback(ssl::host_name_verification(target_.host));
      } else {
        stream_.set_verify_mode(ssl::verify_none);
      }
      stream_.async_handshake(ssl::stream_base::client,
                              [self = this->shared_from_this()](beast::error_code e) {
                                if (e) return self->fail(e);
                                self->send();
                              });
    } else {
      send();
    }
  }

  void send() {
    phase_ = "send";
    bhttp::async_write(stream_, request_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return self->fail(ec);
                         self->receive();
                       });
  }

  // Only the status line and header matter; the body is not read, and the connection closes.
  void receive() {
    phase_ = "receive";
    bhttp::async_read_header(stream_, buffer_, parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) return self->fail(ec);
                               self->succeed();
                             });
  }

  void succeed() {
    PostResult result;
    const auto& response = parser_.get();
    result.status = response.result_int();
    if (result.status / 100 != 2) {
      result.error = "HTTP " + std::to_string(result.status);
      if (!response.reason().empty()) result.error += " " + std::string(response.reason());
    }
    auto retryAfter = response.find(bhttp::field::retry_after);
    if (retryAfter != response.end()) result.retryAfter = parseRetryAfter(retryAfter->value());
    finish(std::move(result));
  }

  void fail(beast::error_code ec) {
    PostResult result;
    if (timedOut_) {
      result.error = "timeout after " + std::to_string(timeout_.count()) + " ms (" + phase_ + ")";
    } else {
      result.error = std::string(phase_) + ": " + ec.message();
    }
    finish(std::move(result));
  }

  void onDeadline() {
    if (finished_) return;
    timedOut_ = true;
    resolver_.cancel();
    // Closing the socket completes whatever operation is pending with an error.
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  void finish(PostResult result) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    beast::error_code ignored;
    // We asked for Connection: close, and a TLS close_notify exchange would only add a round
    // trip the receiver has no use for.
    lowest().socket().close(ignored);
    result.durationMs =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - started_).count();
    auto done = std::move(done_);
    done(std::move(result));
  }

  PostTarget target_;
  bhttp::request<bhttp::string_body> request_;
  std::chrono::milliseconds timeout_;
  bool verifyPeer_;
  std::function<void(PostResult)> done_;
  tcp::resolver resolver_;
  net::steady_timer deadline_;
  Stream stream_;
  tcp::resolver::results_type endpoints_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::empty_body> parser_;
  const char* phase_ = "connect";
  SteadyClock::time_point started_;
  bool timedOut_ = false;
  bool finished_ = false;
};

}  // namespace

Result<PostTarget> parsePostUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::invalidArgument("url \"" + std::string(text.substr(0, 200)) +
                                   "\": " + std::string(why));
  };
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    if (boost::urls::parse_uri(text)) return bad("fragments are not allowed");
    return bad("not an absolute URL (http://host[:port]/path or https://...)");
  }
  const auto& u = *parsed;
  std::string scheme = asciiLower(u.scheme());
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  if (!u.has_authority() || u.encoded_host().empty()) return bad("no host");
  if (u.has_userinfo()) return bad("user info is not supported");
  PostTarget t;
  t.tls = scheme == "https";
  // With an authority the path is empty or starts with '/' (RFC 3986 §3.3); anything else
  // means the host was not parsed the way a reader of the URL would expect.
  if (!u.encoded_path().empty() && !u.encoded_path().starts_with('/')) return bad("invalid host");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      t.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipv4:
      t.host = u.host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::name:
      // A DNS name, taken as written: percent-decoding could smuggle bytes (CR, LF) into the
      // Host header, and no resolvable name needs it.
      t.host = std::string(u.encoded_host());
      if (!std::all_of(t.host.begin(), t.host.end(), isHostNameChar)) {
        return bad("host must be a DNS name or an IP address");
      }
      break;
    default:
      return bad("unsupported host");
  }
  unsigned port = t.tls ? 443 : 80;
  if (u.has_port()) {
    std::string_view text = u.port();
    auto parsed = parseInteger("port", text, 1, 65535);
    if (!parsed) return bad("port must be 1-65535");
    port = static_cast<unsigned>(*parsed);
  }
  t.port = std::to_string(port);
  bool v6 = u.host_type() == boost::urls::host_type::ipv6;
  t.hostHeader = v6 ? "[" + t.host + "]" : t.host;
  if (u.has_port()) t.hostHeader += ":" + t.port;
  t.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
  return t;
}

struct HttpPoster::Impl {
  explicit Impl(PosterOptions opts) : options(std::move(opts)) {
    std::size_t n = std::max<std::size_t>(1, options.threads);
    for (std::size_t i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      guards.push_back(net::make_work_guard(*contexts.back()));
    }
    for (auto& context : contexts) {
      threads.emplace_back([ctx = context.get()] {
        while (true) {
          try {
            ctx->run();
            return;
          } catch (...) {
            // A delivery callback threw; the others must go on.
          }
        }
      });
    }
  }

  // Loading the system's trust store takes tens of milliseconds, so only the first https
  // delivery pays for it. Returns false (with tlsError set) when the trust store is unusable.
  bool prepareTls() {
    std::call_once(tlsPrepared, [this] {
      beast::error_code ec;
      if (options.insecureTls) return;
      tls.set_default_verify_paths(ec);
      if (ec) {
        tlsError = "tls setup (system trust store): " + ec.message();
        return;
      }
      if (!options.caFile.empty()) tls.load_verify_file(options.caFile, ec);
      if (ec) tlsError = "tls setup (ca file \"" + options.caFile + "\"): " + ec.message();
    });
    return tlsError.empty();
  }

  PosterOptions options;
  // Declared before the io_contexts: the TLS streams they destroy still refer to it.
  ssl::context tls{ssl::context::tls_client};
  std::once_flag tlsPrepared;
  std::string tlsError;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stopped{false};
};

HttpPoster::HttpPoster(PosterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpPoster::~HttpPoster() { stop(); }

void HttpPoster::post(const PostTarget& target, Headers headers,
                      std::shared_ptr<const std::string> body,
                      std::function<void(PostResult)> done) {
  Impl& impl = *impl_;
  if (impl.stopped.load()) return;
  net::io_context& context = *impl.contexts[impl.next++ % impl.contexts.size()];
  if (target.tls && !impl.prepareTls()) {
    PostResult result;
    result.error = impl.tlsError;
    net::post(context, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
    return;
  }
  bhttp::request<bhttp::string_body> request(bhttp::verb::post, target.target, 11);
  request.set(bhttp::field::host, target.hostHeader);
  for (auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(false);
  request.body() = *body;
  request.prepare_payload();
  bool verify = !impl.options.insecureTls;
  auto timeout = impl.options.timeout;
  if (target.tls) {
    auto op = std::make_shared<PostOperation<beast::ssl_stream<beast::tcp_stream>>>(
        context, target, std::move(request), timeout, verify, std::move(done), impl.tls);
    net::post(context, [op] { op->start(); });
  } else {
    auto op = std::make_shared<PostOperation<beast::tcp_stream>>(
        context, target, std::move(request), timeout, verify, std::move(done));
    net::post(context, [op] { op->start(); });
  }
}

void HttpPoster::stop() {
  Impl& impl = *impl_;
  if (impl.stopped.exchange(true)) return;
  impl.guards.clear();
  // Abandon rather than drain: a receiver that never answers would otherwise hold stop() for
  // its whole timeout. The operations die with their io_context, without calling back.
  for (auto& context : impl.contexts) context->stop();
  for (auto& thread : impl.threads) {
    if (thread.joinable()) thread.join();
  }
  impl.contexts.clear();
}

}  // namespace netledger::webhooks
