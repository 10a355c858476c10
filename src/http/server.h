#pragma once
// Server: the HTTP/1.1 front door (Boost.Beast underneath, invisible from here).
//
//  - keep-alive; pipelined requests are answered in order because the next request is read
//    only after the previous response is written;
//  - N I/O threads, each running its own event loop; a connection lives on one of them for its
//    whole life, so its state needs no locks (that loop is the connection's strand);
//  - limits: request body (one limit for every route, default 1 MiB) -> 413 payload_too_large,
//    header block -> 431, malformed HTTP -> 400; these close the connection afterwards, since
//    the rest of the stream cannot be trusted to be in sync;
//  - RFC 9112 framing (request_rules.h): a missing or repeated Host is 400, a transfer coding
//    other than chunked 501; absolute-form targets are read as their origin form; HEAD is
//    answered wherever GET is, with the headers only; with jsonBodiesOnly a non-JSON
//    Content-Type on a body is 415;
//  - idle and read timeouts close stalled connections (slowloris);
//  - optional TLS (PEM certificate chain and key files);
//  - graceful stop: stop accepting, let requests in progress finish up to a deadline, close;
//  - streaming responses (Response::onStream, server-sent events): the body is produced over
//    time from any thread through a StreamWriter. A read stays outstanding on the socket so a
//    client that leaves is noticed at once; the queue of unsent bytes is bounded and a client
//    reading too slowly is cut off; idle/read timeouts do not apply while the stream is open,
//    but a single write that makes no progress for readTimeout closes it; stop() ends streams
//    at once instead of waiting for them.
//
// Every response carries Content-Type, Content-Length and `Server: netledgerd` (204/304 carry
// neither Content-Type nor Content-Length, as RFC 9110 §8.6 requires).
//
// With a metrics registry it records netledger_http_requests_total{route,method,status},
// netledger_http_request_duration_seconds{route,method} (header received -> response handed to
// the connection; for a stream, when its headers go out) and netledger_http_connections;
// `route` is the matched pattern or "unmatched".

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/message.h"
#include "http/router.h"

namespace netledger::metrics {
class Registry;
}

namespace netledger::http {

struct ServerOptions {
  // "host:port"; host is an IPv4/IPv6 literal ("[::1]:8080"), a name that resolves, or empty
  // for all IPv4 interfaces (":8080"). Port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:8080";
  std::size_t ioThreads = 2;
  std::size_t maxBodyBytes = 1024 * 1024;
  // Request bodies must be JSON: a body with another Content-Type is 415 (none: read as JSON).
  bool jsonBodiesOnly = false;
  std::size_t maxHeaderBytes = 16 * 1024;
  // How long a keep-alive connection may sit idle before the next request starts.
  std::chrono::milliseconds idleTimeout{60'000};
  // How long reading one request (after its first byte), or writing one response, may take.
  std::chrono::milliseconds readTimeout{60'000};
  // After a response that closes the connection, unread input is drained for up to this long so
  // the client reads the response instead of a TCP reset.
  std::chrono::milliseconds closeLinger{2'000};
  // Largest number of bytes a streaming response may have queued but not yet written to the
  // socket; a write beyond it closes the stream (the client reads too slowly).
  std::size_t maxStreamQueueBytes = 4 * 1024 * 1024;
  // Both set: serve TLS with this PEM certificate chain and private key. Both empty: plain HTTP.
  std::string tlsCertFile;
  std::string tlsKeyFile;
  // Where to record request metrics; not owned, must outlive the server. Null: no metrics.
  metrics::Registry* metrics = nullptr;
};

class Server {
 public:
  // Binds, listens and starts the I/O threads. Errors: invalid_argument for a bad listen
  // address or unusable TLS files, unavailable when the address cannot be bound (in use, no
  // permission), internal when threads cannot be started.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Router router);

  // Stops with no drain time if stop() was not called. Must not run on an I/O thread (from
  // within a handler).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the real one when the listen address asked for port 0).
  std::uint16_t port() const;
  Endpoint localEndpoint() const;
  bool isTls() const;

  // Stops accepting, closes idle connections, and waits up to `drainDeadline` for requests in
  // progress to be answered (their responses carry `Connection: close`); then closes whatever is
  // left and joins the I/O threads. Responders called after that are ignored. Idempotent.
  // Must not be called from an I/O thread.
  void stop(std::chrono::milliseconds drainDeadline = std::chrono::seconds(10));

  struct Core;  // the implementation, shared with connections (server_core.h)

 private:
  explicit Server(std::unique_ptr<Core> core);
  std::unique_ptr<Core> core_;
};

}  // namespace netledger::http
