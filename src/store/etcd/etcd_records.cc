#include "store/etcd/etcd_records.h"

#include <boost/json.hpp>

#include "store/sqlite/record_codec.h"

namespace netledger::store::etcd {

namespace json = boost::json;
using sqlite::decodeAddresses;
using sqlite::decodeLabels;
using sqlite::encodeAddresses;
using sqlite::encodeLabels;

namespace {

// Reads the members of one stored object; the first missing or mistyped member is the error.
class Reader {
 public:
  Reader(std::string_view text, std::string_view what) : what_(what) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
      error_ = Status::internal(std::string(what) + ": stored value is not a JSON object");
    } else {
      object_ = std::move(v.as_object());
    }
  }

  void str(std::string_view field, std::string& out) {
    if (const json::value* v = get(field, json::kind::string)) out = v->as_string();
  }
  template <typename Int>
  void num(std::string_view field, Int& out) {
    const json::value* v = object_.if_contains(field);
    if (v == nullptr || !error_.isOk()) return fail(field, v == nullptr);
    if (v->is_int64()) {
      out = static_cast<Int>(v->as_int64());
    } else if (v->is_uint64()) {
      out = static_cast<Int>(v->as_uint64());
    } else {
      fail(field, false);
    }
  }
  void flag(std::string_view field, bool& out) {
    if (const json::value* v = get(field, json::kind::bool_)) out = v->as_bool();
  }
  void mac(std::string_view field, std::optional<addr::Mac>& out) {
    const json::value* v = object_.if_contains(field);
    if (v == nullptr || v->is_null()) return out.reset();
    std::uint64_t raw = 0;
    num(field, raw);
    out = addr::Mac(raw);
  }
  void strings(std::string_view field, std::vector<std::string>& out) {
    const json::value* v = get(field, json::kind::array);
    if (v == nullptr) return;
    out.clear();
    for (const json::value& s : v->as_array()) {
      if (!s.is_string()) return fail(field, false);
      out.emplace_back(s.as_string());
    }
  }
  void check(const Status& s) {
    if (error_.isOk() && !s.isOk()) error_ = s.withContext(what_);
  }
  const Status& status() const { return error_; }

 private:
  const json::value* get(std::string_view field, json::kind kind) {
    const json::value* v = object_.if_contains(field);
    if (!error_.isOk()) return nullptr;
    if (v == nullptr || v->kind() != kind) {
      fail(field, v == nullptr);
      return nullptr;
    }
    return v;
  }
  void fail(std::string_view field, bool missing) {
    if (!error_.isOk()) return;
    error_ = Status::internal(std::string(what_) + ": stored field " + std::string(field) +
                              (missing ? " is missing" : " has the wrong type"));
  }

  std::string_view what_;
  json::object object_;
  Status error_;
};

json::value macValue(const std::optional<addr::Mac>& mac) {
  return mac ? json::value(mac->value()) : json::value(nullptr);
}

}  // namespace

std::string encode(const ledger::PoolRecord& p) {
  return json::serialize(json::object{{"name", p.name},
                                      {"version", p.version},
                                      {"created", p.created_at},
                                      {"updated", p.updated_at},
                                      {"data", sqlite::encodePoolData(p)}});
}

Status decode(std::string_view text, ledger::PoolRecord& p) {
  Reader r(text, "pool");
  std::string data;
  r.str("name", p.name);
  r.num("version", p.version);
  r.num("created", p.created_at);
  r.num("updated", p.updated_at);
  r.str("data", data);
  if (r.status().isOk()) r.check(sqlite::decodePoolData(data, p));
  return r.status();
}

std::string encode(const ledger::MacPoolRecord& p) {
  return json::serialize(json::object{{"name", p.name},
                                      {"prefix", p.prefix.toString()},
                                      {"strategy", alloc::macStrategyName(p.strategy)},
                                      {"quarantine_s", p.quarantine_s},
                                      {"version", p.version},
                                      {"created", p.created_at},
                                      {"updated", p.updated_at}});
}

Status decode(std::string_view text, ledger::MacPoolRecord& p) {
  Reader r(text, "MAC pool");
  std::string prefix, strategy;
  r.str("name", p.name);
  r.str("prefix", prefix);
  r.str("strategy", strategy);
  r.num("quarantine_s", p.quarantine_s);
  r.num("version", p.version);
  r.num("created", p.created_at);
  r.num("updated", p.updated_at);
  if (!r.status().isOk()) return r.status();
  auto parsed_prefix = addr::MacPrefix::parse(prefix);
  r.check(parsed_prefix.status());
  auto parsed_strategy = alloc::parseMacStrategy(strategy);
  r.check(parsed_strategy.status());
  if (r.status().isOk()) {
    p.prefix = *parsed_prefix;
    p.strategy = *parsed_strategy;
  }
  return r.status();
}

