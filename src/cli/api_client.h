#pragma once
// The REST API as the commands use it: resolves --server / --token (and NETLEDGER_URL /
// NETLEDGER_TOKEN), sends JSON with the bearer token over one kept-alive connection, and turns
// every failure into a FailureReport (problem_report.h).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "cli/problem_report.h"
#include "common/status.h"
#include "httpclient/http_client.h"

namespace netledger::cli {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

struct ServerOptions {
  std::string server;      // --server; empty: $NETLEDGER_URL, else kDefaultServer
  std::string token;       // --token; empty: --token-file, else $NETLEDGER_TOKEN
  std::string token_file;  // --token-file: the token is the file's first line
  bool insecure = false;   // --insecure: https without certificate verification
  // Writing a request and reading its whole response. Not a flag: commands whose answer the
  // server may hold back on purpose (`alloc --probe`) raise it.
  std::chrono::milliseconds request_timeout{30000};
};

struct ResolvedServer {
  std::string url;
  std::string token;  // may be empty: the server then answers 401
};

// Flags first, then the environment, then the default. invalid_argument when both --token and
// --token-file are given, or the token file cannot be read or is empty.
Result<ResolvedServer> resolveServer(const ServerOptions& options);

// One call's outcome.
struct ApiReply {
  unsigned status = 0;      // 0: the server was never reached
  boost::json::value body;  // the parsed JSON body of a success; null when none
  std::string raw;          // the body as received (binary for /v1/snapshot)
  std::optional<FailureReport> failure;

  bool ok() const { return !failure; }
};

class ApiClient {
 public:
  // Resolves the options and prepares the connection (made at the first call).
  static Result<std::unique_ptr<ApiClient>> open(const ServerOptions& options);

  // Sends `method target` with `body` as JSON (none when null). A 2xx is a success; anything
  // else, including a transport failure or a 2xx with malformed JSON, sets `failure`.
  ApiReply call(std::string_view method, std::string target,
                const boost::json::value* body = nullptr);
  // Like call, with a body that is already serialized JSON (large batches built elsewhere).
  ApiReply callWithJsonText(std::string_view method, std::string target, std::string json_body);

  // Why a stream() ended early: the report as call() would give it, and whether trying again
  // later may work (the server was unreachable, the connection broke, or a 5xx) or cannot
  // (401, 403, 400).
  struct StreamFailure {
    FailureReport report;
    bool retryable;
  };
  // GETs `target` as a server-sent event stream (HttpClient::stream) on its own connection,
  // resuming after `last_event_id` when not empty, and hands the body to `on_data` as it
  // arrives. nullopt when the server ended the stream, `on_data` returned false or
  // abortStream() was called; otherwise the failure.
  std::optional<StreamFailure> stream(std::string target, const std::string& last_event_id,
                                      const std::function<bool(std::string_view)>& on_data,
                                      std::chrono::milliseconds idle_timeout);
  // Ends a stream() running on another thread. Thread-safe.
  void abortStream() { http_->abortStream(); }

  const std::string& origin() const { return http_->origin(); }

 private:
  ApiClient(std::unique_ptr<HttpClient> http, std::string token)
      : http_(std::move(http)), token_(std::move(token)) {}
  // Sends *json_body (moved from) when not null.
  ApiReply send(std::string_view method, std::string target, std::string* json_body);
  std::unique_ptr<HttpClient> http_;
  std::string token_;
};

}  // namespace netledger::cli
