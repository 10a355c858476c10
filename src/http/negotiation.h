#pragma once
// Conditional and content-negotiated responses (RFC 9110): the few header grammars the server
// interprets itself, for the dashboard's static assets.

#include <optional>
#include <string_view>

namespace netledger::http {

// Whether an Accept-Encoding field value allows `coding` ("gzip"): an entry naming it decides;
// otherwise a "*" entry decides; a zero quality ("q=0", "q=0.000", any parameter position)
// refuses. No field: false (the server compresses only when asked).
bool acceptsEncoding(std::optional<std::string_view> accept_encoding, std::string_view coding);

// Whether an If-None-Match field value matches `etag` (a quoted entity tag): "*", or a
// comma-separated list containing it, compared weakly (W/ prefixes ignored).
bool etagMatches(std::optional<std::string_view> if_none_match, std::string_view etag);

}  // namespace netledger::http
