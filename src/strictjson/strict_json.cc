#include "strictjson/strict_json.h"

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace netledger::strictjson {
namespace {

namespace json = boost::json;
using json::error_code;
using json::string_view;

// The member names seen so far in each open object. Most objects have a handful of keys, so a
// linear scan of a reused vector; past kScanLimit a hash set keeps a huge object linear.
class KeyScopes {
 public:
  void open() {
    if (depth_ == levels_.size()) levels_.emplace_back();
    Level& l = levels_[depth_++];
    l.keys.clear();
    l.set.clear();
  }
  void close() { --depth_; }
  // False if `key` was already a member of the innermost open object.
  bool add(std::string_view key) {
    Level& l = levels_[depth_ - 1];
    if (!l.set.empty()) return l.set.emplace(key).second;
    for (const std::string& k : l.keys) {
      if (k == key) return false;
    }
    l.keys.emplace_back(key);
    if (l.keys.size() > kScanLimit) l.set.insert(l.keys.begin(), l.keys.end());
    return true;
  }

 private:
  static constexpr std::size_t kScanLimit = 32;
  struct Level {
    std::vector<std::string> keys;
    std::unordered_set<std::string> set;
  };
  std::vector<Level> levels_;
  std::size_t depth_ = 0;
};

// Boost.JSON's own value-building handler, plus the key check.
struct Handler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  KeyScopes scopes;
  std::string key;        // the key being read (it may arrive in parts)
  bool repeated = false;  // parsing stopped at a repeated key: `duplicate` (may be "")
  std::string duplicate;

  explicit Handler(json::storage_ptr sp) { st.reset(std::move(sp)); }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) {
    scopes.open();
    return true;
  }
  bool on_object_end(std::size_t n, error_code&) {
    scopes.close();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    key.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code& ec) {
    key.append(s.data(), s.size());
    if (!scopes.add(key)) {
      repeated = true;
      duplicate = std::move(key);
      ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      return false;
    }
    key.clear();
    st.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view, error_code&) {
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

Result<json::value> parse(std::string_view text, Limits limits, json::storage_ptr sp) {
  json::parse_options opts;
  opts.max_depth = limits.max_depth;
  json::basic_parser<Handler> p(opts, std::move(sp));
  error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (p.handler().repeated) {
    std::string shown = p.handler().duplicate.substr(0, 64);
    // Whole UTF-8 characters only: the message goes into a JSON problem detail.
    while (!shown.empty() && shown.size() < p.handler().duplicate.size() &&
           (static_cast<unsigned char>(p.handler().duplicate[shown.size()]) & 0xC0) == 0x80) {
      shown.pop_back();
    }
    return Status::invalidArgument("duplicate key \"" + shown + "\" near offset " +
                                   std::to_string(n));
  }
  if (ec) {
    return Status::invalidArgument("malformed JSON near offset " + std::to_string(n) + ": " +
                                   ec.message());
  }
  return p.handler().st.release();
}

}  // namespace netledger::strictjson
