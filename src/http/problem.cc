#include "http/problem.h"

#include <boost/json/serialize.hpp>

namespace netledger::http {

unsigned httpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
    case StatusCode::kPoolExhausted:
      return 409;
    case StatusCode::kUnauthorized:
      return 401;
    case StatusCode::kForbidden:
      return 403;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnavailable:
    case StatusCode::kAborted:
      return 503;
    case StatusCode::kOk:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string titleForCode(std::string_view code) {
  std::string title(code);
  for (char& c : title) {
    if (c == '_') c = ' ';
  }
  if (!title.empty() && title[0] >= 'a' && title[0] <= 'z') title[0] = char(title[0] - 'a' + 'A');
  return title;
}

std::string toValidUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(in[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and code points past U+10FFFF.
      std::uint32_t cp = c & (0x7f >> len);
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (in[i + k] & 0x3f);
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    }
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    }
  }
  return out;
}

Response problem(unsigned status, std::string_view code, std::string_view detail,
                 const boost::json::object& extra) {
  boost::json::object body;
  body.reserve(5 + extra.size());
  std::string type = "urn:netledger:error:";
  type += code;
  body["type"] = type;
  body["title"] = titleForCode(code);
  body["status"] = status;
  body["code"] = code;
  // Details quote user input, and a percent-decoded path or query may hold any bytes: JSON
  // must be UTF-8, so invalid sequences become U+FFFD rather than an unparseable body.
  body["detail"] = toValidUtf8(detail);
  for (const auto& member : extra) {
    if (!body.contains(member.key())) body.emplace(member.key(), member.value());
  }
  Response r;
  r.status = status;
  r.contentType = kProblemContentType;
  r.body = boost::json::serialize(body);
  return r;
}

Response problemFromStatus(const Status& status, const boost::json::object& extra) {
  if (status.isOk()) {
    return problem(500, codeName(StatusCode::kInternal), "an OK status was reported as an error",
                   extra);
  }
  Response r =
      problem(httpStatusFor(status.code()), codeName(status.code()), status.message(), extra);
  if (status.code() == StatusCode::kUnauthorized) r.headers.set("WWW-Authenticate", "Bearer");
  // The store is unreachable, without quorum, or another replica won the race: worth trying
  // again shortly (RFC 9110 §10.2.3).
  if (r.status == 503 && !r.headers.get("Retry-After")) r.headers.set("Retry-After", "1");
  return r;
}

}  // namespace netledger::http
