#include "httpclient/http_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <exception>
#include <limits>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace netledger::httpclient {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

struct BaseUrl {
  bool tls = false;
  std::string host;         // without brackets
  std::string port;         // always set
  std::string host_header;  // "host[:port]", brackets for IPv6
  std::string path_prefix;  // encoded, no trailing '/'
  std::string origin;       // "scheme://host_header"
};

Result<BaseUrl> parseBaseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::invalidArgument("server URL \"" + std::string(text.substr(0, 200)) +
                                   "\": " + std::string(why) +
                                   " (expected http://HOST[:PORT] or https://HOST[:PORT])");
  };
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return bad("not an absolute URL");
  const auto& u = *parsed;
  BaseUrl b;
  std::string scheme(u.scheme());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  b.tls = scheme == "https";
  if (!u.has_authority() || u.encoded_host().empty()) return bad("no host");
  if (u.has_userinfo()) return bad("user info is not supported; use --token");
  if (u.has_query() || u.has_fragment()) return bad("no query or fragment allowed");
  bool v6 = u.host_type() == boost::urls::host_type::ipv6;
  b.host = v6 ? u.host_ipv6_address().to_string() : std::string(u.host_address());
  b.port = u.has_port() ? std::string(u.port()) : std::string(b.tls ? "443" : "80");
  if (b.port.empty()) return bad("empty port");
  b.host_header = v6 ? "[" + b.host + "]" : b.host;
  if (u.has_port()) b.host_header += ":" + b.port;
  b.path_prefix = std::string(u.encoded_path());
  while (!b.path_prefix.empty() && b.path_prefix.back() == '/') b.path_prefix.pop_back();
  b.origin = scheme + "://" + b.host_header;
  return b;
}

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::string encodePathSegment(std::string_view segment) {
  return boost::urls::encode(segment, boost::urls::pchars);
}

