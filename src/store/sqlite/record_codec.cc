#include "store/sqlite/record_codec.h"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "ledger/codec.h"

namespace netledger::store::sqlite {

namespace json = boost::json;

namespace {

// Our own stored JSON is read back exactly as written, even if a label slipped in with invalid
// UTF-8 from some non-JSON input path: refusing it at start-up would lose the whole store.
Result<json::value> parseStored(std::string_view text, std::string_view what) {
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  std::error_code ec;
  json::value v = json::parse(text, ec, {}, options);
  if (ec) {
    return Status::internal(std::string(what) + ": stored JSON is malformed: " + ec.message());
  }
  return v;
}

// A stored value that does not parse is damage to the store, not bad user input: kInternal,
// whatever code the parser used.
Status corrupt(const Status& parse_error, const std::string& context) {
  return Status::internal(context + ": " + parse_error.message());
}

bool needsEscape(char c) { return c == '%' || c == '|' || c == ','; }

void appendEscaped(std::string& out, std::string_view pool) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : pool) {
    if (!needsEscape(c)) {
      out += c;
      continue;
    }
    out += '%';
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 0xf];
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int hi = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
    int lo = hi >= 0 ? hexValue(text[i + 2]) : -1;
    if (lo < 0) return Status::internal("addresses: bad escape in pool name");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Status decodeOneAddress(std::string_view item, std::vector<ledger::BoundAddress>& out) {
  auto bar = item.find('|');
  if (bar == std::string_view::npos) {
    return Status::internal("addresses: \"" + std::string(item.substr(0, 64)) + "\" lacks '|'");
  }
  auto ip = addr::IpAddress::parse(item.substr(bar + 1));
  if (!ip) return corrupt(ip.status(), "addresses");
  std::string_view pool = item.substr(0, bar);
  if (pool.find('%') == std::string_view::npos) {
    out.push_back({*ip, std::string(pool)});
    return Status::ok();
  }
  auto unescaped = unescape(pool);
  if (!unescaped) return unescaped.status();
  out.push_back({*ip, std::move(*unescaped)});
  return Status::ok();
}

// --- typed readers for JSON objects (absent members keep the caller's default) ---

Status wrongType(std::string_view member, std::string_view expected) {
  return Status::internal("pool data: \"" + std::string(member) + "\" is not " +
                          std::string(expected));
}

Status readString(const json::object& o, std::string_view member, std::string& out) {
  const json::value* v = o.if_contains(member);
  if (v == nullptr) return Status::ok();
  const json::string* s = v->if_string();
  if (s == nullptr) return wrongType(member, "a string");
  out.assign(s->data(), s->size());
  return Status::ok();
}

Status readInt(const json::object& o, std::string_view member, std::int64_t& out) {
  const json::value* v = o.if_contains(member);
  if (v == nullptr) return Status::ok();
  if (const auto* i = v->if_int64()) {
    out = *i;
  } else if (const auto* u = v->if_uint64()) {
    out = static_cast<std::int64_t>(*u);
  } else {
    return wrongType(member, "an integer");
  }
  return Status::ok();
}

Status readDouble(const json::object& o, std::string_view member, double& out) {
  const json::value* v = o.if_contains(member);
  if (v == nullptr) return Status::ok();
  if (const auto* d = v->if_double()) {
    out = *d;
  } else if (const auto* i = v->if_int64()) {
    out = static_cast<double>(*i);
  } else {
    return wrongType(member, "a number");
  }
  return Status::ok();
}

Status readBool(const json::object& o, std::string_view member, bool& out) {
  const json::value* v = o.if_contains(member);
  if (v == nullptr) return Status::ok();
  const bool* b = v->if_bool();
  if (b == nullptr) return wrongType(member, "a boolean");
  out = *b;
  return Status::ok();
}

// Reads an array of strings and parses each with `parse` (Prefix::parse, IpRange::parse).
template <typename T, typename Parse>
Status readParsedList(const json::object& o, std::string_view member, std::vector<T>& out,
                      Parse parse) {
  const json::value* v = o.if_contains(member);
  if (v == nullptr) return Status::ok();
  const json::array* a = v->if_array();
  if (a == nullptr) return wrongType(member, "an array");
  out.clear();
  for (const json::value& item : *a) {
    const json::string* s = item.if_string();
    if (s == nullptr) return wrongType(member, "an array of strings");
    auto parsed = parse(std::string_view(s->data(), s->size()));
    if (!parsed) return corrupt(parsed.status(), "pool data: " + std::string(member));
    out.push_back(*parsed);
  }
  return Status::ok();
}

template <typename T>
json::array toStrings(const std::vector<T>& items) {
  json::array a;
  a.reserve(items.size());
  for (const auto& item : items) a.emplace_back(item.toString());
  return a;
}

// Reads one JSON string without escapes at `pos` (on the opening quote); false on anything else.
bool readPlainString(std::string_view text, std::size_t& pos, std::string_view& out) {
  if (pos >= text.size() || text[pos] != '"') return false;
  std::size_t end = text.find('"', pos + 1);
  if (end == std::string_view::npos) return false;
  out = text.substr(pos + 1, end - pos - 1);
  for (char c : out) {
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  pos = end + 1;
  return true;
}

// The start-up path decodes a label set per binding (a million of them): this reads the shape
// encodeLabels writes for escape-free text, {"k":"v",...} without whitespace, straight into the
// map, and returns false for anything else, which then goes through Boost.JSON.
bool decodeSimpleLabels(std::string_view text, ledger::Labels& out) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return false;
  std::size_t pos = 1;
  if (text.size() == 2) return true;
  for (;;) {
    std::string_view key, value;
    if (!readPlainString(text, pos, key)) return false;
    if (pos >= text.size() || text[pos++] != ':') return false;
    if (!readPlainString(text, pos, value)) return false;
    // encodeLabels writes keys in map order, so each goes at the end: O(1) insertion.
    out.emplace_hint(out.end(), std::string(key), std::string(value));
    if (pos >= text.size()) return false;
    char c = text[pos++];
    if (c == '}') return pos == text.size();
    if (c != ',') return false;
  }
}

}  // namespace

