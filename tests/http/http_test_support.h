#pragma once
// Test helpers for the HTTP server tests: a Beast client over real TCP (optionally TLS) whose
// every operation has a deadline, so a server bug fails a test instead of hanging it, and a
// throwaway self-signed certificate made with the OpenSSL API.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace netledger::http::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using HttpResponse = bhttp::response<bhttp::string_body>;

inline constexpr std::chrono::seconds kIoDeadline{5};

// A blocking-style client built on async operations plus a deadline (Beast's tcp_stream
// timeouts only apply to asynchronous operations).
template <class Stream>
class BasicTestClient {
 public:
  template <class... Args>
  explicit BasicTestClient(Args&&... args) : stream_(context_, std::forward<Args>(args)...) {}

  // Before connect(): shrinks the socket's receive buffer (a slow reader fills up sooner).
  beast::error_code setReceiveBuffer(int bytes) {
    beast::error_code ec;
    tcp::socket& socket = lowest().socket();
    if (!socket.is_open()) socket.open(tcp::v4(), ec);
    if (!ec) socket.set_option(net::socket_base::receive_buffer_size(bytes), ec);
    return ec;
  }

  beast::error_code connect(std::uint16_t port) {
    beast::error_code ec = run([&](auto done) {
      lowest().async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                             [done](beast::error_code e) { done(e); });
    });
    if (ec) return ec;
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      ec = run([&](auto done) {
        stream_.async_handshake(net::ssl::stream_base::client,
                                [done](beast::error_code e) { done(e); });
      });
    }
    return ec;
  }

  beast::error_code writeRaw(const std::string& bytes) {
    return run([&](auto done) {
      net::async_write(stream_, net::buffer(bytes),
                       [done](beast::error_code e, std::size_t) { done(e); });
    });
  }

  beast::error_code write(const bhttp::request<bhttp::string_body>& request) {
    return run([&](auto done) {
      bhttp::async_write(stream_, request, [done](beast::error_code e, std::size_t) { done(e); });
    });
  }

  // Reads one response; the error is end_of_stream when the server closed the connection.
  std::pair<beast::error_code, HttpResponse> read() {
    HttpResponse response;
    beast::error_code ec = run([&](auto done) {
      bhttp::async_read(stream_, buffer_, response,
                        [done](beast::error_code e, std::size_t) { done(e); });
    });
    return {ec, std::move(response)};
  }

  // Reads one response to a HEAD request (its Content-Length announces a body that never comes).
  std::pair<beast::error_code, HttpResponse> readHead() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(true);
    beast::error_code ec = run([&](auto done) {
      bhttp::async_read(stream_, buffer_, parser,
                        [done](beast::error_code e, std::size_t) { done(e); });
    });
    return {ec, parser.release()};
  }

  // For a streamed response: reads the header into `parser` (then, on each call to readSome,
  // the body as it arrives; parser.is_done() once the body is complete).
  beast::error_code readHeader(bhttp::response_parser<bhttp::string_body>& parser) {
    return run([&](auto done) {
      bhttp::async_read_header(stream_, buffer_, parser,
                               [done](beast::error_code e, std::size_t) { done(e); });
    });
  }
  beast::error_code readSome(bhttp::response_parser<bhttp::string_body>& parser) {
    return run([&](auto done) {
      bhttp::async_read_some(stream_, buffer_, parser,
                             [done](beast::error_code e, std::size_t) { done(e); });
    });
  }

  // Closes the connection from the client side (a browser tab going away).
  void close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  HttpResponse request(bhttp::verb method, const std::string& target, std::string body = {},
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    bhttp::request<bhttp::string_body> req(method, target, 11);
    req.set(bhttp::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    if (auto ec = write(req)) return errorResponse(ec);
    auto [ec, response] = read();
    if (ec) return errorResponse(ec);
    return response;
  }

  HttpResponse get(const std::string& target) { return request(bhttp::verb::get, target); }

  // True when the server has closed the connection (the next read sees end of stream).
  bool closedByServer() {
    auto [ec, response] = read();
    return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
           ec == net::error::connection_reset || ec == net::ssl::error::stream_truncated;
  }

  Stream& stream() { return stream_; }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // A zero status with this body marks a client-side failure in request().
  static HttpResponse errorResponse(beast::error_code ec) {
    HttpResponse r;
    r.result(0u);
    r.body() = "client error: " + ec.message();
    return r;
  }

  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result = net::error::timed_out;
    bool finished = false;
    lowest().expires_after(kIoDeadline);
    start([&](beast::error_code ec) {
      result = ec;
      finished = true;
    });
    context_.restart();
    context_.run();
    return finished ? result : beast::error_code(net::error::timed_out);
  }

  net::io_context context_;
  Stream stream_;
  beast::flat_buffer buffer_;
};

using TestClient = BasicTestClient<beast::tcp_stream>;

// A TLS client that accepts any certificate (the test's own self-signed one).
class TlsTestClient : public BasicTestClient<beast::ssl_stream<beast::tcp_stream>> {
 public:
  TlsTestClient() : BasicTestClient(clientContext()) {}

 private:
  static net::ssl::context& clientContext() {
    static net::ssl::context context = [] {
      net::ssl::context c(net::ssl::context::tls_client);
      c.set_verify_mode(net::ssl::verify_none);
      return c;
    }();
    return context;
  }
};

// A self-signed EC P-256 certificate for CN=localhost in PEM files that are removed with this
// object.
class SelfSignedCert {
 public:
  SelfSignedCert() {
    static int counter = 0;
    auto dir = std::filesystem::temp_directory_path();
    std::string stem =
        "netledger-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    certFile_ = (dir / (stem + "-cert.pem")).string();
    keyFile_ = (dir / (stem + "-key.pem")).string();
    ok_ = generate();
  }
  ~SelfSignedCert() {
    std::error_code ignored;
    std::filesystem::remove(certFile_, ignored);
    std::filesystem::remove(keyFile_, ignored);
  }
  bool ok() const { return ok_; }
  const std::string& certFile() const { return certFile_; }
  const std::string& keyFile() const { return keyFile_; }

 private:
  bool generate() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    if (!key || !cert) return false;
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
    return writePem(certFile_, [&](FILE* f) { return PEM_write_X509(f, cert.get()); }) &&
           writePem(keyFile_, [&](FILE* f) {
             return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
           });
  }

  template <class Write>
  static bool writePem(const std::string& path, Write write) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    bool ok = write(f) == 1;
    return std::fclose(f) == 0 && ok;
  }

  std::string certFile_;
  std::string keyFile_;
  bool ok_ = false;
};

}  // namespace netledger::http::testing
