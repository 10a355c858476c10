// `netledger alloc|release|renew|migrate|move`: the life of a binding.
#include <tuple>

#include <boost/json.hpp>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "cli/cli.h"
#include "cli/client_support.h"
#include "common/parse.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

// Binding ids are positive integers; checking here saves a round trip for a typo.
Status checkBindingId(std::string_view what, const std::string& id) {
  auto n = parseUnsigned(what, id);
  if (!n || *n == 0) {
    return Status::invalidArgument(std::string(what) + ": \"" + id.substr(0, 40) +
                                   "\" is not a binding id (a positive integer)");
  }
  return Status::ok();
}

Result<std::string> canonicalMac(std::string_view flag, const std::string& text) {
  auto m = addr::Mac::parse(text);
  if (!m) return m.status().withContext(flag);
  return m->toString();
}

struct AllocArgs {
  std::string instance, interface, address, mac, mac_pool, host, host_mac, service;
  std::vector<std::string> pools, labels;
  long long ttl = 0;
  bool is_static = false;
  bool probe = false;
  int probe_timeout = 0;
  CLI::Option* ttl_opt = nullptr;
  CLI::Option* probe_timeout_opt = nullptr;
};

// The server's default wait for a probe (POST /v1/bindings probe_timeout_s).
constexpr int kServerProbeTimeoutS = 30;

Result<json::object> allocBody(const AllocArgs& a) {
  json::object o;
  o["instance"] = a.instance;
  if (!a.interface.empty()) o["interface"] = a.interface;
  if (!a.pools.empty()) {
    json::array pools;
    for (const auto& p : a.pools) pools.emplace_back(p);
    o["pools"] = std::move(pools);
  }
  if (!a.address.empty()) {
    auto ip = addr::IpAddress::parse(a.address);
    if (!ip) return ip.status().withContext("--address");
    o["address"] = ip->toString();
  }
  if (!a.mac.empty()) {
    auto m = canonicalMac("--mac", a.mac);
    if (!m) return m.status();
    o["mac"] = *m;
  }
  if (!a.mac_pool.empty()) o["mac_pool"] = a.mac_pool;
  if (!a.host.empty()) o["host"] = a.host;
  if (!a.host_mac.empty()) {
    auto m = canonicalMac("--host-mac", a.host_mac);
    if (!m) return m.status();
    o["host_mac"] = *m;
  }
  if (!a.service.empty()) o["service"] = a.service;
  if (!a.labels.empty()) {
    json::object labels;
    for (const auto& l : a.labels) {
      auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Status::invalidArgument("--label: \"" + l + "\" is not key=value");
      }
      labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
    o["labels"] = std::move(labels);
  }
  if (a.ttl_opt->count() > 0) o["ttl_s"] = a.ttl;
  if (a.is_static) o["static"] = true;
  if (a.probe_timeout_opt->count() > 0 && !a.probe) {
    return Status::invalidArgument("--probe-timeout: only with --probe");
  }
  if (a.probe) {
    if (a.host.empty()) {
      return Status::invalidArgument("--probe: needs --host (the host's agent does the probe)");
    }
    o["probe"] = true;
    if (a.probe_timeout_opt->count() > 0) o["probe_timeout_s"] = a.probe_timeout;
  }
  return o;
}

void addAlloc(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<AllocArgs>();
  auto* c = app.add_subcommand("alloc", "Allocate addresses (and a MAC) to an instance");
  c->add_option("instance", a->instance, "Instance (VM, pod, NIC) id")->required();
  c->add_option("--interface", a->interface, "Interface (default eth0)");
  c->add_option("--pool", a->pools, "Pool to take an address from (repeat for dual stack)")
      ->allow_extra_args(false);
  c->add_option("--address", a->address, "A specific address instead of the next free one");
  auto* mac = c->add_option("--mac", a->mac, "Register this MAC");
  c->add_option("--mac-pool", a->mac_pool, "Generate the MAC from this MAC pool")->excludes(mac);
  c->add_option("--host", a->host, "Host (node) the instance runs on");
  c->add_option("--host-mac", a->host_mac, "Physical NIC MAC of the host");
  c->add_option("--service", a->service, "Service / application id");
  c->add_option("--label", a->labels, "Label key=value (repeatable)")->allow_extra_args(false);
  a->ttl_opt = c->add_option("--ttl", a->ttl, "Lease TTL in seconds (0: no expiry)")
                   ->check(CLI::NonNegativeNumber);
  c->add_flag("--static", a->is_static, "Pin the binding: never expires, never auto-moved");
  c->add_flag("--probe", a->probe,
              "Probe before use: the host's agent checks the addresses on the wire first");
  a->probe_timeout_opt =
      c->add_option("--probe-timeout", a->probe_timeout,
                    "Seconds to wait for the probe (1-120, default 30); then the binding is "
                    "shown still reserved")
          ->check(CLI::Range(1, 120));
  c->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto body = allocBody(*a);
      if (!body) return usageError(err, body.status().message());
      json::value v(std::move(body).value());
      ClientEnv call_env = *env;
      if (a->probe) {
        // The server holds the answer back for up to the probe timeout; leave room past it.
        int wait = a->probe_timeout_opt->count() > 0 ? a->probe_timeout : kServerProbeTimeoutS;
        call_env.server.request_timeout = std::chrono::seconds(wait + 15);
      }
      ApiReply reply = callServer(call_env, "POST", "/v1/bindings", &v);
      int code = printReply(call_env, out, err, reply, printBindingTable);
      if (code == kExitOk && reply.status == 202) {
        err << "netledger: no probe outcome within the timeout; binding "
            << cellText(member(reply.body, "id"))
            << " is still reserved (its agent may still activate it)\n";
      }
      return code;
    };
  });
}