std::string encodeAddresses(const std::vector<ledger::BoundAddress>& addresses) {
  std::string out;
  for (const auto& a : addresses) {
    if (!out.empty()) out += ',';
    appendEscaped(out, a.pool);
    out += '|';
    out += a.ip.toString();
  }
  return out;
}

Status decodeAddresses(std::string_view text, std::vector<ledger::BoundAddress>& out) {
  out.clear();
  if (text.empty()) return Status::ok();
  out.reserve(1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), ',')));
  for (;;) {  // every item, including one after a trailing comma, must be "pool|ip"
    auto comma = text.find(',');
    NL_RETURN_IF_ERROR(decodeOneAddress(text.substr(0, comma), out));
    if (comma == std::string_view::npos) return Status::ok();
    text.remove_prefix(comma + 1);
  }
}

std::string encodeLabels(const ledger::Labels& labels) {
  if (labels.empty()) return {};
  json::object o;
  o.reserve(labels.size());
  for (const auto& [key, value] : labels) o.emplace(key, value);
  return json::serialize(o);
}

Status decodeLabels(std::string_view text, ledger::Labels& out) {
  out.clear();
  if (text.empty() || decodeSimpleLabels(text, out)) return Status::ok();
  out.clear();
  auto v = parseStored(text, "labels");
  if (!v) return v.status();
  const json::object* o = v->if_object();
  if (o == nullptr) return Status::internal("labels: stored JSON is not an object");
  for (const auto& member : *o) {
    const json::string* s = member.value().if_string();
    if (s == nullptr) return Status::internal("labels: a value is not a string");
    out.emplace(std::string(member.key()), std::string(s->data(), s->size()));
  }
  return Status::ok();
}

std::string encodeStringList(const std::vector<std::string>& list) {
  json::array a;
  a.reserve(list.size());
  for (const auto& item : list) a.emplace_back(item);
  return json::serialize(a);
}

Status decodeStringList(std::string_view text, std::vector<std::string>& out) {
  out.clear();
  auto v = parseStored(text, "string list");
  if (!v) return v.status();
  const json::array* a = v->if_array();
  if (a == nullptr) return Status::internal("string list: stored JSON is not an array");
  out.reserve(a->size());
  for (const json::value& item : *a) {
    const json::string* s = item.if_string();
    if (s == nullptr) return Status::internal("string list: an item is not a string");
    out.emplace_back(s->data(), s->size());
  }
  return Status::ok();
}

std::int64_t bindingStateCode(ledger::BindingState state) {
  switch (state) {
    case ledger::BindingState::kReserved:
      return 0;
    case ledger::BindingState::kActive:
      return 1;
    case ledger::BindingState::kReleased:
      return 2;
    case ledger::BindingState::kExpired:
      return 3;
  }
  return 1;
}

