#include "ledger/codec.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <boost/json.hpp>

namespace netledger::ledger {

namespace json = boost::json;

std::string formatTime(Millis ms) {
  if (ms == 0) return "";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

Result<Millis> parseTime(std::string_view text) {
  auto bad = [&] {
    return Status::invalidArgument("time \"" + std::string(text.substr(0, 40)) +
                                   "\" is not RFC 3339 (2026-11-21T14:00:00Z) or unix seconds");
  };
  if (text.empty()) return bad();
  bool digits_only = text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits_only) {
    if (text.size() > 12) return bad();
    return static_cast<Millis>(std::stoll(std::string(text))) * 1000;
  }
  int y, mo, d, h, mi, s;
  char sep;
  int consumed = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &s,
                  &consumed) != 7 ||
      (sep != 'T' && sep != 't' && sep != ' ') || consumed != 19) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  std::size_t i = 19;
  Millis frac = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int n = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
      if (n < 3) frac = frac * 10 + (t[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return bad();
    for (; n < 3; ++n) frac *= 10;
  }
  long offset_s = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int oh, om;
    if (t.size() - i != 6 || std::sscanf(t.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) {
      return bad();
    }
    offset_s = (oh * 3600L + om * 60L) * (t[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return bad();
  }
  if (i != t.size()) return bad();
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                  std::chrono::day(d)};
  if (!ymd.ok()) return bad();
  auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  Millis secs = days * 86400LL + h * 3600LL + mi * 60LL + s - offset_s;
  return secs * 1000 + frac;
}

namespace {

json::array rangesJson(const std::vector<addr::IpRange>& ranges) {
  json::array a;
  for (const auto& r : ranges) a.emplace_back(r.toString());
  return a;
}

void putTime(json::object& o, std::string_view key, Millis ms) {
  if (ms == 0) {
    o[key] = nullptr;
  } else {
    o[key] = formatTime(ms);
  }
}

}  // namespace

json::object toJson(const PoolRecord& p) {
  json::object o;
  o["name"] = p.name;
  o["network"] = p.network;
  json::array cidrs;
  for (const auto& c : p.cidrs) cidrs.emplace_back(c.toString());
  o["cidr"] = p.cidrs.empty() ? json::value(nullptr) : json::value(p.cidrs.front().toString());
  o["cidrs"] = std::move(cidrs);
  o["gateway"] = p.gateway ? json::value(p.gateway->toString()) : json::value(nullptr);
  o["ranges"] = rangesJson(p.ranges);
  o["reserved"] = rangesJson(p.reserved);
  o["tenant"] = p.tenant.empty() ? json::value(nullptr) : json::value(p.tenant);
  o["cluster"] = p.cluster.empty() ? json::value(nullptr) : json::value(p.cluster);
  o["vlan"] = p.vlan ? json::value(*p.vlan) : json::value(nullptr);
  o["vni"] = p.vni ? json::value(*p.vni) : json::value(nullptr);
  o["default_ttl_s"] = p.default_ttl_s;
  o["quarantine_s"] = p.quarantine_s;
  o["threshold"] = p.threshold;
  o["parent"] = p.parent.empty() ? json::value(nullptr) : json::value(p.parent);
  o["auto_expand"] = p.auto_expand;
  o["external"] = p.external;
  o["expand_prefix_length"] = p.expand_prefix_length;
  o["dhcp"] = toJson(p.dhcp);
  o["enforcement"] = p.enforcement.empty() ? json::value(nullptr) : json::value(p.enforcement);
  o["version"] = p.version;
  putTime(o, "created_at", p.created_at);
  putTime(o, "updated_at", p.updated_at);
  return o;
}

json::object toJson(const MacPoolRecord& p) {
  json::object o;
  o["name"] = p.name;
  o["prefix"] = p.prefix.toString();
  o["strategy"] = std::string(alloc::macStrategyName(p.strategy));
  o["quarantine_s"] = p.quarantine_s;
  o["size"] = p.prefix.size();
  o["version"] = p.version;
  putTime(o, "created_at", p.created_at);
  putTime(o, "updated_at", p.updated_at);
  return o;
}

json::object toJson(const BindingRecord& b) {
  json::object o;
  o["id"] = std::to_string(b.id);
  o["instance"] = b.instance;
  o["interface"] = b.interface;
  o["mac"] = b.mac ? json::value(b.mac->toString()) : json::value(nullptr);
  o["mac_pool"] = b.mac_pool.empty() ? json::value(nullptr) : json::value(b.mac_pool);
  json::array addresses, detail;
  for (const auto& a : b.addresses) {
    addresses.emplace_back(a.ip.toString());
    json::object d;
    d["ip"] = a.ip.toString();
    d["pool"] = a.pool.empty() ? json::value(nullptr) : json::value(a.pool);
    detail.emplace_back(std::move(d));
  }
  o["addresses"] = std::move(addresses);
  o["address_pools"] = std::move(detail);
  o["host"] = b.host.empty() ? json::value(nullptr) : json::value(b.host);
  o["host_mac"] = b.host_mac ? json::value(b.host_mac->toString()) : json::value(nullptr);
  o["service"] = b.service.empty() ? json::value(nullptr) : json::value(b.service);
  o["tenant"] = b.tenant.empty() ? json::value(nullptr) : json::value(b.tenant);
  json::object labels;
  for (const auto& [k, v] : b.labels) labels[k] = v;
  o["labels"] = std::move(labels);
  o["state"] = std::string(bindingStateName(b.state));
  o["static"] = b.is_static;
  putTime(o, "expires_at", b.expires_at);
  o["ttl_s"] = b.ttl_s;
  putTime(o, "created_at", b.created_at);
  putTime(o, "updated_at", b.updated_at);
  o["version"] = b.version;
  return o;
}

json::object toJson(const TokenRecord& t) {
  json::object o;
  o["name"] = t.name;
  o["role"] = std::string(roleName(t.role));
  json::array tenants;
  for (const auto& x : t.tenants) tenants.emplace_back(x);
  o["tenants"] = std::move(tenants);
  putTime(o, "created_at", t.created_at);
  return o;
}

json::object toJson(const EventRecord& e) {
  json::object o;
  o["seq"] = e.seq;
  o["time"] = formatTime(e.time);
  o["actor"] = e.actor;
  o["op"] = e.op;
  o["subject"] = e.subject;
  auto parsed = [](const std::string& text) -> json::value {
    if (text.empty()) return nullptr;
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value(text) : v;
  };
  o["before"] = parsed(e.before);
  o["after"] = parsed(e.after);
  return o;
}

json::object countsToJson(const alloc::IpPoolCounts& c) {
  json::object o;
  o["size"] = c.size.toString();
  o["allocatable"] = addr::toDecimal(c.allocatable);
  o["used"] = addr::toDecimal(c.used);
  o["free"] = addr::toDecimal(c.free);
  o["reserved"] = addr::toDecimal(c.reserved);
  o["quarantined"] = addr::toDecimal(c.quarantined);
  o["utilization"] = c.utilization();
  return o;
}

Result<BindingRecord> bindingFromJson(const json::value& v) {
  if (!v.is_object()) return Status::invalidArgument("binding: not an object");
  const auto& o = v.as_object();
  BindingRecord b;
  auto str = [&](std::string_view k) -> std::string {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                    : std::string();
  };
  b.id = std::strtoull(str("id").c_str(), nullptr, 10);
  b.instance = str("instance");
  b.interface = str("interface");
  if (auto m = addr::Mac::parse(str("mac"))) b.mac = *m;
  if (auto m = addr::Mac::parse(str("host_mac"))) b.host_mac = *m;
  b.mac_pool = str("mac_pool");
  b.host = str("host");
  b.service = str("service");
  b.tenant = str("tenant");
  if (auto it = o.find("address_pools"); it != o.end() && it->value().is_array()) {
    for (const auto& d : it->value().as_array()) {
      if (!d.is_object()) continue;
      const auto& dobj = d.as_object();
      auto ip = dobj.find("ip");
      if (ip == dobj.end() || !ip->value().is_string()) continue;
      auto a = addr::IpAddress::parse(ip->value().as_string());
      if (!a) continue;
      auto pool = dobj.find("pool");
      b.addresses.push_back({*a, pool != dobj.end() && pool->value().is_string()
                                     ? std::string(pool->value().as_string())
                                     : std::string()});
    }
  }
  if (auto s = parseBindingState(str("state"))) b.state = *s;
  if (auto it = o.find("static"); it != o.end() && it->value().is_bool()) {
    b.is_static = it->value().as_bool();
  }
  if (auto t = parseTime(str("expires_at"))) b.expires_at = *t;
  if (auto it = o.find("ttl_s"); it != o.end() && it->value().is_int64()) {
    b.ttl_s = it->value().as_int64();
  }
  if (auto t = parseTime(str("created_at"))) b.created_at = *t;
  if (auto t = parseTime(str("updated_at"))) b.updated_at = *t;
  return b;
}

}  // namespace netledger::ledger

