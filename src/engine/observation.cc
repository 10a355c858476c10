#include "engine/observation.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/json/monotonic_resource.hpp>

#include "common/parse.h"
#include "ledger/codec.h"
#include "strictjson/strict_json.h"

namespace netledger::engine {
namespace json = boost::json;

namespace {

// The fields of an observation, each found once: one pass over the object's members instead of
// a look-up per field (strictjson has already refused a repeated member).
enum Field { kIp, kMac, kNetwork, kHost, kInterface, kVlan, kSource, kKind, kTime, kFieldCount };
constexpr std::string_view kFieldNames[kFieldCount] = {
    "ip", "mac", "network", "host", "interface", "vlan", "source", "kind", "time"};
using Fields = std::array<const json::value*, kFieldCount>;

Result<Fields> fieldsOf(const json::object& o, const std::string& where) {
  Fields fields{};
  for (const auto& member : o) {
    const auto* known = std::find(std::begin(kFieldNames), std::end(kFieldNames), member.key());
    if (known == std::end(kFieldNames)) {
      return Status::invalidArgument(where + "." + std::string(member.key()) + ": unknown field");
    }
    fields[static_cast<std::size_t>(known - std::begin(kFieldNames))] = &member.value();
  }
  return fields;
}

// A printable string field of at most `max` bytes.
Result<std::string> stringField(const Fields& fields, Field field, const std::string& where,
                                std::size_t max) {
  const json::value* v = fields[field];
  const std::string_view name = kFieldNames[field];
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) {
    return Status::invalidArgument(where + "." + std::string(name) + ": must be a string");
  }
  const auto& s = v->get_string();
  if (s.size() > max) {
    return Status::invalidArgument(where + "." + std::string(name) + ": longer than " +
                                   std::to_string(max) + " bytes");
  }
  NL_RETURN_IF_ERROR(refuseControlCharacters(where + "." + std::string(name), s));
  return std::string(s);
}

}  // namespace

Result<Observation> observationFromJson(const json::value& v, const std::string& where,
                                        Millis now) {
  if (!v.is_object()) return Status::invalidArgument(where + ": must be an object");
  auto found = fieldsOf(v.get_object(), where);
  if (!found) return found.status();
  const Fields& o = *found;
  Observation obs;
  const json::value* mac = o[kMac];
  if (mac == nullptr || !mac->is_string()) {
    return Status::invalidArgument(where + ".mac: required, a MAC address string");
  }
  auto parsed_mac = addr::Mac::parse(mac->get_string());
  if (!parsed_mac) return parsed_mac.status().withContext(where + ".mac");
  obs.mac = *parsed_mac;
  if (const json::value* ip = o[kIp]; ip != nullptr && !ip->is_null()) {
    if (!ip->is_string()) return Status::invalidArgument(where + ".ip: must be a string");
    auto parsed = addr::IpAddress::parse(ip->get_string());
    if (!parsed) return parsed.status().withContext(where + ".ip");
    obs.ip = *parsed;
  }
  auto network = stringField(o, kNetwork, where, 63);
  if (!network) return network.status();
  if (!network->empty()) obs.network = std::move(*network);
  auto host = stringField(o, kHost, where, 253);
  if (!host) return host.status();
  obs.host = std::move(*host);
  auto interface = stringField(o, kInterface, where, 64);
  if (!interface) return interface.status();
  obs.interface = std::move(*interface);
  if (const json::value* vlan = o[kVlan]; vlan != nullptr && !vlan->is_null()) {
    if (!vlan->is_int64() || vlan->get_int64() < 0 || vlan->get_int64() > 4094) {
      return Status::invalidArgument(where + ".vlan: must be an integer 0 to 4094");
    }
    obs.vlan = static_cast<std::uint16_t>(vlan->get_int64());
  }
  if (auto source = stringField(o, kSource, where, 16); !source) {
    return source.status();
  } else if (!source->empty()) {
    auto parsed = parseSource(*source);
    // The message names the field: "observations[3].source: ...".
    if (!parsed) return Status::invalidArgument(where + "." + parsed.status().message());
    obs.source = *parsed;
  }
  if (auto kind = stringField(o, kKind, where, 16); !kind) {
    return kind.status();
  } else if (!kind->empty()) {
    auto parsed = parseFrameKind(*kind);
    // The message names the field: "observations[3].kind: ...".
    if (!parsed) return Status::invalidArgument(where + "." + parsed.status().message());
    obs.kind = *parsed;
  }
  if (obs.kind != FrameKind::kUnknown && !obs.ip) {
    return Status::invalidArgument(where + ".ip: required for kind \"" +
                                   std::string(frameKindName(obs.kind)) + "\"");
  }
  if (const json::value* time = o[kTime]; time != nullptr && !time->is_null()) {
    if (!time->is_string()) {
      return Status::invalidArgument(where + ".time: must be an RFC 3339 string");
    }
    auto t = ledger::parseTime(time->get_string());
    if (!t) return t.status().withContext(where + ".time");
    obs.time = *t;
  } else {
    obs.time = now;
  }
  return obs;
}

Result<std::vector<Observation>> observationsFromJson(std::string_view body, Millis now,
                                                      std::size_t max) {
  if (body.empty()) return Status::invalidArgument("body: empty; send {\"observations\": [...]}");
  // A batch is parsed, read and dropped at once: one bump allocator for the whole document
  // instead of a malloc and a free per value (a third of the cost of ingest).
  json::monotonic_resource arena(body.size() * 2 + 1024);
  auto parsed = strictjson::parse(body, {}, &arena);
  if (!parsed) return parsed.status().withContext("body");
  json::value v = std::move(parsed).value();
  const json::array* items = nullptr;
  if (v.is_array()) {
    items = &v.get_array();
  } else if (v.is_object()) {
    const json::object& o = v.get_object();
    for (const auto& field : o) {
      if (field.key() != "observations") {
        return Status::invalidArgument(std::string(field.key()) + ": unknown field");
      }
    }
    const json::value* list = o.if_contains("observations");
    if (list == nullptr || !list->is_array()) {
      return Status::invalidArgument("observations: required, an array");
    }
    items = &list->get_array();
  } else {
    return Status::invalidArgument("body: must be an object or an array");
  }
  if (items->size() > max) {
    return Status::invalidArgument("observations: " + std::to_string(items->size()) +
                                   " in one batch; at most " + std::to_string(max));
  }
  std::vector<Observation> out;
  out.reserve(items->size());
  std::string where = "observations[";  // rebuilt in place for each item: no allocation
  const std::size_t prefix = where.size();
  char digits[24];
  for (std::size_t i = 0; i < items->size(); ++i) {
    where.resize(prefix);
    where.append(digits, std::to_chars(digits, digits + sizeof digits, i).ptr);
    where += ']';
    auto o = observationFromJson((*items)[i], where, now);
    if (!o) return o.status();
    out.push_back(std::move(*o));
  }
  return out;
}

}  // namespace netledger::engine
