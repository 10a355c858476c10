#include "store/etcd/etcd_keys.h"

#include <charconv>
#include <cstdio>

namespace netledger::store::etcd {

std::string Keys::number(std::uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}

std::string Keys::document(std::string_view kind, std::string_view key) const {
  std::string k = p_ + "doc/";
  k.append(kind).push_back('\0');
  return k.append(key);
}

std::string Keys::quarantine(std::string_view kind, std::string_view pool,
                             std::string_view key) const {
  std::string k = p_ + "quar/";
  k.append(kind).push_back('\0');
  k.append(pool).push_back('\0');
  return k.append(key);
}

std::string Keys::ip(std::string_view network, std::string_view address) const {
  std::string k = p_ + "ip/";
  k.append(network).push_back('\0');
  return k.append(address);
}

std::optional<std::string_view> Keys::in(std::string_view key, std::string_view name) const {
  if (key.size() < p_.size() + name.size() || key.compare(0, p_.size(), p_) != 0 ||
      key.compare(p_.size(), name.size(), name) != 0) {
    return std::nullopt;
  }
  return key.substr(p_.size() + name.size());
}

std::vector<std::string> claimKeys(
    const Keys& keys, const ledger::BindingRecord& b,
    const std::function<std::string(const std::string&)>& network_of) {
  std::vector<std::string> out;
  if (b.state != ledger::BindingState::kActive && b.state != ledger::BindingState::kReserved) {
    return out;
  }
  for (const auto& a : b.addresses) out.push_back(keys.ip(network_of(a.pool), a.ip.toString()));
  if (b.mac) out.push_back(keys.mac(b.mac->toString()));
  return out;
}

std::uint64_t trailingNumber(std::string_view key) {
  std::size_t slash = key.find_last_of(std::string_view("/\0", 2));
  std::string_view digits = slash == std::string_view::npos ? key : key.substr(slash + 1);
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return 0;
  return n;
}

}  // namespace netledger::store::etcd
