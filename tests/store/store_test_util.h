#pragma once
// Shared by the store tests: a scratch directory per test, records with every field populated,
// and a field-by-field rendering of records so a mismatch shows exactly which field differs.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/store.h"

namespace netledger::store::testing_util {

// A fresh directory under the gtest temp dir, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "netledger-store-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    if (made == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = made ? made : pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline addr::IpAddress ip(const std::string& text) { return addr::IpAddress::parse(text).value(); }
inline addr::Prefix prefix(const char* text) { return addr::Prefix::parse(text).value(); }
inline addr::IpRange range(const char* text) { return addr::IpRange::parse(text).value(); }
inline addr::Mac mac(const char* text) { return addr::Mac::parse(text).value(); }

// Every field set, optional ones included; IPv4 and IPv6 mixed.
inline ledger::PoolRecord fullPool(const std::string& name) {
  ledger::PoolRecord p;
  p.name = name;
  p.network = "blue";
  p.cidrs = {prefix("10.20.0.0/16"), prefix("2001:db8:20::/48")};
  p.gateway = ip("10.20.0.1");
  p.ranges = {range("10.20.0.10-10.20.3.250"), range("2001:db8:20::100-2001:db8:20::1ff")};
  p.reserved = {range("10.20.0.50"), range("2001:db8:20::150-2001:db8:20::15f")};
  p.tenant = "acme";
  p.cluster = "east-1";
  p.vlan = 120;
  p.vni = 4'000'000'000u;
  p.default_ttl_s = 86400;
  p.quarantine_s = 45;
  p.threshold = 0.123456789;
  p.parent = "supernet";
  p.auto_expand = true;
  p.expand_prefix_length = 20;
  p.enforcement = "monitor";
  p.version = 1;
  p.created_at = 1'700'000'000'123;
  p.updated_at = 1'700'000'000'456;
  return p;
}

// Optional fields unset, defaults elsewhere.
inline ledger::PoolRecord minimalPool(const std::string& name) {
  ledger::PoolRecord p;
  p.name = name;
  p.cidrs = {prefix("192.0.2.0/24")};
  p.version = 1;
  return p;
}

inline ledger::MacPoolRecord fullMacPool(const std::string& name) {
  ledger::MacPoolRecord p;
  p.name = name;
  p.prefix = addr::MacPrefix::parse("02:42:ac:10:00:00/36").value();
  p.strategy = alloc::MacStrategy::kHash;
  p.quarantine_s = 7;
  p.version = 1;
  p.created_at = 1'700'000'001'000;
  p.updated_at = 1'700'000'002'000;
  return p;
}

// Labels with quotes, backslashes, unicode and the address-list separators.
inline ledger::Labels trickyLabels() {
  return {{"app", "web"},
          {"quote", "say \"hi\"\\now"},
          {"unicode-\xc3\xbc", "\xe2\x9c\x93 \xf0\x9f\x98\x80 Gr\xc3\xbc\xc3\x9f"},
          {"separators", "a|b,c%d"},
          {"", "empty key"}};
}

// Addresses and MACs derived from a binding's id, so bindings of different ids never share one
// (the etcd backend keeps each address and MAC unique, like the ledger does).
inline std::string idOctets(std::uint64_t id) {
  return std::to_string((id >> 16) & 255) + "." + std::to_string((id >> 8) & 255) + "." +
         std::to_string(id & 255);
}
inline std::string idIpv6(std::uint64_t id) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "2001:db8:20::%x:%x", static_cast<unsigned>((id >> 16) & 0xffff),
                static_cast<unsigned>(id & 0xffff));
  return buf;
}
inline addr::Mac idMac(std::uint64_t prefix, std::uint64_t id) {
  return addr::Mac((prefix << 24) | (id & 0xffffff));
}

inline ledger::BindingRecord fullBinding(std::uint64_t id) {
  ledger::BindingRecord b;
  b.id = id;
  b.instance = "vm-" + std::to_string(id) + " \xe2\x80\x94 \"prod\"";
  b.interface = "ens3";
  b.mac = idMac(0x0242ac, id);
  b.mac_pool = "macs";
  b.addresses = {{ip("20." + idOctets(id)), "lab"},
                 {ip(idIpv6(id)), "lab-v6"},
                 {ip("21." + idOctets(id)), "we|ird,pool%name"},
                 {ip("::ffff:22." + idOctets(id)), ""}};
  b.host = "host-7";
  b.host_mac = mac("00:1a:2b:3c:4d:5e");
  b.service = "api";
  b.tenant = "acme";
  b.labels = trickyLabels();
  b.state = ledger::BindingState::kReserved;
  b.is_static = true;
  b.expires_at = 1'800'000'000'000;
  b.ttl_s = 3600;
  b.created_at = 1'700'000'000'000;
  b.updated_at = 1'700'000'000'999;
  b.version = 1;
  return b;
}

