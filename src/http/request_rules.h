#pragma once
// Internal: the request-header rules of RFC 9112 that Beast's parser leaves to the server, plus
// the media type a body must have. Checked once the header is in, before the body is read; a
// refusal closes the connection when the framing of what follows cannot be trusted.

#include <cstddef>
#include <optional>

#include <boost/beast/http/fields.hpp>

#include "http/message.h"

namespace netledger::http {

struct HeaderVerdict {
  Response response;
  bool closeAfter = true;
};

// - Host: exactly one in HTTP/1.1, at most one in HTTP/1.0, and host[:port] (RFC 9112 §3.2)
//   -> 400;
// - Transfer-Encoding: only `chunked`, once, last, and not in HTTP/1.0 (§6.1, §6.3). A coding
//   the server does not implement (gzip, ...) is 501, never read as if it were plain; chunked
//   anywhere but last is 400;
// - with `json_bodies`, a body whose Content-Type is neither application/json nor a `+json`
//   type is 415 (a body with no Content-Type at all is read as JSON). Note that curl -d and
//   Python's urllib send application/x-www-form-urlencoded unless told otherwise.
// `has_body`: the header announces a body (a non-zero Content-Length or chunked coding).
std::optional<HeaderVerdict> checkRequestHeader(const boost::beast::http::fields& fields,
                                                unsigned version, bool has_body, bool json_bodies);

}  // namespace netledger::http
