#include "ledger/validation.h"

#include <algorithm>
#include <cctype>

#include "common/parse.h"

namespace netledger::ledger {

namespace {

constexpr std::size_t kMaxNameLength = 63;
constexpr std::size_t kMaxTextLength = 253;
constexpr std::int64_t kMaxQuarantineSeconds = 365LL * 86400;
constexpr std::int64_t kMaxTtlSeconds = 3650LL * 86400;
constexpr std::size_t kMaxLabels = 64;

Status invalid(std::string_view field, const std::string& what) {
  return Status::invalidArgument(std::string(field) + ": " + what);
}

}  // namespace

Status validateName(std::string_view field, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return invalid(field, "must be 1 to 63 characters");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return invalid(field, "\"" + std::string(name) +
                                "\" may only contain letters, digits, '-', '_' and '.'");
    }
  }
  return Status::ok();
}

Status validatePrintable(std::string_view field, std::string_view value, std::size_t max,
                         bool required) {
  if (value.empty()) return required ? invalid(field, "required") : Status::ok();
  if (value.size() > max)
    return invalid(field, "longer than " + std::to_string(max) + " characters");
  return refuseControlCharacters(field, value);
}

Status validateTtl(std::string_view field, std::optional<std::int64_t> ttl_s) {
  if (ttl_s && (*ttl_s < 0 || *ttl_s > kMaxTtlSeconds)) {
    return invalid(field, "must be 0 to " + std::to_string(kMaxTtlSeconds));
  }
  return Status::ok();
}

Status validateStationMac(std::string_view field, const std::optional<addr::Mac>& mac) {
  if (mac && (mac->isMulticast() || mac->isZero())) {
    return invalid(field, mac->toString() + " is not a unicast station address");
  }
  return Status::ok();
}

Status validatePool(const PoolRecord& r) {
  NL_RETURN_IF_ERROR(validateName("name", r.name));
  NL_RETURN_IF_ERROR(validateName("network", r.network));
  if (!r.tenant.empty()) NL_RETURN_IF_ERROR(validateName("tenant", r.tenant));
  NL_RETURN_IF_ERROR(validatePrintable("cluster", r.cluster, kMaxTextLength, false));
  if (r.threshold <= 0 || r.threshold > 1)
    return invalid("threshold", "must be in (0, 1], e.g. 0.85");
  if (r.quarantine_s < 0 || r.quarantine_s > kMaxQuarantineSeconds) {
    return invalid("quarantine_s", "must be 0 to " + std::to_string(kMaxQuarantineSeconds));
  }
  NL_RETURN_IF_ERROR(validateTtl("default_ttl_s", r.default_ttl_s));
  if (r.vlan && (*r.vlan < 0 || *r.vlan > 4094)) {
    return invalid("vlan", std::to_string(*r.vlan) + " is outside 0..4094");
  }
  if (!r.enforcement.empty() && r.enforcement != "off" && r.enforcement != "monitor" &&
      r.enforcement != "enforce") {
    return invalid("enforcement",
                   "\"" + r.enforcement.substr(0, 32) + "\" is not off, monitor or enforce");
  }
  if (r.vni && *r.vni >= (1u << 24)) {
    return invalid("vni", std::to_string(*r.vni) + " is outside 0..16777215");
  }
  if (r.external && (!r.parent.empty() || r.auto_expand)) {
    return invalid("external", "an external pool has no parent and does not expand");
  }
  if (r.auto_expand && r.parent.empty()) {
    return invalid("auto_expand", "needs a parent pool to take prefixes from");
  }
  if (r.dhcp && r.dhcp->enabled) {
    const bool v4 = std::all_of(r.cidrs.begin(), r.cidrs.end(),
                                [](const addr::Prefix& c) { return c.network().isV4(); });
    if (!v4) return invalid("dhcp", "DHCPv4 serves IPv4 pools only");
    if (r.external) return invalid("dhcp", "an external pool is another control plane's");
  }
  return Status::ok();
}

Status validatePoolLayout(const PoolRecord& r) {
  auto inside = [&](const addr::IpAddress& ip) {
    return std::any_of(r.cidrs.begin(), r.cidrs.end(),
                       [&](const addr::Prefix& c) { return c.contains(ip); });
  };
  if (r.gateway && !inside(*r.gateway)) {
    return invalid("gateway", r.gateway->toString() + " is not inside the pool's CIDR");
  }
  for (const auto* list : {&r.ranges, &r.reserved}) {
    for (const auto& range : *list) {
      bool contained = std::any_of(r.cidrs.begin(), r.cidrs.end(), [&](const addr::Prefix& c) {
        return c.contains(range.first()) && c.contains(range.last());
      });
      if (!contained) {
        return invalid(list == &r.ranges ? "ranges" : "reserved",
                       range.toString() + " is not inside the pool's CIDR");
      }
    }
  }
  return Status::ok();
}

Status validateMacPool(const MacPoolRecord& r) {
  NL_RETURN_IF_ERROR(validateName("name", r.name));
  if (r.quarantine_s < 0) return invalid("quarantine_s", "must not be negative");
  return Status::ok();
}

Status validateAllocateRequest(const AllocateRequest& req) {
  NL_RETURN_IF_ERROR(validatePrintable("instance", req.instance, kMaxTextLength, true));
  NL_RETURN_IF_ERROR(validatePrintable("interface", req.interface, 64, true));
  NL_RETURN_IF_ERROR(validatePrintable("host", req.host, kMaxTextLength, false));
  NL_RETURN_IF_ERROR(validatePrintable("service", req.service, kMaxTextLength, false));
  if (req.labels.size() > kMaxLabels) return invalid("labels", "more than 64 entries");
  for (const auto& [k, v] : req.labels) {
    NL_RETURN_IF_ERROR(validatePrintable("labels", k, kMaxNameLength, true));
    NL_RETURN_IF_ERROR(validatePrintable("labels." + k, v, kMaxTextLength, false));
  }
  NL_RETURN_IF_ERROR(validateTtl("ttl_s", req.ttl_s));
  if (req.pools.empty() && !req.address && !req.mac && req.mac_pool.empty()) {
    return invalid("pools", "give at least one pool, an address, a mac or a mac_pool");
  }
  if (req.probe && req.host.empty()) {
    return invalid("host", "required with probe (the host's agent does the probe)");
  }
  if (req.probe && req.pools.empty() && !req.address) {
    return invalid("probe", "there is no address to probe (give pools or address)");
  }
  if (req.mac && !req.mac_pool.empty())
    return invalid("mac", "give either mac or mac_pool, not both");
  return validateStationMac("mac", req.mac);
}

Status validateBindingUpdate(const BindingUpdate& update) {
  if (update.host)
    NL_RETURN_IF_ERROR(validatePrintable("host", *update.host, kMaxTextLength, true));
  return validateStationMac("mac", update.mac);
}

}  // namespace netledger::ledger
