#pragma once
// A small synchronous HTTP/1.1 client for the CLI: one kept-alive connection to one server,
// reused across calls, over plain TCP or TLS. Beast, Asio and OpenSSL stay inside
// http_client.cc; callers see strings and Result.
//
// Not thread-safe: one client per thread (the CLI is single-threaded).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace netledger::httpclient {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  // Path and query relative to the base URL's path, e.g. "/v1/pools?limit=10". Must already be
  // percent-encoded (see encodePathSegment / encodeQueryValue).
  std::string target;
  std::vector<HttpHeader> headers;
  std::string body;
};

struct HttpResponse {
  unsigned status = 0;
  std::vector<HttpHeader> headers;
  std::string body;

  // The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpClientOptions {
  // https only: skip certificate and host name verification (self-signed test servers).
  bool insecure = false;
  // https only: trust this CA bundle (PEM) instead of the system's, and present this client
  // certificate and key (PEM) when the server asks (etcd's client-cert auth). Empty: unused.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // DNS resolution, TCP connect and the TLS handshake, each.
  std::chrono::milliseconds connect_timeout{5000};
  // Writing the request and reading the whole response, together.
  std::chrono::milliseconds request_timeout{30000};
};

class HttpClient {
 public:
  // Parses `base_url` ("http://host[:port][/prefix]" or "https://..."); no connection is made
  // until the first request. invalid_argument for a malformed URL or another scheme.
  static Result<std::unique_ptr<HttpClient>> create(std::string_view base_url,
                                                    HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` on the kept-alive connection, (re)connecting when needed. Every HTTP status
  // is a success here: the caller interprets 4xx/5xx. Errors are transport failures and carry
  // kUnavailable (DNS, refused, TLS, timeout, connection lost) or kInvalidArgument (a method
  // Beast does not know). Never throws.
  Result<HttpResponse> send(const HttpRequest& request);

  // For long-lived responses (server-sent events): sends `request` on a fresh connection and,
  // when the answer is 200, hands its body to `on_data` piece by piece as it arrives, until the
  // server ends it, `on_data` returns false, nothing arrives for `idle_timeout`, or
  // abortStream() is called. Returns the response status (any status: a non-200 answer's body is
  // read into `error_body` when given) or kUnavailable for transport failures. The connection
  // is closed afterwards either way.
  Result<unsigned> stream(const HttpRequest& request,
                          const std::function<bool(std::string_view)>& on_data,
                          std::chrono::milliseconds idle_timeout,
                          std::string* error_body = nullptr);
  // Ends a stream() running on another thread (it returns kUnavailable). Thread-safe; a no-op
  // when no stream is open.
  void abortStream();

  // "http://127.0.0.1:8080": how messages name the server.
  const std::string& origin() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes one path segment ("/" included), keeping ':' and '@' so IPv6 addresses and
// MACs stay readable.
std::string encodePathSegment(std::string_view segment);
// Percent-encodes a query parameter key or value ('+', '&', '=' included).
std::string encodeQueryValue(std::string_view value);

}  // namespace netledger::httpclient
