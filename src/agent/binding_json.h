#pragma once
// Fields of a binding as the server writes it (events' before/after, GET /v1/bindings items),
// read leniently: a missing or malformed field is nullopt/empty, never an exception (the inputs
// are the server's, but the parsers are fuzzed as if they were anyone's).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "addr/ip_address.h"

namespace netledger::agent {

// o[key] when it is a string, else "".
std::string_view jsonString(const boost::json::object& o, std::string_view key);
// The binding's "id" (a decimal string).
std::optional<std::uint64_t> bindingIdOf(const boost::json::object& o);
// The binding's "addresses" (strings); nullopt when absent or any is not an address.
std::optional<std::vector<addr::IpAddress>> bindingAddressesOf(const boost::json::object& o);

}  // namespace netledger::agent
