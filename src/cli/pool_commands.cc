// `netledger pool ...` and `netledger macpool ...`: IP pools and MAC pools.
#include <boost/json.hpp>

#include "addr/ip_range.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

// The DHCP options of `pool create` and `pool dhcp`: any of them turns DHCP on.
struct DhcpArgs {
  bool enable = false, no_probe = false;
  long long lease = 0;
  std::vector<std::string> dns, ntp;
  std::string domain;
  CLI::Option* lease_opt = nullptr;

  void add(CLI::App& c) {
    c.add_flag("--dhcp", enable, "Serve the pool by DHCPv4 (netledgerd --dhcp-interface)");
    lease_opt = c.add_option("--dhcp-lease", lease, "DHCP lease length, s (default 3600)")
                    ->check(CLI::Range(60LL, 365LL * 86400));
    c.add_option("--dhcp-dns", dns, "DNS server for DHCP clients (repeatable)")
        ->allow_extra_args(false);
    c.add_option("--dhcp-ntp", ntp, "NTP server for DHCP clients (repeatable)")
        ->allow_extra_args(false);
    c.add_option("--dhcp-domain", domain, "Domain name for DHCP clients");
    c.add_flag("--dhcp-no-probe", no_probe, "Offer addresses without an ARP probe first");
  }
  bool given() const {
    return enable || no_probe || lease_opt->count() > 0 || !dns.empty() || !ntp.empty() ||
           !domain.empty();
  }
};

Result<json::array> ipv4List(std::string_view flag, const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) {
    auto ip = addr::IpAddress::parse(item);
    if (!ip) return ip.status().withContext(flag);
    if (!ip->isV4())
      return Status::invalidArgument(std::string(flag) + ": " + item + " is not IPv4");
    out.emplace_back(ip->toString());
  }
  return out;
}

// The pool's "dhcp" object from the options (the server fills in what is not given).
Result<json::object> dhcpBody(const DhcpArgs& a) {
  json::object d;
  if (a.lease_opt->count() > 0) d["lease_s"] = a.lease;
  auto dns = ipv4List("--dhcp-dns", a.dns);
  if (!dns) return dns.status();
  if (!dns->empty()) d["dns_servers"] = std::move(dns).value();
  auto ntp = ipv4List("--dhcp-ntp", a.ntp);
  if (!ntp) return ntp.status();
  if (!ntp->empty()) d["ntp_servers"] = std::move(ntp).value();
  if (!a.domain.empty()) d["domain"] = a.domain;
  if (a.no_probe) d["probe"] = false;
  return d;
}

struct PoolCreateArgs {
  std::string name, network, gateway, tenant, cluster, parent, enforcement;
  std::vector<std::string> cidrs, ranges, reserved;
  int vlan = 0, vni = 0, prefix_length = 0, expand_prefix_length = 0;
  long long ttl = 0, quarantine = 0;
  double threshold = 0;
  bool auto_expand = false;
  DhcpArgs dhcp;
  // Which optional options were given (CLI11 keeps the Option objects alive with the App).
  CLI::Option *vlan_opt = nullptr, *vni_opt = nullptr, *ttl_opt = nullptr,
              *quarantine_opt = nullptr, *threshold_opt = nullptr, *prefix_opt = nullptr,
              *expand_opt = nullptr;
};

Result<json::array> rangeList(std::string_view flag, const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items) {
    auto r = addr::IpRange::parse(item);
    if (!r) return r.status().withContext(flag);
    out.emplace_back(r->toString());
  }
  return out;
}

// The POST /v1/pools body; invalid_argument for what can be checked without the server.
Result<json::object> poolCreateBody(const PoolCreateArgs& a) {
  json::object o;
  o["name"] = a.name;
  if (a.prefix_opt->count() > 0 && a.parent.empty()) {
    return Status::invalidArgument("--prefix-length: needs --parent");
  }
  if (a.cidrs.empty() && a.parent.empty()) {
    return Status::invalidArgument("--cidr: required (or --parent with --prefix-length)");
  }
  if (!a.parent.empty() && a.cidrs.empty() && a.prefix_opt->count() == 0) {
    return Status::invalidArgument("--parent: needs --prefix-length (or --cidr inside the parent)");
  }
  json::array cidrs;
  for (const auto& c : a.cidrs) {
    auto p = addr::Prefix::parse(c);
    if (!p) return p.status().withContext("--cidr");
    cidrs.emplace_back(p->toString());
  }
  if (cidrs.size() == 1) o["cidr"] = cidrs.front();
  if (cidrs.size() > 1) o["cidrs"] = std::move(cidrs);
  if (!a.network.empty()) o["network"] = a.network;
  if (!a.gateway.empty()) {
    auto g = addr::IpAddress::parse(a.gateway);
    if (!g) return g.status().withContext("--gateway");
    o["gateway"] = g->toString();
  }
  auto ranges = rangeList("--range", a.ranges);
  if (!ranges) return ranges.status();
  if (!ranges->empty()) o["ranges"] = std::move(ranges).value();
  auto reserved = rangeList("--reserved", a.reserved);
  if (!reserved) return reserved.status();
  if (!reserved->empty()) o["reserved"] = std::move(reserved).value();
  if (!a.tenant.empty()) o["tenant"] = a.tenant;
  if (!a.cluster.empty()) o["cluster"] = a.cluster;
  if (a.vlan_opt->count() > 0) o["vlan"] = a.vlan;
  if (a.vni_opt->count() > 0) o["vni"] = a.vni;
  if (a.ttl_opt->count() > 0) o["default_ttl_s"] = a.ttl;
  if (a.quarantine_opt->count() > 0) o["quarantine_s"] = a.quarantine;
  if (a.threshold_opt->count() > 0) o["threshold"] = a.threshold;
  if (!a.parent.empty()) o["parent"] = a.parent;
  if (a.prefix_opt->count() > 0) o["prefix_length"] = a.prefix_length;
  if (a.auto_expand) o["auto_expand"] = true;
  if (!a.enforcement.empty()) o["enforcement"] = a.enforcement;
  if (a.expand_opt->count() > 0) o["expand_prefix_length"] = a.expand_prefix_length;
  if (a.dhcp.given()) {
    auto d = dhcpBody(a.dhcp);
    if (!d) return d.status();
    o["dhcp"] = std::move(d).value();
  }
  return o;
}

