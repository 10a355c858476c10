#include "store/sqlite/row_codec.h"

#include "store/sqlite/record_codec.h"

namespace netledger::store::sqlite {

void bindOptionalMac(Statement& s, int index, const std::optional<addr::Mac>& mac) {
  if (mac) {
    s.bind(index, mac->value());
  } else {
    s.bindNull(index);
  }
}

void bindPool(Statement& s, const ledger::PoolRecord& p) {
  s.bind(1, p.name);
  s.bind(2, p.version);
  s.bind(3, p.created_at);
  s.bind(4, p.updated_at);
  s.bind(5, encodePoolData(p));
}

void bindMacPool(Statement& s, const ledger::MacPoolRecord& p) {
  s.bind(1, p.name);
  s.bind(2, p.prefix.toString());
  s.bind(3, alloc::macStrategyName(p.strategy));
  s.bind(4, p.quarantine_s);
  s.bind(5, p.version);
  s.bind(6, p.created_at);
  s.bind(7, p.updated_at);
}

void bindBinding(Statement& s, const ledger::BindingRecord& b) {
  s.bind(1, b.id);
  s.bind(2, b.instance);
  s.bind(3, b.interface);
  bindOptionalMac(s, 4, b.mac);
  s.bind(5, b.mac_pool);
  s.bind(6, encodeAddresses(b.addresses));
  s.bind(7, b.host);
  bindOptionalMac(s, 8, b.host_mac);
  s.bind(9, b.service);
  s.bind(10, b.tenant);
  s.bind(11, encodeLabels(b.labels));
  s.bind(12, bindingStateCode(b.state));
  s.bind(13, std::int64_t{b.is_static ? 1 : 0});
  s.bind(14, b.expires_at);
  s.bind(15, b.created_at);
  s.bind(16, b.updated_at);
  s.bind(17, b.version);
  s.bind(18, b.ttl_s);
}

void bindToken(Statement& s, const ledger::TokenRecord& t) {
  s.bind(1, t.name);
  s.bind(2, t.sha256_hex);
  s.bind(3, ledger::roleName(t.role));
  s.bind(4, encodeStringList(t.tenants));
  s.bind(5, t.created_at);
  s.bind(6, t.version);
}

std::optional<addr::Mac> optionalMac(const Statement& s, int column) {
  if (s.isNull(column)) return std::nullopt;
  return addr::Mac(s.uint64(column));
}

Status decodeBinding(const Statement& s, ledger::BindingRecord& b) {
  b.id = s.uint64(0);
  b.instance.assign(s.text(1));
  b.interface.assign(s.text(2));
  b.mac = optionalMac(s, 3);
  b.mac_pool.assign(s.text(4));
  NL_RETURN_IF_ERROR(decodeAddresses(s.text(5), b.addresses));
  b.host.assign(s.text(6));
  b.host_mac = optionalMac(s, 7);
  b.service.assign(s.text(8));
  b.tenant.assign(s.text(9));
  NL_RETURN_IF_ERROR(decodeLabels(s.text(10), b.labels));
  auto state = bindingStateFromCode(s.int64(11));
  if (!state) return state.status();
  b.state = *state;
  b.is_static = s.int64(12) != 0;
  b.expires_at = s.int64(13);
  b.created_at = s.int64(14);
  b.updated_at = s.int64(15);
  b.version = s.uint64(16);
  b.ttl_s = s.int64(17);
  return Status::ok();
}

Status decodeEvent(const Statement& s, ledger::EventRecord& e) {
  e.seq = s.uint64(0);
  e.time = s.int64(1);
  e.actor.assign(s.text(2));
  e.op.assign(s.text(3));
  e.subject.assign(s.text(4));
  NL_RETURN_IF_ERROR(decodeStringList(s.text(5), e.keys));
  e.before.assign(s.text(6));
  e.after.assign(s.text(7));
  return Status::ok();
}

}  // namespace netledger::store::sqlite
