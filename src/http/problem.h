#pragma once
// Problem responses (RFC 9457): every error the API returns is application/problem+json with a
// stable machine-readable `code`, so clients branch on `code`, never on the prose in `detail`.
//
//   {"type": "urn:netledger:error:pool_exhausted", "title": "Pool exhausted", "status": 409,
//    "code": "pool_exhausted", "detail": "pool blue: no free address"}
//
// `type` is a URN rather than about:blank because every code is its own problem type; `title`
// is derived from the code, so it is the same for every occurrence of that type (RFC 9457 §3.1.3).

#include <string_view>

#include <boost/json/object.hpp>

#include "common/status.h"
#include "http/message.h"

namespace netledger::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

// A problem response. `extra` adds members (e.g. {"pool": "blue"}); it cannot replace the
// standard ones (type, title, status, code, detail).
Response problem(unsigned status, std::string_view code, std::string_view detail,
                 const boost::json::object& extra = {});

// The problem for an error Status: the code is codeName(status.code()) and the detail the
// message. Unauthorized also carries `WWW-Authenticate: Bearer` (RFC 6750 §3). An OK status is
// a caller bug and becomes a 500 rather than a success disguised as an error.
Response problemFromStatus(const Status& status, const boost::json::object& extra = {});

// The HTTP status for a StatusCode: invalid_argument 400, not_found 404, conflict and
// pool_exhausted 409, unauthorized 401, forbidden 403, payload_too_large 413, unavailable 503,
// internal (and ok, see above) 500.
unsigned httpStatusFor(StatusCode code);

// `in` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string toValidUtf8(std::string_view in);

// "pool_exhausted" -> "Pool exhausted".
std::string titleForCode(std::string_view code);

}  // namespace netledger::http
