#pragma once
// What the client command files (pool_commands.cc, binding_commands.cc, ...) share: the parsed
// connection options, the call-and-print helpers and the table renderers. Internal to src/cli.

#include <functional>
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

// A member of a JSON object, or null.
const boost::json::value& member(const boost::json::value& object, std::string_view key);

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

}  // namespace netledger::cli
