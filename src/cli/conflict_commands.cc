// `netledger conflicts list|show|ack|resolve`: what the consistency engine found (/v1/conflicts),
// with the API's filters, and the operator's two answers to a conflict.
#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

struct ConflictArgs {
  std::string id, status, kind, severity, ip, mac, binding, network, note;
  int limit = 100;
};

// ?status=...&kind=... from the flags that were given, and the page size.
std::string listTarget(const ConflictArgs& a, int page, const std::string& cursor) {
  return "/v1/conflicts?limit=" + std::to_string(page) +
         queryPairs({{"status", &a.status},
                     {"kind", &a.kind},
                     {"severity", &a.severity},
                     {"ip", &a.ip},
                     {"mac", &a.mac},
                     {"binding_id", &a.binding},
                     {"network", &a.network},
                     {"cursor", &cursor}});
}

void printConflictList(std::ostream& out, const json::value& body) {
  printItems(out, body,
             {"ID", "KIND", "SEVERITY", "STATUS", "SUBJECT", "COUNT", "LAST SEEN", "MESSAGE"},
             {"id", "kind", "severity", "status", "subject", "count", "last_seen", "message"});
}

void printConflict(std::ostream& out, const json::value& c) {
  json::object rows;
  for (const char* key : {"id",
                          "kind",
                          "severity",
                          "status",
                          "network",
                          "subject",
                          "ip",
                          "mac",
                          "macs",
                          "binding_id",
                          "pool",
                          "message",
                          "first_seen",
                          "last_seen",
                          "count",
                          "acknowledged_by",
                          "acknowledged_at",
                          "resolved_by",
                          "resolved_at",
                          "resolution"}) {
    const json::value& v = member(c, key);
    if (!v.is_null()) rows[key] = cellText(v);
  }
  printResult(out, OutputFormat::kTable, rows);
  const json::value& evidence = member(c, "evidence");
  if (!evidence.is_array() || evidence.as_array().empty()) return;
  out << "\nevidence:\n";
  std::vector<std::vector<std::string>> lines;
  for (const auto& o : evidence.as_array()) {
    lines.push_back({cellText(member(o, "time")), cellText(member(o, "ip")),
                     cellText(member(o, "mac")), cellText(member(o, "host")),
                     cellText(member(o, "interface")), cellText(member(o, "kind"))});
  }
  printTable(out, {"TIME", "IP", "MAC", "HOST", "INTERFACE", "KIND"}, lines);
}

// Every page up to `limit` conflicts, as one list (the JSON form keeps the API's shape).
int runList(const ClientEnv& env, const ConflictArgs& a, std::ostream& out, std::ostream& err) {
  ApiReply reply = fetchPages(
      env, [&a](int page, const std::string& cursor) { return listTarget(a, page, cursor); },
      a.limit);
  return printReply(env, out, err, reply, printConflictList);
}

void addFilters(CLI::App& list, const std::shared_ptr<ConflictArgs>& a) {
  list.add_option("--status", a->status, "open, acknowledged or resolved")
      ->check(CLI::IsMember({"open", "acknowledged", "resolved"}));
  list.add_option("--kind", a->kind, "duplicate_ip, binding_mismatch, mac_drift, ...");
  list.add_option("--severity", a->severity, "info, warning, high or critical")
      ->check(CLI::IsMember({"info", "warning", "high", "critical"}));
  list.add_option("--ip", a->ip, "Only conflicts about this address");
  list.add_option("--mac", a->mac, "Only conflicts about this MAC");
  list.add_option("--binding", a->binding, "Only conflicts about this binding id");
  list.add_option("--network", a->network, "Only this network's");
  list.add_option("--limit", a->limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 100000));
}

void addTransition(CLI::App& conflicts, const ClientEnvPtr& env,
                   const std::shared_ptr<ConflictArgs>& a, const char* name, const char* what) {
  auto* c = conflicts.add_subcommand(name, what);
  c->add_option("id", a->id, "Conflict id")->required()->check(CLI::PositiveNumber);
  c->add_option("--note", a->note, "Why (recorded with the change)");
  const std::string path = std::string("/") + name;
  c->callback([env, a, path] {
    env->action = [env, a, path](std::ostream& out, std::ostream& err) {
      json::value body(json::object{{"note", a->note}});
      return callAndPrint(*env, out, err, "POST",
                          "/v1/conflicts/" + encodePathSegment(a->id) + path, &body, printConflict);
    };
  });
}

}  // namespace

void addConflictCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* conflicts = app.add_subcommand(
      "conflicts", "What the consistency engine found: list, show, ack, resolve");
  conflicts->require_subcommand(1);
  auto a = std::make_shared<ConflictArgs>();
  auto* list =
      conflicts->add_subcommand("list", "List conflicts, filtered as the API filters them");
  addFilters(*list, a);
  list->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return runList(*env, *a, out, err);
    };
  });
  auto* show = conflicts->add_subcommand("show", "One conflict with its evidence");
  show->add_option("id", a->id, "Conflict id")->required()->check(CLI::PositiveNumber);
  show->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/conflicts/" + encodePathSegment(a->id),
                          nullptr, printConflict);
    };
  });
  addTransition(*conflicts, env, a, "ack", "Acknowledge a conflict (someone is on it)");
  addTransition(*conflicts, env, a, "resolve", "Resolve a conflict");
}

}  // namespace netledger::cli
