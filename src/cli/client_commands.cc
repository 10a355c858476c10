#include "cli/client_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"
#include "common/parse.h"

namespace netledger::cli {

namespace json = boost::json;

int usageError(std::ostream& err, std::string_view message) {
  err << "netledger: " << message << '\n';
  return kExitUsage;
}

int reportFailure(std::ostream& err, const FailureReport& report) {
  err << "netledger: " << report.message << '\n';
  return report.exit_code;
}

ApiReply callServer(const ClientEnv& env, std::string_view method, std::string target,
                    const json::value* body) {
  auto client = ApiClient::open(env.server);
  if (!client) {
    ApiReply reply;
    reply.failure = reportFromStatus(client.status());
    return reply;
  }
  return (*client)->call(method, std::move(target), body);
}

int printReply(const ClientEnv& env, std::ostream& out, std::ostream& err, const ApiReply& reply,
               const TableRenderer& table) {
  if (!reply.ok()) return reportFailure(err, *reply.failure);
  if (env.format == OutputFormat::kJson) {
    out << json::serialize(reply.body) << '\n';
  } else {
    table(out, reply.body);
  }
  return kExitOk;
}

int callAndPrint(const ClientEnv& env, std::ostream& out, std::ostream& err,
                 std::string_view method, std::string target, const json::value* body,
                 const TableRenderer& table) {
  return printReply(env, out, err, callServer(env, method, std::move(target), body), table);
}

int callAndConfirmDelete(const ClientEnv& env, std::ostream& out, std::ostream& err,
                         std::string target, std::string_view what, std::string_view name) {
  ApiReply reply = callServer(env, "DELETE", std::move(target));
  if (!reply.ok()) return reportFailure(err, *reply.failure);
  if (env.format == OutputFormat::kJson) {
    out << json::serialize(json::object{{"name", name}, {"deleted", true}}) << '\n';
  } else {
    out << what << " \"" << name << "\" deleted\n";
  }
  return kExitOk;
}

ApiReply fetchPages(const ClientEnv& env, const PageTarget& target, int limit) {
  auto client = ApiClient::open(env.server);
  if (!client) {
    ApiReply reply;
    reply.failure = reportFromStatus(client.status());
    return reply;
  }
  json::array all;
  std::string cursor;
  ApiReply reply;
  do {
    const int page = std::min(1000, limit - static_cast<int>(all.size()));
    reply = (*client)->call("GET", target(page, cursor));
    if (!reply.ok()) return reply;
    if (const json::value& items = member(reply.body, "items"); items.is_array()) {
      for (const auto& item : items.as_array()) all.push_back(item);
    }
    const json::value& next = member(reply.body, "next_cursor");
    cursor = next.is_string() ? std::string(next.as_string()) : std::string();
  } while (!cursor.empty() && static_cast<int>(all.size()) < limit);
  reply.body = json::object{{"items", std::move(all)},
                            {"next_cursor", cursor.empty() ? json::value() : json::value(cursor)}};
  return reply;
}

Result<std::string> timeOrAgo(std::string_view flag, const std::string& text) {
  static const std::pair<char, long long> kUnits[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
  for (const auto& [unit, seconds] : kUnits) {
    if (text.size() < 2) break;
    if (text.back() != unit) continue;
    auto n = parseUnsigned(flag, std::string_view(text).substr(0, text.size() - 1));
    if (!n) return n.status();
    if (*n > 1'000'000'000) return Status::invalidArgument(std::string(flag) + ": too far back");
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    return std::to_string(now - static_cast<long long>(*n) * seconds);
  }
  // Unix seconds, or what starts like RFC 3339 (the server reads the rest).
  const bool digits =
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  const bool rfc3339 = text.size() >= 11 && text[4] == '-' && text[7] == '-' &&
                       (text[10] == 'T' || text[10] == 't' || text[10] == ' ');
  if (!digits && !rfc3339) {
    return Status::invalidArgument(std::string(flag) + ": \"" + text.substr(0, 40) +
                                   "\" is not a duration (90m, 24h, 7d), an RFC 3339 time or unix "
                                   "seconds");
  }
  return text;
}

void printItems(std::ostream& out, const json::value& body, const std::vector<std::string>& header,
                const RowOf& row) {
  std::vector<std::vector<std::string>> rows;
  if (const json::value& items = member(body, "items"); items.is_array()) {
    for (const auto& item : items.as_array()) rows.push_back(row(item));
  }
  printTable(out, header, rows);
}

void printItems(std::ostream& out, const json::value& body, const std::vector<std::string>& header,
                const std::vector<const char*>& keys) {
  printItems(out, body, header, [&keys](const json::value& item) {
    std::vector<std::string> row;
    for (const char* key : keys) row.push_back(cellText(member(item, key)));
    return row;
  });
}

std::string queryPairs(std::initializer_list<std::pair<const char*, const std::string*>> pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!value->empty()) out += std::string("&") + key + "=" + encodeQueryValue(*value);
  }
  return out;
}

const json::value& member(const json::value& object, std::string_view key) {
  static const json::value kNull;
  if (!object.is_object()) return kNull;
  auto it = object.as_object().find(key);
  return it == object.as_object().end() ? kNull : it->value();
}

namespace {

std::string percent(const json::value& fraction) {
  if (!fraction.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction.to_number<double>() * 100.0);
  return buf;
}

// Prints `fields` of `record` (JSON key, shown key) as aligned "key  value" rows.
void printFields(std::ostream& out, const json::value& record,
                 std::initializer_list<std::pair<const char*, const char*>> fields) {
  json::object rows;
  for (const auto& [key, shown] : fields) rows[shown] = cellText(member(record, key));
  printResult(out, OutputFormat::kTable, rows);
}

}  // namespace

void printBindingTable(std::ostream& out, const json::value& binding) {
  printFields(out, binding,
              {{"id", "id"},
               {"instance", "instance"},
               {"interface", "interface"},
               {"addresses", "addresses"},
               {"mac", "mac"},
               {"mac_pool", "mac_pool"},
               {"host", "host"},
               {"host_mac", "host_mac"},
               {"service", "service"},
               {"tenant", "tenant"},
               {"labels", "labels"},
               {"state", "state"},
               {"static", "static"},
               {"expires_at", "expires_at"},
               {"created_at", "created_at"},
               {"updated_at", "updated_at"}});
}

// "off", or "lease 3600s, dns 192.0.2.53, domain example.test, probe".
std::string dhcpSummary(const json::value& d) {
  if (!d.is_object() || !member(d, "enabled").is_bool() || !member(d, "enabled").as_bool())
    return "off";
  std::string s = "lease " + cellText(member(d, "lease_s")) + "s";
  for (const char* key : {"dns_servers", "ntp_servers"}) {
    const json::value& list = member(d, key);
    if (list.is_array() && !list.as_array().empty())
      s += std::string(", ") + (key[0] == 'd' ? "dns " : "ntp ") + cellText(list);
  }
  if (member(d, "domain").is_string()) s += ", domain " + cellText(member(d, "domain"));
  if (member(d, "probe").is_bool() && member(d, "probe").as_bool()) s += ", probe";
  return s;
}

void printPoolTable(std::ostream& out, const json::value& pool) {
  json::object rows;
  for (const char* key : {"name", "network", "cidrs", "gateway", "ranges", "reserved", "tenant",
                          "cluster", "vlan", "vni", "parent", "children", "auto_expand",
                          "default_ttl_s", "quarantine_s", "enforcement"}) {
    rows[key] = cellText(member(pool, key));
  }
  rows["threshold"] = percent(member(pool, "threshold"));
  const json::value& u = member(pool, "utilization");
  for (const char* key : {"size", "allocatable", "used", "free"}) {
    rows[key] = cellText(member(u, key));
  }
  rows["reserved_addresses"] = cellText(member(u, "reserved"));
  rows["quarantined"] = cellText(member(u, "quarantined"));
  rows["utilization"] = percent(member(u, "utilization"));
  rows["alert"] = cellText(member(pool, "alert"));
  rows["bindings"] = cellText(member(pool, "bindings"));
  rows["dhcp"] = dhcpSummary(member(pool, "dhcp"));
  printResult(out, OutputFormat::kTable, rows);
}

void addClientCommands(CLI::App& app, const OutputFormat& format, CommandAction& action) {
  auto env = std::make_shared<ClientEnv>(ClientEnv{format, action, {}});
  const std::string group = "Server connection";
  app.add_option("--server", env->server.server,
                 "netledgerd URL (default $NETLEDGER_URL, else http://127.0.0.1:8080)")
      ->group(group);
  auto* token = app.add_option("--token", env->server.token, "API token (default $NETLEDGER_TOKEN)")
                    ->group(group);
  app.add_option("--token-file", env->server.token_file, "Read the API token from this file")
      ->group(group)
      ->excludes(token);
  app.add_flag("--insecure", env->server.insecure, "https: do not verify the server certificate")
      ->group(group);

  addPoolCommands(app, env);
  addMacPoolCommands(app, env);
  addBindingCommands(app, env);
  addLookupCommands(app, env);
  addTokenCommands(app, env);
  addSnapshotCommands(app, env);
  addImportCommands(app, env);
  addPcapCommands(app, env);
  addScanCommands(app, env);
  addPortMapCommands(app, env);
  addConflictCommands(app, env);
  addPolicyCommands(app, env);
  addObserveCommand(app, env);
  addEventCommands(app, env);
  addWebhookCommands(app, env);
  addAuditCommand(app, env);
  addCheckCommand(app, env);
  addReportCommand(app, env);
  addCompletionCommand(app, env);
}

}  // namespace netledger::cli
