// `netledger scan POOL --via NODE`: asks a node's agent to probe every address of a pool, waits
// for the result and shows what the ledger makes of it (stations where no binding should be,
// bindings that stayed silent).
#include <chrono>
#include <thread>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);

struct ScanArgs {
  std::string pool, via;
  int rate = 0;
  int timeout_s = 120;
  CLI::Option* rate_opt = nullptr;
};

void printScanResult(std::ostream& out, const json::value& scan) {
  out << "scan " << cellText(member(scan, "id")) << " of pool " << cellText(member(scan, "pool"))
      << " via " << cellText(member(scan, "via")) << ": " << cellText(member(scan, "probed"))
      << " probed, " << cellText(member(scan, "answered_count")) << " answered\n";
  const json::value& unknown = member(scan, "unknown_stations");
  out << "\nunknown stations (answered, no binding holds the address): ";
  if (!unknown.is_array() || unknown.as_array().empty()) {
    out << "none\n";
  } else {
    out << unknown.as_array().size() << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : unknown.as_array()) {
      rows.push_back({cellText(member(s, "ip")), cellText(member(s, "mac"))});
    }
    printTable(out, {"IP", "MAC"}, rows);
  }
  const json::value& silent = member(scan, "silent_bindings");
  out << "\nsilent bindings (active, did not answer): ";
  if (!silent.is_array() || silent.as_array().empty()) {
    out << "none\n";
  } else {
    out << silent.as_array().size() << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : silent.as_array()) {
      rows.push_back({cellText(member(b, "id")), cellText(member(b, "instance")),
                      cellText(member(b, "ip")), cellText(member(b, "mac"))});
    }
    printTable(out, {"ID", "INSTANCE", "IP", "MAC"}, rows);
  }
}

int runScan(const ClientEnv& env, const ScanArgs& a, std::ostream& out, std::ostream& err) {
  auto client = ApiClient::open(env.server);
  if (!client) return reportFailure(err, reportFromStatus(client.status()));
  json::object request{{"pool", a.pool}, {"via", a.via}};
  if (a.rate_opt->count() > 0) request["rate_per_s"] = a.rate;
  json::value body(std::move(request));
  ApiReply created = (*client)->call("POST", "/v1/scans", &body);
  if (!created.ok()) return reportFailure(err, *created.failure);
  const std::string id = cellText(member(created.body, "id"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout_s);
  ApiReply current = std::move(created);
  while (cellText(member(current.body, "state")) != "done") {
    if (std::chrono::steady_clock::now() >= deadline) {
      err << "netledger: scan " << id << " of pool \"" << a.pool << "\" is not done after "
          << a.timeout_s << " s (state " << cellText(member(current.body, "state"))
          << "); is the agent on \"" << a.via << "\" running? (timeout)\n";
      return kExitFailure;
    }
    std::this_thread::sleep_for(kPollInterval);
    current = (*client)->call("GET", "/v1/scans/" + encodePathSegment(id));
    if (!current.ok()) return reportFailure(err, *current.failure);
  }
  if (env.format == OutputFormat::kJson) {
    out << json::serialize(current.body) << '\n';
  } else {
    printScanResult(out, current.body);
  }
  return kExitOk;
}

}  // namespace

void addScanCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<ScanArgs>();
  auto* c = app.add_subcommand(
      "scan", "Have a node's agent probe every address of a pool and compare with the ledger");
  c->add_option("pool", a->pool, "Pool to scan (at most 65,536 addresses)")->required();
  c->add_option("--via", a->via, "Node whose agent scans")->required();
  a->rate_opt = c->add_option("--rate", a->rate, "Probes per second (1-10000, default 100)")
                    ->check(CLI::Range(1, 10000));
  c->add_option("--timeout", a->timeout_s, "Seconds to wait for the result (default 120)")
      ->check(CLI::Range(1, 86400));
  c->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return runScan(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