std::string encode(const ledger::BindingRecord& b) {
  return json::serialize(json::object{{"id", b.id},
                                      {"instance", b.instance},
                                      {"interface", b.interface},
                                      {"mac", macValue(b.mac)},
                                      {"mac_pool", b.mac_pool},
                                      {"addresses", encodeAddresses(b.addresses)},
                                      {"host", b.host},
                                      {"host_mac", macValue(b.host_mac)},
                                      {"service", b.service},
                                      {"tenant", b.tenant},
                                      {"labels", encodeLabels(b.labels)},
                                      {"state", sqlite::bindingStateCode(b.state)},
                                      {"static", b.is_static},
                                      {"expires", b.expires_at},
                                      {"ttl_s", b.ttl_s},
                                      {"created", b.created_at},
                                      {"updated", b.updated_at},
                                      {"version", b.version}});
}

Status decode(std::string_view text, ledger::BindingRecord& b) {
  Reader r(text, "binding");
  std::string addresses, labels;
  std::int64_t state = 0;
  r.num("id", b.id);
  r.str("instance", b.instance);
  r.str("interface", b.interface);
  r.mac("mac", b.mac);
  r.str("mac_pool", b.mac_pool);
  r.str("addresses", addresses);
  r.str("host", b.host);
  r.mac("host_mac", b.host_mac);
  r.str("service", b.service);
  r.str("tenant", b.tenant);
  r.str("labels", labels);
  r.num("state", state);
  r.flag("static", b.is_static);
  r.num("expires", b.expires_at);
  r.num("ttl_s", b.ttl_s);
  r.num("created", b.created_at);
  r.num("updated", b.updated_at);
  r.num("version", b.version);
  if (!r.status().isOk()) return r.status();
  r.check(decodeAddresses(addresses, b.addresses));
  r.check(decodeLabels(labels, b.labels));
  auto parsed_state = sqlite::bindingStateFromCode(state);
  r.check(parsed_state.status());
  if (parsed_state) b.state = *parsed_state;
  return r.status();
}

std::string encode(const ledger::TokenRecord& t) {
  json::array tenants(t.tenants.begin(), t.tenants.end());
  return json::serialize(json::object{{"name", t.name},
                                      {"sha256", t.sha256_hex},
                                      {"role", ledger::roleName(t.role)},
                                      {"tenants", std::move(tenants)},
                                      {"created", t.created_at},
                                      {"version", t.version}});
}

Status decode(std::string_view text, ledger::TokenRecord& t) {
  Reader r(text, "token");
  std::string role;
  r.str("name", t.name);
  r.str("sha256", t.sha256_hex);
  r.str("role", role);
  r.strings("tenants", t.tenants);
  r.num("created", t.created_at);
  r.num("version", t.version);
  if (!r.status().isOk()) return r.status();
  auto parsed = ledger::parseRole(role);
  r.check(parsed.status());
  if (parsed) t.role = *parsed;
  return r.status();
}

std::string encode(const ledger::QuarantineRecord& q) {
  return json::serialize(
      json::object{{"kind", q.kind}, {"pool", q.pool}, {"key", q.key}, {"until", q.until}});
}

Status decode(std::string_view text, ledger::QuarantineRecord& q) {
  Reader r(text, "quarantine entry");
  r.str("kind", q.kind);
  r.str("pool", q.pool);
  r.str("key", q.key);
  r.num("until", q.until);
  return r.status();
}

std::string encode(const ledger::DocumentRecord& d) {
  return json::serialize(json::object{{"kind", d.kind},
                                      {"key", d.key},
                                      {"body", d.body},
                                      {"version", d.version},
                                      {"updated", d.updated_at}});
}

Status decode(std::string_view text, ledger::DocumentRecord& d) {
  Reader r(text, "document");
  r.str("kind", d.kind);
  r.str("key", d.key);
  r.str("body", d.body);
  r.num("version", d.version);
  r.num("updated", d.updated_at);
  return r.status();
}

std::string encode(const ledger::EventRecord& e) {
  json::array keys(e.keys.begin(), e.keys.end());
  return json::serialize(json::object{{"seq", e.seq},
                                      {"time", e.time},
                                      {"actor", e.actor},
                                      {"op", e.op},
                                      {"subject", e.subject},
                                      {"keys", std::move(keys)},
                                      {"before", e.before},
                                      {"after", e.after}});
}

Status decode(std::string_view text, ledger::EventRecord& e) {
  Reader r(text, "event");
  r.num("seq", e.seq);
  r.num("time", e.time);
  r.str("actor", e.actor);
  r.str("op", e.op);
  r.str("subject", e.subject);
  r.strings("keys", e.keys);
  r.str("before", e.before);
  r.str("after", e.after);
  return r.status();
}

}  // namespace netledger::store::etcd
