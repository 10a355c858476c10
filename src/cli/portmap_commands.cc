// `netledger portmap add|list|show|delete` and `netledger portmap range list|set|delete`:
// host ports forwarded to a binding by the node's agent (/v1/portmaps, /v1/portranges).
#include <charconv>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

struct PortMapArgs {
  std::string binding, host_ports, protocol = "tcp", node, host_address, family, id, range;
  std::vector<std::string> reserve;
  int port = 0;
  int count = 0;
  CLI::Option* count_opt = nullptr;
};

std::optional<int> portNumber(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > 65535) {
    return std::nullopt;
  }
  return v;
}

// "8080" or "8080-8089" (what `flag` names in the error).
Result<std::pair<int, int>> portRun(std::string_view text, std::string_view flag) {
  const auto dash = text.find('-');
  auto first = portNumber(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : portNumber(text.substr(dash + 1));
  if (!first || !last || *last < *first) {
    return Status::invalidArgument(std::string(flag) + ": \"" + std::string(text) +
                                   "\" is not a port (1-65535) or a run FIRST-LAST");
  }
  return std::pair{*first, *last};
}

Result<json::object> portMapBody(const PortMapArgs& a) {
  json::object o;
  std::uint64_t binding = 0;
  auto [end, ec] = std::from_chars(a.binding.data(), a.binding.data() + a.binding.size(), binding);
  if (ec != std::errc() || end != a.binding.data() + a.binding.size() || binding == 0) {
    return Status::invalidArgument("BINDING: \"" + a.binding + "\" is not a binding id");
  }
  o["binding_id"] = binding;
  o["port"] = a.port;
  o["protocol"] = a.protocol;
  if (!a.host_ports.empty()) {
    auto run = portRun(a.host_ports, "--host-port");
    if (!run) return run.status();
    o["host_port"] = run->first;
    o["host_port_end"] = run->second;
  }
  if (a.count_opt->count() > 0) o["count"] = a.count;
  if (!a.node.empty()) o["node"] = a.node;
  if (!a.host_address.empty()) o["host_address"] = a.host_address;
  if (!a.family.empty()) o["family"] = a.family;
  return o;
}

std::string hostSide(const json::value& m) {
  std::string ports = cellText(member(m, "host_port"));
  if (cellText(member(m, "host_port_end")) != ports) {
    ports += "-" + cellText(member(m, "host_port_end"));
  }
  const json::value& at = member(m, "host_address");
  return (at.is_string() ? std::string(at.as_string()) : std::string("*")) + ":" + ports;
}

std::vector<std::string> portMapRow(const json::value& m) {
  return {cellText(member(m, "id")),
          cellText(member(m, "node")),
          cellText(member(m, "protocol")),
          hostSide(m),
          cellText(member(m, "binding_id")),
          cellText(member(m, "instance")),
          cellText(member(m, "address")) + ":" + cellText(member(m, "port"))};
}

const std::vector<std::string> kPortMapHeader{"ID",      "NODE",     "PROTO", "HOST",
                                              "BINDING", "INSTANCE", "TO"};

void printPortMap(std::ostream& out, const json::value& m) {
  printTable(out, kPortMapHeader, {portMapRow(m)});
}

void printPortMapList(std::ostream& out, const json::value& body) {
  std::vector<std::vector<std::string>> rows;
  const json::value& list = member(body, "items");
  if (list.is_array()) {
    for (const auto& m : list.as_array()) rows.push_back(portMapRow(m));
  }
  printTable(out, kPortMapHeader, rows);
}

void printRanges(std::ostream& out, const json::value& body) {
  std::vector<std::vector<std::string>> rows;
  const json::value& list = member(body, "items");
  if (list.is_array()) {
    for (const auto& r : list.as_array()) {
      std::string reserved;
      if (const json::value& list = member(r, "reserved"); list.is_array()) {
        for (const auto& p : list.as_array())
          reserved += (reserved.empty() ? "" : ",") + cellText(p);
      }
      rows.push_back({cellText(member(r, "node")),
                      cellText(member(r, "first")) + "-" + cellText(member(r, "last")),
                      reserved.empty() ? "-" : reserved});
    }
  }
  const json::value& d = member(body, "default");
  rows.push_back(
      {"(default)", cellText(member(d, "first")) + "-" + cellText(member(d, "last")), "-"});
  printTable(out, {"NODE", "RANGE", "RESERVED"}, rows);
}

void addPortMapAdd(CLI::App& portmap, const ClientEnvPtr& env,
                   const std::shared_ptr<PortMapArgs>& a) {
  auto* add = portmap.add_subcommand("add", "Forward host ports to a binding");
  add->add_option("binding", a->binding, "Binding id the ports forward to")->required();
  add->add_option("--port", a->port, "The binding's port (a run maps one to one)")
      ->required()
      ->check(CLI::Range(1, 65535));
  add->add_option("--host-port", a->host_ports,
                  "Host port or run FIRST-LAST (default: the first free in the node's range)");
  a->count_opt = add->add_option("--count", a->count, "Ports in an automatic run (default 1)")
                     ->check(CLI::Range(1, 1024));
  add->add_option("--protocol", a->protocol, "tcp, udp or sctp")
      ->check(CLI::IsMember({"tcp", "udp", "sctp"}))
      ->capture_default_str();
  add->add_option("--node", a->node, "Node that forwards (default: the binding's host)");
  add->add_option("--host-address", a->host_address, "Only this host address (default: all)");
  add->add_option("--family", a->family, "ipv4 or ipv6 (default: the host address's, else ipv4)")
      ->check(CLI::IsMember({"ipv4", "ipv6"}));
  add->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto body = portMapBody(*a);
      if (!body) return usageError(err, body.status().message());
      json::value v(std::move(body).value());
      return callAndPrint(*env, out, err, "POST", "/v1/portmaps", &v, printPortMap);
    };
  });
}

