#include "agent/binding_json.h"

#include <boost/json.hpp>

#include "common/parse.h"

namespace netledger::agent {

namespace json = boost::json;

std::string_view jsonString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::optional<std::uint64_t> bindingIdOf(const json::object& o) {
  auto id = parseUnsigned("id", jsonString(o, "id"));
  if (!id) return std::nullopt;
  return *id;
}

std::optional<std::vector<addr::IpAddress>> bindingAddressesOf(const json::object& o) {
  const json::value* v = o.if_contains("addresses");
  if (v == nullptr || !v->is_array()) return std::nullopt;
  std::vector<addr::IpAddress> out;
  for (const json::value& a : v->get_array()) {
    if (!a.is_string()) return std::nullopt;
    auto ip = addr::IpAddress::parse(a.get_string());
    if (!ip) return std::nullopt;
    out.push_back(*ip);
  }
  return out;
}

}  // namespace netledger::agent
