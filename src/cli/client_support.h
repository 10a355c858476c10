#pragma once
// What the client command files (pool_commands.cc, binding_commands.cc, ...) share: the parsed
// connection options, the call-and-print helpers and the table renderers. Internal to src/cli.

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <boost/json/value.hpp>

#include "cli/api_client.h"
#include "cli/calc_commands.h"
#include "cli/output.h"

namespace netledger::cli {

// State shared by the client commands of one runCli: `format` and `action` belong to runCli,
// `server` is filled by the connection options.
struct ClientEnv {
  const OutputFormat& format;
  CommandAction& action;
  ServerOptions server;
};
using ClientEnvPtr = std::shared_ptr<ClientEnv>;

// Prints "netledger: <message>" on `err` and returns kExitUsage: for local usage errors.
int usageError(std::ostream& err, std::string_view message);
// Prints "netledger: <report.message>" on `err` and returns the report's exit code.
int reportFailure(std::ostream& err, const FailureReport& report);

// Opens a client from env.server and sends one request (see ApiClient::call).
ApiReply callServer(const ClientEnv& env, std::string_view method, std::string target,
                    const boost::json::value* body = nullptr);

using TableRenderer = std::function<void(std::ostream& out, const boost::json::value& body)>;

// Prints a reply: the failure on `err`, or the server's JSON (-o json) or `table` on `out`.
// Returns the exit code.
int printReply(const ClientEnv& env, std::ostream& out, std::ostream& err, const ApiReply& reply,
               const TableRenderer& table);

// callServer + printReply.
int callAndPrint(const ClientEnv& env, std::ostream& out, std::ostream& err,
                 std::string_view method, std::string target, const boost::json::value* body,
                 const TableRenderer& table);

// For DELETE-style calls answered with 204: prints "<what> deleted" or {"name":..,"deleted":true}.
int callAndConfirmDelete(const ClientEnv& env, std::ostream& out, std::ostream& err,
                         std::string target, std::string_view what, std::string_view name);

// The target of one page of a list route: at most `page_size` items after `cursor` ("" for the
// first page).
using PageTarget = std::function<std::string(int page_size, const std::string& cursor)>;
// GETs pages, following next_cursor, until `limit` items or the last page. The body keeps the
// API's list shape: {"items": [...], "next_cursor": <where to go on from, or null>}.
ApiReply fetchPages(const ClientEnv& env, const PageTarget& target, int limit);

// A time argument: "90s", "30m", "24h", "7d", "2w" become the unix time that long ago (as
// text); anything else is passed on as it is (RFC 3339 or unix seconds) for the server to read.
// invalid_argument naming `flag` for a malformed number.
Result<std::string> timeOrAgo(std::string_view flag, const std::string& text);

// "&key=value" for each pair whose value is not empty, values percent-encoded.
std::string queryPairs(std::initializer_list<std::pair<const char*, const std::string*>> pairs);

// A member of a JSON object, or null.
const boost::json::value& member(const boost::json::value& object, std::string_view key);

// Prints body["items"] as a table under `header`, one row per item (list routes' shape).
using RowOf = std::function<std::vector<std::string>(const boost::json::value& item)>;
void printItems(std::ostream& out, const boost::json::value& body,
                const std::vector<std::string>& header, const RowOf& row);
// The same when each column is one member of the item (cellText of it).
void printItems(std::ostream& out, const boost::json::value& body,
                const std::vector<std::string>& header, const std::vector<const char*>& keys);

// Table renderers shared by several commands.
void printBindingTable(std::ostream& out, const boost::json::value& binding);
void printPoolTable(std::ostream& out, const boost::json::value& pool);

// Command groups (one file each).
void addPoolCommands(CLI::App& app, const ClientEnvPtr& env);
void addMacPoolCommands(CLI::App& app, const ClientEnvPtr& env);
void addBindingCommands(CLI::App& app, const ClientEnvPtr& env);
void addLookupCommands(CLI::App& app, const ClientEnvPtr& env);
void addTokenCommands(CLI::App& app, const ClientEnvPtr& env);
void addSnapshotCommands(CLI::App& app, const ClientEnvPtr& env);
void addImportCommands(CLI::App& app, const ClientEnvPtr& env);
void addPcapCommands(CLI::App& app, const ClientEnvPtr& env);
void addScanCommands(CLI::App& app, const ClientEnvPtr& env);
void addPortMapCommands(CLI::App& app, const ClientEnvPtr& env);
void addConflictCommands(CLI::App& app, const ClientEnvPtr& env);
void addPolicyCommands(CLI::App& app, const ClientEnvPtr& env);
void addObserveCommand(CLI::App& app, const ClientEnvPtr& env);
void addEventCommands(CLI::App& app, const ClientEnvPtr& env);
void addWebhookCommands(CLI::App& app, const ClientEnvPtr& env);
void addAuditCommand(CLI::App& app, const ClientEnvPtr& env);
void addCheckCommand(CLI::App& app, const ClientEnvPtr& env);
void addReportCommand(CLI::App& app, const ClientEnvPtr& env);
void addCompletionCommand(CLI::App& app, const ClientEnvPtr& env);

}  // namespace netledger::cli