void addPortMapReads(CLI::App& portmap, const ClientEnvPtr& env,
                     const std::shared_ptr<PortMapArgs>& a) {
  auto* list = portmap.add_subcommand("list", "List port mappings");
  list->add_option("--node", a->node, "Only this node's");
  list->add_option("--binding", a->binding, "Only this binding's");
  list->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      std::string target = "/v1/portmaps";
      const char* sep = "?";
      if (!a->node.empty()) {
        target += sep + std::string("node=") + encodeQueryValue(a->node);
        sep = "&";
      }
      if (!a->binding.empty())
        target += sep + std::string("binding_id=") + encodeQueryValue(a->binding);
      return callAndPrint(*env, out, err, "GET", target, nullptr, printPortMapList);
    };
  });
  auto* show = portmap.add_subcommand("show", "Show one port mapping");
  show->add_option("id", a->id, "Mapping id (pm-...)")->required();
  show->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/portmaps/" + encodePathSegment(a->id),
                          nullptr, printPortMap);
    };
  });
  auto* del = portmap.add_subcommand("delete", "Stop forwarding: delete a port mapping");
  del->add_option("id", a->id, "Mapping id (pm-...)")->required();
  del->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndConfirmDelete(*env, out, err, "/v1/portmaps/" + encodePathSegment(a->id),
                                  "port mapping", a->id);
    };
  });
}

void addPortRanges(CLI::App& portmap, const ClientEnvPtr& env,
                   const std::shared_ptr<PortMapArgs>& a) {
  auto* range = portmap.add_subcommand("range", "Nodes' ranges for automatic host ports");
  range->require_subcommand(1);
  range->add_subcommand("list", "List the nodes' ranges and the default")->callback([env] {
    env->action = [env](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/portranges", nullptr, printRanges);
    };
  });
  auto* set = range->add_subcommand("set", "Give a node a range of its own (admin)");
  set->add_option("node", a->node, "Node")->required();
  set->add_option("range", a->range, "FIRST-LAST")->required();
  set->add_option("--reserve", a->reserve,
                  "A port or run of the node's own services, never mapped (repeatable)");
  set->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto run = portRun(a->range, "RANGE");
      if (!run) return usageError(err, run.status().message());
      json::array reserved;
      for (const std::string& r : a->reserve) {
        auto ports = portRun(r, "--reserve");
        if (!ports) return usageError(err, ports.status().message());
        reserved.emplace_back(r);
      }
      json::value v(json::object{
          {"first", run->first}, {"last", run->second}, {"reserved", std::move(reserved)}});
      return callAndPrint(*env, out, err, "PUT", "/v1/portranges/" + encodePathSegment(a->node), &v,
                          [](std::ostream& o, const json::value& r) {
                            o << "node " << cellText(member(r, "node")) << ": host ports "
                              << cellText(member(r, "first")) << "-" << cellText(member(r, "last"))
                              << "\n";
                          });
    };
  });
  auto* del = range->add_subcommand("delete", "Back to the default range (admin)");
  del->add_option("node", a->node, "Node")->required();
  del->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndConfirmDelete(*env, out, err, "/v1/portranges/" + encodePathSegment(a->node),
                                  "port range of node", a->node);
    };
  });
}

}  // namespace

void addPortMapCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* portmap =
      app.add_subcommand("portmap", "Host ports forwarded to bindings: add, list, show, delete");
  portmap->require_subcommand(1);
  auto a = std::make_shared<PortMapArgs>();
  addPortMapAdd(*portmap, env, a);
  addPortMapReads(*portmap, env, a);
  addPortRanges(*portmap, env, a);
}

}  // namespace netledger::cli
