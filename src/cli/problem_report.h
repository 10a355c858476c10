#pragma once
// How a failed call becomes what the user sees: one stderr line "netledger: <detail> (<code>)"
// and an exit code (cli.h). The server's problem+json `code` decides, never the prose.

#include <string>
#include <string_view>

#include "common/status.h"
#include "httpclient/http_client.h"

namespace netledger::cli {

// The CLI speaks HTTP through the shared client (src/httpclient).
using httpclient::encodePathSegment;
using httpclient::encodeQueryValue;
using httpclient::HttpClient;
using httpclient::HttpClientOptions;
using httpclient::HttpHeader;
using httpclient::HttpRequest;
using httpclient::HttpResponse;

struct FailureReport {
  int exit_code;
  // "<detail> (<code>)", without the "netledger: " prefix.
  std::string message;
};

// The exit code for an HTTP error status and problem code (code may be empty when the body was
// not a problem): invalid_argument, payload_too_large and a bare 400/413 are the user's input
// (kExitUsage); everything else (unauthorized, forbidden, not_found, conflict, pool_exhausted,
// unavailable, 5xx, ...) failed at the server (kExitFailure).
int exitCodeForProblem(unsigned http_status, std::string_view code);

// Reads an error response: application/problem+json gives `detail` and `code`; anything else
// (a proxy's HTML page) is described by its status line and a short excerpt.
FailureReport reportFromResponse(const HttpResponse& response);

// A failure that never reached an HTTP status: transport errors (unavailable: the server is
// unreachable, kExitFailure) and local input errors (invalid_argument: kExitUsage).
FailureReport reportFromStatus(const Status& status);

}  // namespace netledger::cli
