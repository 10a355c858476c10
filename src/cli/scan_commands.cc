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
  std::string pool, via, id;
  int limit = 100;
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

// A size, or "-" while the scan is not done.
std::string listSize(const json::value& list) {
  return list.is_array() ? std::to_string(list.as_array().size()) : "-";
}

void printScanList(std::ostream& out, const json::value& body) {
  printItems(
      out, body,
      {"ID", "POOL", "VIA", "STATE", "ADDRESSES", "ANSWERED", "UNKNOWN", "SILENT", "CREATED"},
      [](const json::value& s) -> std::vector<std::string> {
        return {cellText(member(s, "id")),
                cellText(member(s, "pool")),
                cellText(member(s, "via")),
                cellText(member(s, "state")),
                cellText(member(s, "address_count")),
                cellText(member(s, "answered_count")),
                listSize(member(s, "unknown_stations")),
                listSize(member(s, "silent_bindings")),
                cellText(member(s, "created_at"))};
      });
}

// A pending scan has no result to show yet: its request is shown instead.
void printScan(std::ostream& out, const json::value& scan) {
  if (cellText(member(scan, "state")) == "done") return printScanResult(out, scan);
  printScanList(out, json::object{{"items", json::array{scan}}});
}

void addScanReads(CLI::App& scan, const ClientEnvPtr& env, const std::shared_ptr<ScanArgs>& a) {
  auto* list = scan.add_subcommand("list", "Recent scans, newest first");
  list->add_option("--limit", a->limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 1000));
  list->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/scans?limit=" + std::to_string(a->limit),
                          nullptr, printScanList);
    };
  });
  auto* show = scan.add_subcommand("show", "One scan and what the ledger made of it");
  show->add_option("id", a->id, "Scan id")->required();
  show->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/scans/" + encodePathSegment(a->id), nullptr,
                          printScan);
    };
  });
}

void addScanRunOptions(CLI::App& c, const std::shared_ptr<ScanArgs>& a) {
  c.add_option("pool", a->pool, "Pool to scan (at most 65,536 addresses)");
  c.add_option("--via", a->via, "Node whose agent scans");
  a->rate_opt = c.add_option("--rate", a->rate, "Probes per second (1-10000, default 100)")
                    ->check(CLI::Range(1, 10000));
  c.add_option("--timeout", a->timeout_s, "Seconds to wait for the result (default 120)")
      ->check(CLI::Range(1, 86400));
}

}  // namespace

// `scan run POOL --via NODE`, or `scan POOL --via NODE` as before `list` and `show` existed.
void addScanCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<ScanArgs>();
  auto* c = app.add_subcommand(
      "scan", "Have a node's agent probe every address of a pool and compare with the ledger");
  addScanRunOptions(*c, a);
  auto* run = c->add_subcommand("run", "Scan a pool now and wait for the result");
  run->add_option("pool", a->pool, "Pool to scan (at most 65,536 addresses)")->required();
  run->add_option("--via", a->via, "Node whose agent scans")->required();
  addScanReads(*c, env, a);
  c->callback([env, a, c] {
    if (!c->get_subcommands().empty() && !c->got_subcommand("run")) return;
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      if (a->pool.empty())
        return usageError(err, "scan: pool is required (scan run POOL --via NODE)");
      if (a->via.empty()) return usageError(err, "scan: --via is required");
      return runScan(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
