#include "http/request_rules.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/rfc7230.hpp>
#include <boost/url/parse.hpp>

#include "common/parse.h"
#include "http/problem.h"

namespace netledger::http {
namespace {

namespace bhttp = boost::beast::http;

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// At most `max` bytes of `s`, cut back to a whole UTF-8 character (error details stay UTF-8).
std::string excerpt(std::string_view s, std::size_t max = 64) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

HeaderVerdict badRequest(std::string detail) {
  return {problem(400, codeName(StatusCode::kInvalidArgument), std::move(detail)), true};
}

std::optional<HeaderVerdict> checkHost(const bhttp::fields& fields, unsigned version) {
  const std::size_t hosts = fields.count(bhttp::field::host);
  if (hosts == 0 && version >= 11) {
    return badRequest("Host: required in an HTTP/1.1 request (RFC 9112 section 3.2)");
  }
  if (hosts > 1) return badRequest("Host: repeated; a request has exactly one");
  // uri-host [":" port] (RFC 9112 section 3.2); empty when the target has no authority.
  auto host = fields[bhttp::field::host];
  if (!host.empty()) {
    auto authority = boost::urls::parse_authority(std::string_view(host.data(), host.size()));
    if (!authority || authority->has_userinfo()) {
      return badRequest("Host: \"" + excerpt(std::string_view(host.data(), host.size())) +
                        "\" is not host[:port]");
    }
  }
  return std::nullopt;
}

std::optional<HeaderVerdict> checkTransferEncoding(const bhttp::fields& fields, unsigned version) {
  std::vector<std::string> codings;
  auto [first, last] = fields.equal_range(bhttp::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    for (auto coding : bhttp::token_list{it->value()}) codings.push_back(asciiLower(coding));
  }
  if (first == last) return std::nullopt;
  if (version < 11) return badRequest("Transfer-Encoding: not allowed in an HTTP/1.0 request");
  for (const std::string& c : codings) {
    if (c != "chunked") {
      return HeaderVerdict{
          problem(501, "not_implemented",
                  "Transfer-Encoding: coding \"" + c + "\" is not supported (only chunked)"),
          true};
    }
  }
  if (codings.size() != 1) {
    return badRequest("Transfer-Encoding: chunked must appear exactly once, as the last coding");
  }
  return std::nullopt;
}

bool isJsonMediaType(std::string_view content_type) {
  std::string type = asciiLower(trimSpace(content_type.substr(0, content_type.find(';'))));
  if (type == "application/json") return true;
  constexpr std::string_view kApp = "application/", kSuffix = "+json";
  return type.size() > kApp.size() + kSuffix.size() && type.starts_with(kApp) &&
         type.ends_with(kSuffix);
}

std::optional<HeaderVerdict> checkContentType(const bhttp::fields& fields) {
  auto [first, last] = fields.equal_range(bhttp::field::content_type);
  if (first == last) return std::nullopt;
  if (std::next(first) != last) return badRequest("Content-Type: repeated");
  if (isJsonMediaType(first->value())) return std::nullopt;
  std::string shown = excerpt(std::string_view(first->value().data(), first->value().size()));
  return HeaderVerdict{
      problem(415, "unsupported_media_type",
              "Content-Type: request bodies must be application/json (got \"" + shown + "\")"),
      true};
}

}  // namespace

Status parseTarget(std::string_view raw, Request& request) {
  std::string target(raw);  // `raw` may be request.target itself
  boost::system::result<boost::urls::url_view> url;
  if (!target.empty() && target.front() == '/') {
    url = boost::urls::parse_origin_form(target);
  } else {
    // The absolute form ("GET http://host/v1/pools HTTP/1.1"), which a server must accept
    // (RFC 9112 section 3.2.2): from here on it is its origin form.
    url = boost::urls::parse_absolute_uri(target);
    if (!url || (url->scheme_id() != boost::urls::scheme::http &&
                 url->scheme_id() != boost::urls::scheme::https)) {
      return Status::invalidArgument("malformed request target (origin or absolute http form)");
    }
    std::string origin = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
    if (url->has_query()) origin += "?" + std::string(url->encoded_query());
    target = std::move(origin);
    url = boost::urls::parse_origin_form(target);
  }
  if (!url) return Status::invalidArgument("malformed request target");
  request.target = target;
  request.path = url->path();
  auto segments = url->segments();
  request.segments.reserve(segments.size());
  for (std::string segment : segments) {
    // Path parameters become names and keys ("/v1/hosts/{host}/..."): same rule as body text.
    NL_RETURN_IF_ERROR(refuseControlCharacters("path", segment));
    request.segments.push_back(std::move(segment));
  }
  for (auto param : url->params()) {
    if (hasControlCharacter(param.key) || hasControlCharacter(param.value)) {
      return Status::invalidArgument(excerpt(param.key) + ": control characters are not allowed");
    }
    request.query.emplace(param.key, param.value);
  }
  return Status::ok();
}

std::optional<HeaderVerdict> checkRequestHeader(const bhttp::fields& fields, unsigned version,
                                                bool has_body, bool json_bodies) {
  if (auto v = checkHost(fields, version)) return v;
  if (auto v = checkTransferEncoding(fields, version)) return v;
  if (json_bodies && has_body) return checkContentType(fields);
  return std::nullopt;
}

}  // namespace netledger::http
