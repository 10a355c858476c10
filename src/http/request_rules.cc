#include "http/request_rules.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/rfc7230.hpp>

#include "http/problem.h"

namespace netledger::http {
namespace {

namespace bhttp = boost::beast::http;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
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
  return std::nullopt;
}

std::optional<HeaderVerdict> checkTransferEncoding(const bhttp::fields& fields, unsigned version) {
  std::vector<std::string> codings;
  auto [first, last] = fields.equal_range(bhttp::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    for (auto coding : bhttp::token_list{it->value()}) codings.push_back(lower(coding));
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
  std::string type = lower(trimSpace(content_type.substr(0, content_type.find(';'))));
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
  std::string shown(first->value().substr(0, 64));
  return HeaderVerdict{
      problem(415, "unsupported_media_type",
              "Content-Type: request bodies must be application/json (got \"" + shown + "\")"),
      true};
}

}  // namespace

std::optional<HeaderVerdict> checkRequestHeader(const bhttp::fields& fields, unsigned version,
                                                bool has_body, bool json_bodies) {
  if (auto v = checkHost(fields, version)) return v;
  if (auto v = checkTransferEncoding(fields, version)) return v;
  if (json_bodies && has_body) return checkContentType(fields);
  return std::nullopt;
}

}  // namespace netledger::http
