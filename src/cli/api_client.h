#pragma once
// The REST API as the commands use it: resolves --server / --token (and NETLEDGER_URL /
// NETLEDGER_TOKEN), sends JSON with the bearer token over one kept-alive connection, and turns
// every failure into a FailureReport (problem_report.h).

#include <chrono>
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
