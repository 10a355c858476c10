#include "addr/parse_error.h"

namespace netledger::addr {

std::string quoteForMessage(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

namespace {

// "invalid WHAT 'TEXT': DETAIL"
std::string describe(std::string_view what, std::string_view text, std::string_view detail) {
  std::string m = "invalid ";
  m += what;
  m += ' ';
  m += quoteForMessage(text);
  m += ": ";
  m += detail;
  return m;
}

}  // namespace

Status parseError(std::string_view what, std::string_view text, std::string_view detail,
                  std::size_t position) {
  std::string m = describe(what, text, detail);
  m += " (at position ";
  m += std::to_string(position);
  m += ')';
  return Status::invalidArgument(std::move(m));
}

Status parseError(std::string_view what, std::string_view text, std::string_view detail) {
  return Status::invalidArgument(describe(what, text, detail));
}

}  // namespace netledger::addr