namespace netledger::ledger {
namespace {

json::array addressesJson(const std::vector<addr::IpAddress>& list) {
  json::array a;
  for (const auto& ip : list) a.emplace_back(ip.toString());
  return a;
}

Status badDhcp(std::string_view key, std::string_view what) {
  return Status::invalidArgument("dhcp." + std::string(key) + ": " + std::string(what));
}

Status readDhcpInt(const json::value& v, std::string_view key, std::int64_t min, std::int64_t max,
                   std::int64_t& out) {
  const std::int64_t* n = v.if_int64();
  std::uint64_t u = 0;
  if (n == nullptr && v.is_uint64()) u = v.get_uint64();
  if (n == nullptr && !v.is_uint64())
    return badDhcp(key,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  const bool fits = n != nullptr ? (*n >= min && *n <= max) : u <= static_cast<std::uint64_t>(max);
  if (!fits)
    return badDhcp(key,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  out = n != nullptr ? *n : static_cast<std::int64_t>(u);
  return Status::ok();
}

Status readDhcpAddresses(const json::value& v, std::string_view key,
                         std::vector<addr::IpAddress>& out) {
  const json::array* a = v.if_array();
  if (a == nullptr || a->size() > 8)
    return badDhcp(key, "must be a list of up to 8 IPv4 addresses");
  out.clear();
  for (std::size_t i = 0; i < a->size(); ++i) {
    const json::string* text = (*a)[i].if_string();
    auto ip = text != nullptr ? addr::IpAddress::parse(*text)
                              : Result<addr::IpAddress>(Status::invalidArgument("not a string"));
    if (!ip || !ip->isV4())
      return badDhcp(std::string(key) + "[" + std::to_string(i) + "]", "must be an IPv4 address");
    out.push_back(*ip);
  }
  return Status::ok();
}

Status readDhcpKey(const json::value& v, std::string_view key, PoolDhcp& d) {
  std::int64_t n = 0;
  auto flag = [&](bool& out) {
    if (!v.is_bool()) return badDhcp(key, "must be true or false");
    out = v.get_bool();
    return Status::ok();
  };
  if (key == "enabled") return flag(d.enabled);
  if (key == "probe") return flag(d.probe);
  if (key == "dns_servers") return readDhcpAddresses(v, key, d.dns_servers);
  if (key == "ntp_servers") return readDhcpAddresses(v, key, d.ntp_servers);
  if (key == "domain") {
    const json::string* s = v.if_string();
    const bool ok =
        s != nullptr && s->size() <= 253 && std::all_of(s->begin(), s->end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        });
    if (!ok) return badDhcp(key, "must be a domain name (letters, digits, '-', '.'; 253 at most)");
    d.domain.assign(s->data(), s->size());
    return Status::ok();
  }
  struct IntKey {
    std::string_view name;
    std::int64_t min, max;
  };
  static constexpr IntKey kInts[] = {{"lease_s", 60, 365LL * 86400},
                                     {"decline_limit", 1, 100},
                                     {"decline_window_s", 1, 86400},
                                     {"decline_backoff_s", 0, 7LL * 86400}};
  for (const IntKey& k : kInts) {
    if (key != k.name) continue;
    NL_RETURN_IF_ERROR(readDhcpInt(v, key, k.min, k.max, n));
    if (key == "lease_s") d.lease_s = n;
    if (key == "decline_limit") d.decline_limit = static_cast<int>(n);
    if (key == "decline_window_s") d.decline_window_s = n;
    if (key == "decline_backoff_s") d.decline_backoff_s = n;
    return Status::ok();
  }
  return badDhcp(key,
                 "unknown setting (known: enabled, lease_s, dns_servers, ntp_servers, "
                 "domain, probe, decline_limit, decline_window_s, decline_backoff_s)");
}

}  // namespace

json::value toJson(const std::optional<PoolDhcp>& dhcp) {
  if (!dhcp) return nullptr;
  json::object o;
  o["enabled"] = dhcp->enabled;
  o["lease_s"] = dhcp->lease_s;
  o["dns_servers"] = addressesJson(dhcp->dns_servers);
  o["ntp_servers"] = addressesJson(dhcp->ntp_servers);
  o["domain"] = dhcp->domain.empty() ? json::value(nullptr) : json::value(dhcp->domain);
  o["probe"] = dhcp->probe;
  o["decline_limit"] = dhcp->decline_limit;
  o["decline_window_s"] = dhcp->decline_window_s;
  o["decline_backoff_s"] = dhcp->decline_backoff_s;
  return o;
}

Result<std::optional<PoolDhcp>> poolDhcpFromJson(const json::value& v) {
  if (v.is_null()) return std::optional<PoolDhcp>();
  const json::object* o = v.if_object();
  if (o == nullptr) return Status::invalidArgument("dhcp: must be an object or null");
  PoolDhcp d;
  for (const auto& [key, value] : *o) {
    if (key == "domain" && value.is_null()) continue;
    NL_RETURN_IF_ERROR(readDhcpKey(value, key, d));
  }
  return std::optional<PoolDhcp>(std::move(d));
}

}  // namespace netledger::ledger