std::string encodeQueryValue(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

struct HttpClient::Impl {
  BaseUrl url;
  HttpClientOptions options;
  asio::io_context ioc;
  // Only for https: creating a context initializes OpenSSL (its configuration, providers),
  // which costs a short-lived client such as netledger-cni more CPU than its plain request.
  std::optional<ssl::context> tls;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  // The socket of an open stream(), for abortStream() on another thread; -1 when none.
  std::atomic<int> stream_fd{-1};

  bool connected() const { return plain || secure; }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Runs the queued operations to completion. Every operation is bounded by a timer (the
  // tcp_stream expiry or the resolve timer), so this returns.
  void drain() {
    ioc.restart();
    ioc.run();
  }

  Status configureTls() {
    beast::error_code ec;
    tls.emplace(ssl::context::tls_client);
    if (options.insecure) {
      tls->set_verify_mode(ssl::verify_none, ec);
    } else {
      if (options.ca_file.empty()) {
        tls->set_default_verify_paths(ec);
      } else {
        tls->load_verify_file(options.ca_file, ec);
      }
      if (!ec) tls->set_verify_mode(ssl::verify_peer, ec);
    }
    if (!ec && !options.cert_file.empty()) {
      tls->use_certificate_chain_file(options.cert_file, ec);
      if (!ec) tls->use_private_key_file(options.key_file, ssl::context::pem, ec);
    }
    if (ec) return Status::unavailable("TLS setup: " + ec.message());
    return Status::ok();
  }

  Result<tcp::resolver::results_type> resolve() {
    tcp::resolver resolver(ioc);
    asio::steady_timer timer(ioc);
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    bool timed_out = false;
    timer.expires_after(options.connect_timeout);
    timer.async_wait([&](const beast::error_code& e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    resolver.async_resolve(url.host, url.port,
                           [&](const beast::error_code& e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             timer.cancel();
                           });
    drain();
    if (timed_out) return Status::unavailable("cannot resolve " + url.host + ": timed out");
    if (ec) return Status::unavailable("cannot resolve " + url.host + ": " + ec.message());
    return endpoints;
  }

  Status connect() {
    auto endpoints = resolve();
    if (!endpoints) return endpoints.status();
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    beast::error_code ec;
    stream->expires_after(options.connect_timeout);
    stream->async_connect(*endpoints,
                          [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    drain();
    if (ec) return Status::unavailable("cannot connect to " + url.origin + ": " + describe(ec));
    beast::error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    stream->expires_never();
    buffer.clear();
    if (!url.tls) {
      plain = std::move(stream);
      return Status::ok();
    }
    secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), *tls);
    beast::error_code parse_ec;
    asio::ip::make_address(url.host, parse_ec);
    bool is_ip = !parse_ec;
    if (!is_ip) SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
    if (!options.insecure) secure->set_verify_callback(ssl::host_name_verification(url.host));
    beast::get_lowest_layer(*secure).expires_after(options.connect_timeout);
    secure->async_handshake(ssl::stream_base::client, [&](const beast::error_code& e) { ec = e; });
    drain();
    if (ec) {
      close();
      std::string hint = options.insecure ? "" : " (--insecure skips certificate verification)";
      return Status::unavailable("TLS handshake with " + url.origin + " failed: " + describe(ec) +
                                 hint);
    }
    beast::get_lowest_layer(*secure).expires_never();
    return Status::ok();
  }

  void close() {
    beast::error_code ec;
    if (secure) {
      // A polite close_notify, bounded: the server may already be gone.
      beast::get_lowest_layer(*secure).expires_after(std::chrono::seconds(1));
      secure->async_shutdown([](const beast::error_code&) {});
      drain();
      beast::get_lowest_layer(*secure).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(*secure).socket().close(ec);
      secure.reset();
    }
    if (plain) {
      plain->socket().shutdown(tcp::socket::shutdown_both, ec);
      plain->socket().close(ec);
      plain.reset();
    }
    buffer.clear();
  }

  // Whether the server closed (or wrote unasked to) the idle kept-alive connection: then the
  // next request must go on a new one.
  bool idleConnectionIsStale() {
    pollfd p{};
    p.fd = lowest().socket().native_handle();
    p.events = POLLIN;
    if (::poll(&p, 1, 0) < 0) return true;
    return (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

  // What one request/response exchange did, for the retry decision.
  struct Exchange {
    Result<HttpResponse> response = Status::unavailable("not sent");
    bool written = false;
    bool got_response_bytes = false;
  };

  template <typename Stream>
  Exchange exchange(Stream& stream, const bhttp::request<bhttp::string_body>& message) {
    Exchange x;
    beast::error_code ec;
    lowest().expires_after(options.request_timeout);
    bhttp::async_write(stream, message, [&](const beast::error_code& e, std::size_t) { ec = e; });
    drain();
    if (ec) {
      x.response = Status::unavailable("sending to " + url.origin + " failed: " + describe(ec));
      return x;
    }
    x.written = true;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit((std::numeric_limits<std::uint64_t>::max)());
    parser.header_limit(64 * 1024);
    if (message.method() == bhttp::verb::head) parser.skip(true);
    bhttp::async_read(stream, buffer, parser,
                      [&](const beast::error_code& e, std::size_t) { ec = e; });
    drain();
    x.got_response_bytes = parser.got_some();
    if (ec) {
      std::string what = ec == beast::error::timeout
                             ? "no response within " +
                                   std::to_string(options.request_timeout.count() / 1000) + " s"
                             : "connection lost: " + ec.message();
      x.response = Status::unavailable(url.origin + ": " + what);
      return x;
    }
    lowest().expires_never();
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) close();
    x.response = std::move(out);
    return x;
  }

  Exchange exchangeOnce(const bhttp::request<bhttp::string_body>& message) {
    Exchange x = secure ? exchange(*secure, message) : exchange(*plain, message);
    if (!x.response) close();
    return x;
  }

  Result<bhttp::request<bhttp::string_body>> messageOf(const HttpRequest& request) const {
    bhttp::verb verb = bhttp::string_to_verb(request.method);
    if (verb == bhttp::verb::unknown) {
      return Status::invalidArgument("HTTP method \"" + request.method + "\" is not known");
    }
    bhttp::request<bhttp::string_body> message{verb, url.path_prefix + request.target, 11};
    message.set(bhttp::field::host, url.host_header);
    message.set(bhttp::field::user_agent, "netledger/0.1.0");
    message.keep_alive(true);
    for (const auto& h : request.headers) message.set(h.name, h.value);
    message.body() = request.body;
    message.prepare_payload();
    return message;
  }

  Result<HttpResponse> send(const HttpRequest& request) {
    auto built = messageOf(request);
    if (!built) return built.status();
    const auto& message = *built;
    const bhttp::verb verb = message.method();

    bool reused = connected();
    if (reused && idleConnectionIsStale()) {
      close();
      reused = false;
    }
    if (!connected()) NL_RETURN_IF_ERROR(connect());
    Exchange x = exchangeOnce(message);
    // A reused connection may have died between our check and the write. Resending is safe
    // when the server cannot have seen the request, or when the method is idempotent.
    bool idempotent = verb == bhttp::verb::get || verb == bhttp::verb::head ||
                      verb == bhttp::verb::put || verb == bhttp::verb::delete_;
    if (!x.response && reused && !x.got_response_bytes && (!x.written || idempotent)) {
      NL_RETURN_IF_ERROR(connect());
      x = exchangeOnce(message);
    }
    return std::move(x.response);
  }

  template <typename Stream>
  Result<unsigned> streamOn(Stream& stream, const bhttp::request<bhttp::string_body>& message,
                            const std::function<bool(std::string_view)>& on_data,
                            std::chrono::milliseconds idle_timeout, std::string* error_body) {
    beast::error_code ec;
    lowest().expires_after(options.request_timeout);
    bhttp::async_write(stream, message, [&](const beast::error_code& e, std::size_t) { ec = e; });
    drain();
    if (ec) return Status::unavailable("sending to " + url.origin + " failed: " + describe(ec));
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit((std::numeric_limits<std::uint64_t>::max)());
    parser.header_limit(64 * 1024);
    bhttp::async_read_header(stream, buffer, parser,
                             [&](const beast::error_code& e, std::size_t) { ec = e; });
    drain();
    if (ec) return Status::unavailable(url.origin + ": no response header: " + describe(ec));
    const unsigned status = parser.get().result_int();
    std::array<char, 8192> chunk;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      lowest().expires_after(status == 200 ? idle_timeout : options.request_timeout);
      bhttp::async_read_some(stream, buffer, parser,
                             [&](const beast::error_code& e, std::size_t) { ec = e; });
      drain();
      if (ec == bhttp::error::need_buffer) ec = {};
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (status != 200) {
        if (error_body != nullptr && error_body->size() < 64 * 1024) {
          error_body->append(chunk.data(), n);
        }
      } else if (n > 0 && !on_data(std::string_view(chunk.data(), n))) {
        break;
      }
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) break;
      if (ec) {
        return Status::unavailable(
            url.origin + ": stream ended: " +
            (ec == beast::error::timeout
                 ? "nothing for " + std::to_string(idle_timeout.count() / 1000) + " s"
                 : ec.message()));
      }
    }
    return status;
  }

  Result<unsigned> stream(const HttpRequest& request,
                          const std::function<bool(std::string_view)>& on_data,
                          std::chrono::milliseconds idle_timeout, std::string* error_body) {
    auto built = messageOf(request);
    if (!built) return built.status();
    const auto& message = *built;
    close();
    NL_RETURN_IF_ERROR(connect());
    stream_fd.store(lowest().socket().native_handle());
    auto result = secure ? streamOn(*secure, message, on_data, idle_timeout, error_body)
                         : streamOn(*plain, message, on_data, idle_timeout, error_body);
    stream_fd.store(-1);
    close();
    return result;
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  try {
    impl_->close();
  } catch (...) {  // a destructor must not throw; the socket is gone either way
  }
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(std::string_view base_url,
                                                       HttpClientOptions options) {
  try {
    auto url = parseBaseUrl(base_url);
    if (!url) return url.status();
    auto impl = std::make_unique<Impl>();
    impl->url = std::move(url).value();
    impl->options = options;
    if (impl->url.tls) NL_RETURN_IF_ERROR(impl->configureTls());
    return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
  } catch (const std::exception& e) {
    return Status::internal(std::string("HTTP client setup: ") + e.what());
  }
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  try {
    return impl_->send(request);
  } catch (const std::exception& e) {
    try {
      impl_->close();
    } catch (...) {  // already failing; report the first error
    }
    return Status::unavailable(impl_->url.origin + ": " + e.what());
  }
}

Result<unsigned> HttpClient::stream(const HttpRequest& request,
                                    const std::function<bool(std::string_view)>& on_data,
                                    std::chrono::milliseconds idle_timeout,
                                    std::string* error_body) {
  try {
    return impl_->stream(request, on_data, idle_timeout, error_body);
  } catch (const std::exception& e) {
    impl_->stream_fd.store(-1);
    try {
      impl_->close();
    } catch (...) {  // already failing; report the first error
    }
    return Status::unavailable(impl_->url.origin + ": " + e.what());
  }
}

void HttpClient::abortStream() {
  // shutdown(2) on a socket another thread reads wakes that read with end-of-file; the fd
  // stays open (and owned by the reader) until it closes it.
  const int fd = impl_->stream_fd.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

const std::string& HttpClient::origin() const { return impl_->url.origin; }

}  // namespace netledger::httpclient