inline ledger::BindingRecord minimalBinding(std::uint64_t id) {
  ledger::BindingRecord b;
  b.id = id;
  b.instance = "i-" + std::to_string(id);
  b.addresses = {{ip("30." + idOctets(id)), "lab"}};
  b.version = 1;
  return b;
}

inline ledger::TokenRecord fullToken(const std::string& name) {
  ledger::TokenRecord t;
  t.name = name;
  t.sha256_hex = std::string(64, 'a');
  t.role = ledger::Role::kOperator;
  t.tenants = {"acme", "glo\"bex", "\xc3\xbc"};
  t.created_at = 1'700'000'003'000;
  t.version = 1;
  return t;
}

inline ledger::EventRecord event(std::uint64_t seq, ledger::Millis time, std::string op,
                                 std::string actor, std::vector<std::string> keys) {
  ledger::EventRecord e;
  e.seq = seq;
  e.time = time;
  e.op = std::move(op);
  e.actor = std::move(actor);
  e.subject = "binding:" + std::to_string(seq);
  e.keys = std::move(keys);
  e.before = seq % 2 ? "" : R"({"id":1,"note":"before \"x\""})";
  e.after = R"({"id":1,"labels":{"k":"\u00fc"}})";
  return e;
}

// Builds an EventQuery field by field (designated initializers that skip members trip
// -Wmissing-field-initializers).
struct Query {
  ledger::EventQuery q;
  Query& key(std::optional<std::string> v) {
    q.key = std::move(v);
    return *this;
  }
  Query& op(std::optional<std::string> v) {
    q.op = std::move(v);
    return *this;
  }
  Query& actor(std::optional<std::string> v) {
    q.actor = std::move(v);
    return *this;
  }
  Query& from(ledger::Millis v) {
    q.from = v;
    return *this;
  }
  Query& to(ledger::Millis v) {
    q.to = v;
    return *this;
  }
  Query& after(std::uint64_t v) {
    q.after_seq = v;
    return *this;
  }
  Query& before(std::uint64_t v) {
    q.before_seq = v;
    return *this;
  }
  Query& limit(std::size_t v) {
    q.limit = v;
    return *this;
  }
  operator const ledger::EventQuery&() const { return q; }  // NOLINT: implicit by design
};

inline ledger::MacPoolRecord namedMacPool(const std::string& name) {
  ledger::MacPoolRecord p;
  p.name = name;
  p.version = 1;
  return p;
}

inline ledger::TokenRecord namedToken(const std::string& name) {
  ledger::TokenRecord t;
  t.name = name;
  t.version = 1;
  return t;
}

// --- renderings: one line per field, so EXPECT_EQ diffs point at the field ---

template <typename T>
std::string joined(const std::vector<T>& items) {
  std::string out = "[";
  for (const auto& i : items) out += i.toString() + " ";
  return out + "]";
}

inline std::string render(const ledger::PoolRecord& p) {
  std::ostringstream o;
  o << "pool " << p.name << "\n network=" << p.network << "\n cidrs=" << joined(p.cidrs)
    << "\n gateway=" << (p.gateway ? p.gateway->toString() : "-")
    << "\n ranges=" << joined(p.ranges) << "\n reserved=" << joined(p.reserved)
    << "\n tenant=" << p.tenant << "\n cluster=" << p.cluster
    << "\n vlan=" << (p.vlan ? std::to_string(*p.vlan) : "-")
    << "\n vni=" << (p.vni ? std::to_string(*p.vni) : "-") << "\n ttl=" << p.default_ttl_s
    << "\n quarantine=" << p.quarantine_s << "\n threshold=" << std::hexfloat << p.threshold
    << std::defaultfloat << "\n parent=" << p.parent << "\n auto_expand=" << p.auto_expand
    << "\n expand_len=" << p.expand_prefix_length << "\n enforcement=" << p.enforcement
    << "\n version=" << p.version << "\n created=" << p.created_at << "\n updated=" << p.updated_at
    << "\n";
  return o.str();
}

