#pragma once
// Request and Response: the server's own message types, so handlers never see Beast or Asio
// (Kea `asiolink`: the I/O library stays inside the folder that uses it). Both are plain values
// a handler test can build by hand.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace netledger::http {

// Header fields in arrival order. Names compare case-insensitively (RFC 9110 §5.1); a name may
// repeat.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field, keeping any existing one with the same name.
  void add(std::string name, std::string value);
  // Replaces every field with this name by one field.
  void set(std::string name, std::string value);
  // The first field with this name, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  std::vector<Field> fields_;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b);

struct Endpoint {
  std::string address;  // "192.0.2.1" or "2001:db8::1", no brackets
  std::uint16_t port = 0;

  // "192.0.2.1:80" or "[2001:db8::1]:80".
  std::string toString() const;
};

struct Request {
  std::string method;  // as sent: "GET" (methods are case-sensitive, RFC 9110 §9.1)
  std::string target;  // the raw request-target: "/v1/pools?limit=10"
  std::string path;    // percent-decoded path: "/v1/pools"
  // Percent-decoded path segments: "/v1/pools/a%2Fb" -> {"v1", "pools", "a/b"}; "/" -> {}.
  std::vector<std::string> segments;
  // Percent-decoded query parameters in order; '+' decodes to a space (HTML form encoding), so
  // a literal plus must be sent as %2B. A key without '=' has an empty value.
  std::multimap<std::string, std::string> query;
  Headers headers;
  std::string body;
  Endpoint remote;
  // Values of the route pattern's {name} segments, filled in by the Router.
  std::map<std::string, std::string> params;

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  // The first value of a query parameter.
  std::optional<std::string_view> queryParam(std::string_view name) const;
  // A path parameter's value, or "" when the route has no such parameter.
  std::string_view param(const std::string& name) const;
};

// A response body produced over time (server-sent events). Thread-safe.
//
// The server keeps its own reference while the connection streams; when the producer drops every
// reference it holds, the stream ends as if close() had been called, so a forgotten writer cannot
// hold a connection open forever.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues bytes for the client. Returns false once the stream is closed (client gone,
  // server stopping, or more than the bound is queued because the client reads too slowly —
  // the stream is then closed); the producer should stop and drop its reference.
  virtual bool write(std::string data) = 0;
  // Ends the response; the connection is then closed. Idempotent.
  virtual void close() = 0;
  virtual bool isOpen() const = 0;
};

struct Response {
  unsigned status = 200;
  // Sent as Content-Type unless the response has no body by definition (1xx, 204, 304).
  std::string contentType = "application/json";
  // Extra header fields. The server sets Content-Type, Content-Length, Server and Connection
  // itself and drops those names from here.
  Headers headers;
  std::string body;
  // Set: a streaming response. The server sends the status and headers (Content-Type from
  // above, `Cache-Control: no-cache`, chunked transfer coding for HTTP/1.1, a close-delimited
  // body for HTTP/1.0, `Connection: close`), then `body` if non-empty, then calls onStream once
  // on the connection's I/O thread, holding no server lock, with the writer for the rest of the
  // body. It is not called for HEAD (headers only), for 204/304, or when the stream is over
  // before the headers are out (client gone, server stopping, `body` alone over the queue
  // bound). It must not block: it hands the writer to a producer.
  std::function<void(std::shared_ptr<StreamWriter>)> onStream;

  static Response json(unsigned status, std::string body);
  static Response text(unsigned status, std::string body);  // text/plain; charset=utf-8
  static Response noContent();                              // 204
  // 200 text/event-stream whose body is produced by `onStream` (see above).
  static Response eventStream(std::function<void(std::shared_ptr<StreamWriter>)> onStream);
};

// Fills request.target, .path, .segments and .query from an origin-form target
// ("/v1/pools?limit=2") or an absolute-form one ("http://host/v1/pools?limit=2", kept as its
// origin form), percent-decoding with Boost.URL. The server uses it for every request;
// in-process callers (the API fuzzer) use it to see requests exactly as the server would.
Status parseTarget(std::string_view target, Request& request);

}  // namespace netledger::http