void printPoolList(std::ostream& out, const json::value& body) {
  std::vector<std::vector<std::string>> rows;
  const json::value& items = member(body, "items");
  if (items.is_array()) {
    for (const auto& p : items.as_array()) {
      const json::value& u = member(p, "utilization");
      std::string util = "-";
      if (member(u, "utilization").is_number()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f",
                      member(u, "utilization").to_number<double>() * 100.0);
        util = buf;
        if (member(p, "alert").is_bool() && member(p, "alert").as_bool()) util += " !";
      }
      rows.push_back({cellText(member(p, "name")), cellText(member(p, "network")),
                      cellText(member(p, "cidrs")), cellText(member(u, "used")),
                      cellText(member(u, "free")), util});
    }
  }
  printTable(out, {"NAME", "NETWORK", "CIDRS", "USED", "FREE", "UTIL%"}, rows);
}

void printMacPoolList(std::ostream& out, const json::value& body) {
  std::vector<std::vector<std::string>> rows;
  const json::value& items = member(body, "items");
  if (items.is_array()) {
    for (const auto& p : items.as_array()) {
      rows.push_back({cellText(member(p, "name")), cellText(member(p, "prefix")),
                      cellText(member(p, "strategy")), cellText(member(p, "size")),
                      cellText(member(p, "quarantine_s"))});
    }
  }
  printTable(out, {"NAME", "PREFIX", "STRATEGY", "SIZE", "QUARANTINE_S"}, rows);
}

void printMacPool(std::ostream& out, const json::value& pool) {
  json::object rows;
  for (const char* key : {"name", "prefix", "strategy", "size", "quarantine_s", "created_at"}) {
    rows[key] = cellText(member(pool, key));
  }
  printResult(out, OutputFormat::kTable, rows);
}

void addPoolCreate(CLI::App& pool, const ClientEnvPtr& env) {
  auto a = std::make_shared<PoolCreateArgs>();
  auto* c = pool.add_subcommand("create", "Create an IP pool");
  c->add_option("name", a->name, "Pool name")->required();
  c->add_option("--cidr", a->cidrs, "CIDR (repeat for several)")->allow_extra_args(false);
  c->add_option("--network", a->network, "Routing domain / VRF (default: default)");
  c->add_option("--gateway", a->gateway, "Gateway address (never handed out)");
  c->add_option("--range", a->ranges, "Allocation range A-B (repeatable; default whole CIDR)")
      ->allow_extra_args(false);
  c->add_option("--reserved", a->reserved, "Reserved address or range A-B (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--tenant", a->tenant, "Tenant");
  c->add_option("--cluster", a->cluster, "Owning cluster / control plane");
  a->vlan_opt = c->add_option("--vlan", a->vlan, "VLAN id")->check(CLI::Range(0, 4094));
  a->vni_opt = c->add_option("--vni", a->vni, "VXLAN VNI")->check(CLI::Range(0, (1 << 24) - 1));
  a->ttl_opt =
      c->add_option("--ttl", a->ttl, "Default lease TTL in seconds")->check(CLI::NonNegativeNumber);
  a->quarantine_opt = c->add_option("--quarantine", a->quarantine, "Quarantine after release, s")
                          ->check(CLI::NonNegativeNumber);
  a->threshold_opt = c->add_option("--threshold", a->threshold, "Utilization alert, 0.01-1.0")
                         ->check(CLI::Range(0.01, 1.0));
  c->add_option("--parent", a->parent, "Parent pool to carve this one from");
  a->prefix_opt = c->add_option("--prefix-length", a->prefix_length,
                                "Carve the next free prefix of this length from --parent")
                      ->check(CLI::Range(0, 128));
  c->add_flag("--auto-expand", a->auto_expand, "Take another prefix from the parent when full");
  a->expand_opt = c->add_option("--expand-prefix-length", a->expand_prefix_length,
                                "Prefix length of each auto-expansion")
                      ->check(CLI::Range(0, 128));
  c->add_option("--enforcement", a->enforcement,
                "Anti-spoofing of its bindings on their nodes (default: each agent's own mode)")
      ->check(CLI::IsMember({"off", "monitor", "enforce"}));
  a->dhcp.add(*c);
  c->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto body = poolCreateBody(*a);
      if (!body) return usageError(err, body.status().message());
      json::value v(std::move(body).value());
      return callAndPrint(*env, out, err, "POST", "/v1/pools", &v, printPoolTable);
    };
  });
}