inline std::string render(const ledger::MacPoolRecord& p) {
  std::ostringstream o;
  o << "macpool " << p.name << " prefix=" << p.prefix.toString()
    << " strategy=" << alloc::macStrategyName(p.strategy) << " quarantine=" << p.quarantine_s
    << " version=" << p.version << " created=" << p.created_at << " updated=" << p.updated_at
    << "\n";
  return o.str();
}

inline std::string render(const ledger::BindingRecord& b) {
  std::ostringstream o;
  o << "binding " << b.id << "\n instance=" << b.instance
    << "\n interface=" << b.interface << "\n mac=" << (b.mac ? b.mac->toString() : "-")
    << "\n mac_pool=" << b.mac_pool << "\n addresses=";
  for (const auto& a : b.addresses) o << "{" << a.pool << "|" << a.ip.toString() << "}";
  o << "\n host=" << b.host << "\n host_mac=" << (b.host_mac ? b.host_mac->toString() : "-")
    << "\n service=" << b.service << "\n tenant=" << b.tenant << "\n labels=";
  for (const auto& [k, v] : b.labels) o << "{" << k << "=" << v << "}";
  o << "\n state=" << ledger::bindingStateName(b.state) << "\n static=" << b.is_static
    << "\n expires=" << b.expires_at << "\n ttl=" << b.ttl_s << "\n created=" << b.created_at
    << "\n updated=" << b.updated_at << "\n version=" << b.version << "\n";
  return o.str();
}

inline std::string render(const ledger::TokenRecord& t) {
  std::ostringstream o;
  o << "token " << t.name << " sha=" << t.sha256_hex << " role=" << ledger::roleName(t.role)
    << " tenants=";
  for (const auto& x : t.tenants) o << "{" << x << "}";
  o << " created=" << t.created_at << " version=" << t.version << "\n";
  return o.str();
}

inline std::string render(const ledger::QuarantineRecord& q) {
  return "quarantine " + q.kind + " " + q.key + " pool=" + q.pool +
         " until=" + std::to_string(q.until) + "\n";
}

inline std::string render(const ledger::EventRecord& e) {
  std::ostringstream o;
  o << "event " << e.seq << " time=" << e.time << " actor=" << e.actor << " op=" << e.op
    << " subject=" << e.subject << " keys=";
  for (const auto& k : e.keys) o << "{" << k << "}";
  o << " before=" << e.before << " after=" << e.after << "\n";
  return o.str();
}

template <typename T>
std::string renderAll(const std::vector<T>& items) {
  std::string out;
  for (const auto& i : items) out += render(i);
  return out;
}

// The whole state in a canonical order (backends may return small tables in any order).
inline std::string render(const ledger::StoreState& s) {
  auto sorted = [](auto items, auto key) {
    std::sort(items.begin(), items.end(),
              [&](const auto& a, const auto& b) { return key(a) < key(b); });
    return renderAll(items);
  };
  std::string out;
  out += sorted(s.pools, [](const auto& p) { return p.name; });
  out += sorted(s.mac_pools, [](const auto& p) { return p.name; });
  out += sorted(s.bindings, [](const auto& b) { return b.id; });
  out += sorted(s.tokens, [](const auto& t) { return t.name; });
  out += sorted(s.quarantine, [](const auto& q) { return std::make_pair(q.kind, q.key); });
  out += "last_event_seq=" + std::to_string(s.last_event_seq) + "\n";
  out += "last_binding_id=" + std::to_string(s.last_binding_id) + "\n";
  return out;
}

}  // namespace netledger::store::testing_util

#define NL_ASSERT_OK(expr)                                          \
  do {                                                              \
    const ::netledger::Status nl_s_ = (expr);                       \
    ASSERT_TRUE(nl_s_.isOk()) << #expr << ": " << nl_s_.toString(); \
  } while (0)
#define NL_EXPECT_OK(expr)                                          \
  do {                                                              \
    const ::netledger::Status nl_s_ = (expr);                       \
    EXPECT_TRUE(nl_s_.isOk()) << #expr << ": " << nl_s_.toString(); \
  } while (0)
