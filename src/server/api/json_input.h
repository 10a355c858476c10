#pragma once
// Reading request bodies: strict, typed access to a JSON object where every error names the
// field and the offending value, and unknown fields are refused (a typo such as "pool_name"
// must not be silently ignored).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "common/status.h"

namespace netledger::server {

class JsonBody {
 public:
  // kInvalidArgument for an empty body, malformed JSON (with the offset) or a non-object.
  static Result<JsonBody> parse(std::string_view body);

  // kInvalidArgument naming the first field not in `allowed`.
  Status allowOnly(std::initializer_list<std::string_view> allowed) const;
  bool has(std::string_view field) const;
  // True if the field is present and null (PATCH: "clear this").
  bool isNull(std::string_view field) const;

  Result<std::optional<std::string>> optString(std::string_view field,
                                               std::size_t max = 1024) const;
  Result<std::string> string(std::string_view field, std::size_t max = 1024) const;
  Result<std::optional<std::int64_t>> optInt(std::string_view field, std::int64_t min,
                                             std::int64_t max) const;
  Result<std::optional<double>> optDouble(std::string_view field, double min, double max) const;
  Result<std::optional<bool>> optBool(std::string_view field) const;
  Result<std::vector<std::string>> stringArray(std::string_view field, std::size_t max_items) const;
  Result<std::optional<addr::IpAddress>> optIp(std::string_view field) const;
  // A station's MAC, as the wire shows it: unicast and not all-zero.
  Result<std::optional<addr::Mac>> optMac(std::string_view field) const;
  Result<std::vector<addr::Prefix>> prefixes(std::string_view field) const;  // string or array
  Result<std::vector<addr::IpRange>> ranges(std::string_view field) const;
  // An object of string values.
  Result<std::vector<std::pair<std::string, std::string>>> stringMap(std::string_view field) const;
  // The field's raw value (nullptr when absent), for nested structures the typed accessors do
  // not cover; the caller then names the offending element itself ("answered[3].ip: ...").
  const boost::json::value* value(std::string_view field) const { return find(field); }

 private:
  explicit JsonBody(boost::json::object o) : object_(std::move(o)) {}
  const boost::json::value* find(std::string_view field) const;
  boost::json::object object_;
};

// "field: <what> (got <json value>)" as kInvalidArgument.
Status badField(std::string_view field, std::string_view what, const boost::json::value& got);

}  // namespace netledger::server
