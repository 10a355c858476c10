// `netledger observe [FILE]` posts what some other tool saw on the wire (arpwatch converted, a
// switch's MAC table, a script) as observations; `netledger policy show|set` reads and sets what
// the consistency engine does about each kind of conflict.
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

// The server takes at most 10,000 observations in one POST; smaller batches keep each request
// well under its body limit.
constexpr std::size_t kObserveBatch = 5000;

// A JSON array, {"observations": [...]}, or one JSON object per line (NDJSON): what scripts
// write. Each element is sent as it is; the server checks the fields and names them.
Result<json::array> readObservations(std::istream& in, const std::string& name) {
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  json::error_code ec;
  json::value v = json::parse(all, ec);
  if (!ec && v.is_array()) return std::move(v.as_array());
  if (!ec && v.is_object() && member(v, "observations").is_array()) {
    return std::move(v.as_object()["observations"].as_array());
  }
  json::array items;
  std::istringstream lines(all);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json::value item = json::parse(line, ec);
    if (ec || !item.is_object()) {
      return Status::invalidArgument(name + ":" + std::to_string(number) +
                                     ": not a JSON object (give a JSON array, "
                                     "{\"observations\": [...]} or one object per line)");
    }
    items.push_back(std::move(item));
  }
  return items;
}

int postObservations(const ClientEnv& env, const std::string& file, std::ostream& out,
                     std::ostream& err) {
  std::ifstream in_file;
  if (file != "-") {
    in_file.open(file);
    if (!in_file) return usageError(err, "FILE: cannot read \"" + file + "\"");
  }
  auto items = readObservations(file == "-" ? std::cin : in_file, file == "-" ? "stdin" : file);
  if (!items) return usageError(err, items.status().message());
  auto client = ApiClient::open(env.server);
  if (!client) return reportFailure(err, reportFromStatus(client.status()));
  std::size_t accepted = 0;
  for (std::size_t first = 0; first < items->size(); first += kObserveBatch) {
    const std::size_t last = std::min(items->size(), first + kObserveBatch);
    json::value body(
        json::object{{"observations", json::array(items->begin() + first, items->begin() + last)}});
    ApiReply reply = (*client)->call("POST", "/v1/observations", &body);
    if (!reply.ok()) {
      // The server counts within the batch: say where the batch began.
      if (first > 0) err << "netledger: batch from observation " << first << ":\n";
      return reportFailure(err, *reply.failure);
    }
    accepted += static_cast<std::size_t>(member(reply.body, "accepted").to_number<double>());
  }
  if (env.format == OutputFormat::kJson) {
    out << json::serialize(json::object{{"accepted", accepted}}) << '\n';
  } else {
    out << accepted << " observations accepted\n";
  }
  return kExitOk;
}

void printPolicies(std::ostream& out, const json::value& body) {
  std::vector<std::vector<std::string>> rows;
  if (body.is_object()) {
    for (const auto& [kind, policy] : body.as_object()) rows.push_back({kind, cellText(policy)});
  }
  printTable(out, {"KIND", "POLICY"}, rows);
}

int setPolicies(const ClientEnv& env, const std::vector<std::string>& pairs, std::ostream& out,
                std::ostream& err) {
  json::object body;
  for (const auto& p : pairs) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size()) {
      return usageError(err, "KIND=POLICY: \"" + p +
                                 "\" is not kind=policy (e.g. "
                                 "duplicate_ip=alert)");
    }
    body[p.substr(0, eq)] = p.substr(eq + 1);
  }
  json::value v(std::move(body));
  return callAndPrint(env, out, err, "PUT", "/v1/policies", &v, printPolicies);
}

}  // namespace

void addObserveCommand(CLI::App& app, const ClientEnvPtr& env) {
  auto file = std::make_shared<std::string>("-");
  auto* observe = app.add_subcommand(
      "observe", "Post observations (IP, MAC, host, interface, time) from a file or stdin");
  observe->add_option("file", *file, "JSON array, {\"observations\": [...]} or NDJSON; - stdin")
      ->capture_default_str();
  observe->callback([env, file] {
    env->action = [env, file](std::ostream& out, std::ostream& err) {
      return postObservations(*env, *file, out, err);
    };
  });
}

void addPolicyCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* policy = app.add_subcommand("policy", "What the engine does per conflict kind");
  policy->require_subcommand(1);
  policy->add_subcommand("show", "Each conflict kind's policy")->callback([env] {
    env->action = [env](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/policies", nullptr, printPolicies);
    };
  });
  auto pairs = std::make_shared<std::vector<std::string>>();
  auto* set = policy->add_subcommand("set", "Set policies (admin): KIND=POLICY ...");
  set->add_option("pairs", *pairs, "e.g. duplicate_ip=alert mac_drift=record_migration")
      ->required();
  set->callback([env, pairs] {
    env->action = [env, pairs](std::ostream& out, std::ostream& err) {
      return setPolicies(*env, *pairs, out, err);
    };
  });
}

}  // namespace netledger::cli