void addPoolReads(CLI::App& pool, const ClientEnvPtr& env) {
  auto name = std::make_shared<std::string>();
  pool.add_subcommand("list", "List IP pools with utilization")->callback([env] {
    env->action = [env](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/pools", nullptr, printPoolList);
    };
  });
  auto* show = pool.add_subcommand("show", "Show one IP pool");
  show->add_option("name", *name, "Pool name")->required();
  show->callback([env, name] {
    env->action = [env, name](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/pools/" + encodePathSegment(*name), nullptr,
                          printPoolTable);
    };
  });
  auto* del = pool.add_subcommand("delete", "Delete an empty IP pool");
  del->add_option("name", *name, "Pool name")->required();
  del->callback([env, name] {
    env->action = [env, name](std::ostream& out, std::ostream& err) {
      return callAndConfirmDelete(*env, out, err, "/v1/pools/" + encodePathSegment(*name), "pool",
                                  *name);
    };
  });
}

// `pool dhcp NAME [--off | DHCP options]`: replaces the pool's DHCP settings (PATCH).
void addPoolDhcp(CLI::App& pool, const ClientEnvPtr& env) {
  struct Args {
    std::string name;
    bool off = false;
    DhcpArgs dhcp;
  };
  auto a = std::make_shared<Args>();
  auto* c = pool.add_subcommand("dhcp", "Turn a pool's DHCPv4 service on (with settings) or off");
  c->add_option("name", a->name, "Pool name")->required();
  c->add_flag("--off", a->off, "Stop serving the pool by DHCP");
  a->dhcp.add(*c);
  c->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      json::object patch;
      if (a->off && a->dhcp.given()) return usageError(err, "--off: no DHCP settings with it");
      if (a->off) {
        patch["dhcp"] = nullptr;
      } else {
        auto d = dhcpBody(a->dhcp);
        if (!d) return usageError(err, d.status().message());
        patch["dhcp"] = std::move(d).value();
      }
      json::value v(std::move(patch));
      return callAndPrint(*env, out, err, "PATCH", "/v1/pools/" + encodePathSegment(a->name), &v,
                          printPoolTable);
    };
  });
}

struct MacPoolArgs {
  std::string name, prefix, strategy;
  long long quarantine = 0;
  CLI::Option* quarantine_opt = nullptr;
};

Result<json::object> macPoolBody(const MacPoolArgs& a) {
  json::object o;
  o["name"] = a.name;
  if (!a.prefix.empty()) {
    auto p = addr::MacPrefix::parse(a.prefix);
    if (!p) return p.status().withContext("--prefix");
    o["prefix"] = a.prefix;
  }
  if (!a.strategy.empty()) o["strategy"] = a.strategy;
  if (a.quarantine_opt->count() > 0) o["quarantine_s"] = a.quarantine;
  return o;
}

}  // namespace

void addPoolCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* pool = app.add_subcommand("pool", "IP pools: create, list, show, delete, dhcp");
  pool->require_subcommand(1);
  addPoolCreate(*pool, env);
  addPoolReads(*pool, env);
  addPoolDhcp(*pool, env);
}

void addMacPoolCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* macpool = app.add_subcommand("macpool", "MAC pools: create, list, delete");
  macpool->require_subcommand(1);
  auto a = std::make_shared<MacPoolArgs>();

  auto* create = macpool->add_subcommand("create", "Create a MAC pool");
  create->add_option("name", a->name, "MAC pool name")->required();
  create->add_option("--prefix", a->prefix, "OUI or locally administered prefix, e.g. 52:54:00");
  create->add_option("--strategy", a->strategy, "How MACs are chosen")
      ->check(CLI::IsMember({"random", "sequential", "hash"}));
  a->quarantine_opt = create->add_option("--quarantine", a->quarantine, "Quarantine, s")
                          ->check(CLI::NonNegativeNumber);
  create->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto body = macPoolBody(*a);
      if (!body) return usageError(err, body.status().message());
      json::value v(std::move(body).value());
      return callAndPrint(*env, out, err, "POST", "/v1/mac-pools", &v, printMacPool);
    };
  });

  macpool->add_subcommand("list", "List MAC pools")->callback([env] {
    env->action = [env](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/mac-pools", nullptr, printMacPoolList);
    };
  });

  auto* del = macpool->add_subcommand("delete", "Delete an unused MAC pool");
  del->add_option("name", a->name, "MAC pool name")->required();
  del->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndConfirmDelete(*env, out, err, "/v1/mac-pools/" + encodePathSegment(a->name),
                                  "MAC pool", a->name);
    };
  });
}

}  // namespace netledger::cli