Result<ledger::BindingState> bindingStateFromCode(std::int64_t code) {
  switch (code) {
    case 0:
      return ledger::BindingState::kReserved;
    case 1:
      return ledger::BindingState::kActive;
    case 2:
      return ledger::BindingState::kReleased;
    case 3:
      return ledger::BindingState::kExpired;
    default:
      return Status::internal("state: unknown stored code " + std::to_string(code));
  }
}

std::string encodePoolData(const ledger::PoolRecord& pool) {
  json::object o;
  o["network"] = pool.network;
  o["cidrs"] = toStrings(pool.cidrs);
  if (pool.gateway) o["gateway"] = pool.gateway->toString();
  o["ranges"] = toStrings(pool.ranges);
  o["reserved"] = toStrings(pool.reserved);
  o["tenant"] = pool.tenant;
  o["cluster"] = pool.cluster;
  if (pool.vlan) o["vlan"] = *pool.vlan;
  if (pool.vni) o["vni"] = *pool.vni;
  o["default_ttl_s"] = pool.default_ttl_s;
  o["quarantine_s"] = pool.quarantine_s;
  o["threshold"] = pool.threshold;
  o["parent"] = pool.parent;
  o["auto_expand"] = pool.auto_expand;
  if (pool.external) o["external"] = true;
  o["expand_prefix_length"] = pool.expand_prefix_length;
  if (pool.dhcp) o["dhcp"] = ledger::toJson(pool.dhcp);
  if (!pool.enforcement.empty()) o["enforcement"] = pool.enforcement;
  return json::serialize(o);
}

Status decodePoolData(std::string_view text, ledger::PoolRecord& pool) {
  auto v = parseStored(text, "pool data");
  if (!v) return v.status();
  const json::object* o = v->if_object();
  if (o == nullptr) return Status::internal("pool data: stored JSON is not an object");
  NL_RETURN_IF_ERROR(readString(*o, "network", pool.network));
  NL_RETURN_IF_ERROR(readParsedList(*o, "cidrs", pool.cidrs, addr::Prefix::parse));
  if (o->contains("gateway")) {
    std::string text_gateway;
    NL_RETURN_IF_ERROR(readString(*o, "gateway", text_gateway));
    auto gateway = addr::IpAddress::parse(text_gateway);
    if (!gateway) return corrupt(gateway.status(), "pool data: gateway");
    pool.gateway = *gateway;
  }
  NL_RETURN_IF_ERROR(readParsedList(*o, "ranges", pool.ranges, addr::IpRange::parse));
  NL_RETURN_IF_ERROR(readParsedList(*o, "reserved", pool.reserved, addr::IpRange::parse));
  NL_RETURN_IF_ERROR(readString(*o, "tenant", pool.tenant));
  NL_RETURN_IF_ERROR(readString(*o, "cluster", pool.cluster));
  if (o->contains("vlan")) {
    std::int64_t vlan = 0;
    NL_RETURN_IF_ERROR(readInt(*o, "vlan", vlan));
    pool.vlan = static_cast<int>(vlan);
  }
  if (o->contains("vni")) {
    std::int64_t vni = 0;
    NL_RETURN_IF_ERROR(readInt(*o, "vni", vni));
    pool.vni = static_cast<std::uint32_t>(vni);
  }
  NL_RETURN_IF_ERROR(readInt(*o, "default_ttl_s", pool.default_ttl_s));
  NL_RETURN_IF_ERROR(readInt(*o, "quarantine_s", pool.quarantine_s));
  NL_RETURN_IF_ERROR(readDouble(*o, "threshold", pool.threshold));
  NL_RETURN_IF_ERROR(readString(*o, "parent", pool.parent));
  NL_RETURN_IF_ERROR(readBool(*o, "auto_expand", pool.auto_expand));
  if (o->contains("external")) NL_RETURN_IF_ERROR(readBool(*o, "external", pool.external));
  std::int64_t expand = pool.expand_prefix_length;
  NL_RETURN_IF_ERROR(readInt(*o, "expand_prefix_length", expand));
  pool.expand_prefix_length = static_cast<int>(expand);
  if (const json::value* dhcp = o->if_contains("dhcp")) {
    auto settings = ledger::poolDhcpFromJson(*dhcp);
    if (!settings) return corrupt(settings.status(), "pool data: dhcp");
    pool.dhcp = *settings;
  }
  if (o->contains("enforcement")) {
    NL_RETURN_IF_ERROR(readString(*o, "enforcement", pool.enforcement));
  }
  return Status::ok();
}

}  // namespace netledger::store::sqlite