struct LifeArgs {
  std::string id, host, host_mac, ip, to;
  long long ttl = 0;
  CLI::Option* ttl_opt = nullptr;
};

int renew(const ClientEnv& env, const LifeArgs& a, std::ostream& out, std::ostream& err) {
  if (a.id.empty() == a.host.empty()) return usageError(err, "renew: give a binding ID or --host");
  if (!a.host.empty()) {
    if (a.ttl_opt->count() > 0) return usageError(err, "--ttl: not with --host");
    return callAndPrint(env, out, err, "POST", "/v1/hosts/" + encodePathSegment(a.host) + "/renew",
                        nullptr, [](std::ostream& o, const json::value& body) {
                          printResult(o, OutputFormat::kTable, body);
                        });
  }
  if (Status s = checkBindingId("ID", a.id); !s) return usageError(err, s.message());
  bool with_ttl = a.ttl_opt->count() > 0;
  json::value body = json::object{{"ttl_s", a.ttl}};
  return callAndPrint(env, out, err, "POST", "/v1/bindings/" + a.id + "/renew",
                      with_ttl ? &body : nullptr, printBindingTable);
}

void addLifeCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<LifeArgs>();

  auto* release = app.add_subcommand("release", "Release a binding (addresses enter quarantine)");
  release->add_option("id", a->id, "Binding id")->required();
  release->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      if (Status s = checkBindingId("ID", a->id); !s) return usageError(err, s.message());
      return callAndPrint(*env, out, err, "DELETE", "/v1/bindings/" + a->id, nullptr,
                          printBindingTable);
    };
  });

  auto* renew_cmd = app.add_subcommand("renew", "Renew a binding's lease, or all of a host's");
  renew_cmd->add_option("id", a->id, "Binding id");
  a->ttl_opt = renew_cmd->add_option("--ttl", a->ttl, "New lease TTL in seconds")
                   ->check(CLI::NonNegativeNumber);
  renew_cmd->add_option("--host", a->host, "Renew every binding of this host (heartbeat)");
  renew_cmd->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return renew(*env, *a, out, err);
    };
  });

  auto* migrate = app.add_subcommand("migrate", "Move a binding to another host (same IP, MAC)");
  migrate->add_option("id", a->id, "Binding id")->required();
  migrate->add_option("--host", a->host, "The new host")->required();
  migrate->add_option("--host-mac", a->host_mac, "Physical NIC MAC on the new host");
  migrate->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      if (Status s = checkBindingId("ID", a->id); !s) return usageError(err, s.message());
      json::object body{{"host", a->host}};
      if (!a->host_mac.empty()) {
        auto m = canonicalMac("--host-mac", a->host_mac);
        if (!m) return usageError(err, m.status().message());
        body["host_mac"] = *m;
      }
      json::value v(std::move(body));
      return callAndPrint(*env, out, err, "POST", "/v1/bindings/" + a->id + "/migrate", &v,
                          printBindingTable);
    };
  });

  auto* move = app.add_subcommand("move", "Move an address to another binding (VIP failover)");
  move->add_option("ip", a->ip, "The address")->required();
  move->add_option("--to", a->to, "Binding id that takes the address")->required();
  move->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto ip = addr::IpAddress::parse(a->ip);
      if (!ip) return usageError(err, ip.status().withContext("IP").message());
      if (Status s = checkBindingId("--to", a->to); !s) return usageError(err, s.message());
      json::value v = json::object{{"to", a->to}};
      return callAndPrint(*env, out, err, "POST",
                          "/v1/addresses/" + encodePathSegment(ip->toString()) + "/move", &v,
                          printBindingTable);
    };
  });
}

