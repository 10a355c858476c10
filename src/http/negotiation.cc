#include "http/negotiation.h"

#include "http/message.h"

namespace netledger::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits off the next `sep`-separated item of `rest`.
std::string_view next(std::string_view& rest, char sep) {
  auto at = rest.find(sep);
  std::string_view item = rest.substr(0, at);
  rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  return trim(item);
}

// A qvalue (RFC 9110 §12.4.2) is zero when it is "0" followed only by '.' and zeros.
bool isZeroQuality(std::string_view q) {
  return !q.empty() && q.front() == '0' &&
         q.substr(1).find_first_not_of(".0") == std::string_view::npos;
}

}  // namespace

bool acceptsEncoding(std::optional<std::string_view> accept_encoding, std::string_view coding) {
  if (!accept_encoding) return false;
  std::optional<bool> named, star;
  std::string_view rest = *accept_encoding;
  while (!rest.empty()) {
    std::string_view item = next(rest, ',');
    std::string_view params = item;
    std::string_view name = next(params, ';');
    bool zero = false;
    while (!params.empty()) {
      std::string_view p = next(params, ';');
      if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        zero = isZeroQuality(trim(p.substr(2)));
      }
    }
    if (equalsIgnoreCase(name, coding)) {
      named = !zero;
    } else if (name == "*") {
      star = !zero;
    }
  }
  if (named) return *named;
  return star.value_or(false);
}

bool etagMatches(std::optional<std::string_view> if_none_match, std::string_view etag) {
  if (!if_none_match) return false;
  std::string_view rest = *if_none_match;
  while (!rest.empty()) {
    std::string_view tag = next(rest, ',');
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace netledger::http
