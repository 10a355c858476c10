#include "common/parse.h"

#include <charconv>
#include <string>

namespace netledger {

namespace {

// The text as the message quotes it: bounded, so a huge parameter cannot bloat the answer.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 32;
  std::string out = "\"" + std::string(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  return out + "\"";
}

Status notAnInteger(std::string_view field, std::string_view text) {
  return Status::invalidArgument(std::string(field) + ": " + quoted(text) + " is not an integer");
}

template <typename T>
Status outOfRange(std::string_view field, std::string_view text, T min, T max) {
  return Status::invalidArgument(std::string(field) + ": " + quoted(text) + " is outside " +
                                 std::to_string(min) + ".." + std::to_string(max));
}

}  // namespace

Result<std::int64_t> parseInteger(std::string_view field, std::string_view text, std::int64_t min,
                                  std::int64_t max) {
  std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return notAnInteger(field, text);
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return outOfRange(field, text, min, max);
  }
  if (ec != std::errc() || end != text.data() + text.size()) return notAnInteger(field, text);
  return value;
}

Result<std::uint64_t> parseUnsigned(std::string_view field, std::string_view text,
                                    std::uint64_t max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return notAnInteger(field, text);
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range || value > max) {
    return outOfRange<std::uint64_t>(field, text, 0, max);
  }
  if (ec != std::errc() || end != text.data() + text.size()) return notAnInteger(field, text);
  return value;
}

bool hasControlCharacter(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status refuseControlCharacters(std::string_view field, std::string_view text) {
  if (!hasControlCharacter(text)) return Status::ok();
  return Status::invalidArgument(std::string(field) + ": control characters are not allowed");
}

}  // namespace netledger