struct BindingQueryArgs {
  std::string id, ip, mac, instance, host, pool, state, host_mac, search;
  int limit = 100;
};

void printBindingList(std::ostream& out, const json::value& body) {
  printItems(out, body, {"ID", "INSTANCE", "ADDRESSES", "MAC", "HOST", "STATE", "EXPIRES"},
             {"id", "instance", "addresses", "mac", "host", "state", "expires_at"});
}

int listBindings(const ClientEnv& env, const BindingQueryArgs& a, std::ostream& out,
                 std::ostream& err) {
  std::string ip = a.ip, mac = a.mac;
  if (!ip.empty()) {
    auto parsed = addr::IpAddress::parse(ip);
    if (!parsed) return usageError(err, parsed.status().withContext("--ip").message());
    ip = parsed->toString();
  }
  if (!mac.empty()) {
    auto m = canonicalMac("--mac", mac);
    if (!m) return usageError(err, m.status().message());
    mac = *m;
  }
  ApiReply reply = fetchPages(
      env,
      [&](int page, const std::string& cursor) {
        return "/v1/bindings?limit=" + std::to_string(page) +
               queryPairs({{"ip", &ip},
                           {"mac", &mac},
                           {"instance", &a.instance},
                           {"host", &a.host},
                           {"pool", &a.pool},
                           {"state", &a.state},
                           {"q", &a.search},
                           {"cursor", &cursor}});
      },
      a.limit);
  return printReply(env, out, err, reply, printBindingList);
}

// PATCH /v1/bindings/{id}: the MAC, the host or the host's NIC, as the API allows.
int updateBinding(const ClientEnv& env, const BindingQueryArgs& a, std::ostream& out,
                  std::ostream& err) {
  if (Status s = checkBindingId("ID", a.id); !s) return usageError(err, s.message());
  json::object body;
  for (const auto& [flag, key, value] :
       {std::tuple{"--mac", "mac", &a.mac}, std::tuple{"--host-mac", "host_mac", &a.host_mac}}) {
    if (value->empty()) continue;
    auto m = canonicalMac(flag, *value);
    if (!m) return usageError(err, m.status().message());
    body[key] = *m;
  }
  if (!a.host.empty()) body["host"] = a.host;
  if (body.empty()) return usageError(err, "binding update: give --mac, --host or --host-mac");
  json::value v(std::move(body));
  return callAndPrint(env, out, err, "PATCH", "/v1/bindings/" + a.id, &v, printBindingTable);
}

void addBindingGroup(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<BindingQueryArgs>();
  auto* binding = app.add_subcommand("binding", "Bindings: list (search), show, update");
  binding->require_subcommand(1);
  auto* list = binding->add_subcommand("list", "Search bindings (all filters combine)");
  list->add_option("--ip", a->ip, "Holding this address");
  list->add_option("--mac", a->mac, "Holding this MAC");
  list->add_option("--instance", a->instance, "Of this instance");
  list->add_option("--host", a->host, "On this host");
  list->add_option("--pool", a->pool, "With an address of this pool");
  list->add_option("--state", a->state, "active, reserved, released or expired")
      ->check(CLI::IsMember({"active", "reserved", "released", "expired"}));
  list->add_option("--search", a->search, "Free text in instance, host, labels, ...");
  list->add_option("--limit", a->limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 1000000));
  list->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return listBindings(*env, *a, out, err);
    };
  });
  auto* show = binding->add_subcommand("show", "One binding");
  show->add_option("id", a->id, "Binding id")->required();
  show->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      if (Status s = checkBindingId("ID", a->id); !s) return usageError(err, s.message());
      return callAndPrint(*env, out, err, "GET", "/v1/bindings/" + a->id, nullptr,
                          printBindingTable);
    };
  });
  auto* update = binding->add_subcommand("update", "Change a binding's MAC, host or host NIC");
  update->add_option("id", a->id, "Binding id")->required();
  update->add_option("--mac", a->mac, "The instance's new MAC (a unicast address)");
  update->add_option("--host", a->host, "The host it now runs on");
  update->add_option("--host-mac", a->host_mac, "That host's physical NIC");
  update->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return updateBinding(*env, *a, out, err);
    };
  });
}

}  // namespace

void addBindingCommands(CLI::App& app, const ClientEnvPtr& env) {
  addAlloc(app, env);
  addLifeCommands(app, env);
  addBindingGroup(app, env);
}

}  // namespace netledger::cli
