// `netledger report [--since 7d] [--until T] [--step 1h] [-o json|html]`: the address-health
// report (GET /v1/reports/health) as a summary, the server's JSON, or one self-contained HTML
// file with charts (report_html.h) that opens offline.
#include <cstdio>
#include <map>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"
#include "cli/report_html.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

struct ReportArgs {
  std::string since = "7d", until, step;
};

double sum(const json::value& series) {
  double total = 0;
  if (series.is_array()) {
    for (const auto& v : series.as_array()) total += v.is_number() ? v.to_number<double>() : 0;
  }
  return total;
}

// A number with `digits` decimals, "-" for null.
std::string decimal(const json::value& v, int digits) {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v.to_number<double>());
  return buf;
}

std::string rate(const json::value& v) {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v.to_number<double>() * 100.0);
  return buf;
}

void printKinds(std::ostream& out, const json::value& c) {
  std::map<std::string, std::vector<std::string>> rows;
  for (const char* which : {"opened", "resolved"}) {
    if (!member(c, which).is_object()) continue;
    for (const auto& [kind, s] : member(c, which).as_object()) {
      auto& row = rows[kind];
      row.resize(5, "0");
      row[0] = kind;
      row[which[0] == 'o' ? 1 : 2] = std::to_string(static_cast<long long>(sum(s)));
    }
  }
  const json::value& by_kind = member(member(c, "time_to_resolve"), "by_kind");
  std::vector<std::vector<std::string>> table;
  for (auto& [kind, row] : rows) {
    row[3] = decimal(member(member(by_kind, kind), "median_s"), 1);
    row[4] = decimal(member(member(by_kind, kind), "p95_s"), 1);
    table.push_back(row);
  }
  printTable(out, {"KIND", "OPENED", "RESOLVED", "MEDIAN S", "P95 S"}, table);
}

void printReport(std::ostream& out, const json::value& r) {
  const json::value& sync = member(r, "sync");
  const json::value& c = member(r, "conflicts");
  out << "address health " << cellText(member(r, "from")) << " to " << cellText(member(r, "to"))
      << "\n\nsync rate " << rate(member(sync, "rate")) << " ("
      << cellText(member(sync, "agreeing")) << " of " << cellText(member(sync, "observed"))
      << " bindings seen on the wire agreed; " << cellText(member(sync, "bindings")) << " active)\n"
      << "conflicts: " << cellText(member(c, "opened_total")) << " opened, "
      << cellText(member(c, "resolved_total")) << " resolved, " << cellText(member(c, "open_now"))
      << " open now; to resolve: median "
      << decimal(member(member(c, "time_to_resolve"), "median_s"), 1) << " s, p95 "
      << decimal(member(member(c, "time_to_resolve"), "p95_s"), 1) << " s\n";
  const json::value& probes = member(r, "probes");
  out << "probes: " << cellText(member(probes, "passed")) << " passed, "
      << cellText(member(probes, "in_use")) << " found in use, "
      << cellText(member(probes, "released_while_probing")) << " released while probing; "
      << cellText(member(member(r, "quarantine"), "entered")) << " addresses quarantined; "
      << cellText(member(member(r, "declines"), "count")) << " DHCP declines\n\n";
  printKinds(out, c);
  for (const char* which : {"flapping", "drifting"}) {
    out << "\n" << which << " MACs:\n";
    printItems(out, json::object{{"items", member(member(r, "macs"), which)}},
               {"MAC", "CONFLICTS", "SIGHTINGS", "LAST SEEN"},
               {"mac", "conflicts", "count", "last_seen"});
  }
  out << "\npools (fullest first):\n";
  printItems(
      out, json::object{{"items", member(r, "pools")}},
      {"POOL", "NETWORK", "UTILIZATION", "USED", "ALLOCATABLE", "PER HOUR", "EXHAUSTED AT"},
      [](const json::value& p) -> std::vector<std::string> {
        return {cellText(member(p, "name")),         cellText(member(p, "network")),
                rate(member(p, "utilization")),      cellText(member(p, "used")),
                cellText(member(p, "allocatable")),  decimal(member(p, "allocations_per_hour"), 1),
                cellText(member(p, "exhaustion_at"))};
      });
}

int runReport(const ClientEnv& env, const ReportArgs& a, std::ostream& out, std::ostream& err) {
  auto from = timeOrAgo("--since", a.since);
  if (!from) return usageError(err, from.status().message());
  std::string target = "/v1/reports/health?from=" + encodeQueryValue(*from);
  if (!a.until.empty()) {
    auto to = timeOrAgo("--until", a.until);
    if (!to) return usageError(err, to.status().message());
    target += "&to=" + encodeQueryValue(*to);
  }
  if (!a.step.empty()) target += "&step_s=" + encodeQueryValue(a.step);
  ApiReply reply = callServer(env, "GET", std::move(target));
  if (!reply.ok()) return reportFailure(err, *reply.failure);
  if (env.format == OutputFormat::kHtml) {
    writeHealthHtml(out, reply.body);
  } else if (env.format == OutputFormat::kJson) {
    out << json::serialize(reply.body) << '\n';
  } else {
    printReport(out, reply.body);
  }
  return kExitOk;
}

}  // namespace

void addReportCommand(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<ReportArgs>();
  auto* report = app.add_subcommand(
      "report", "The address-health report: conflicts, sync rate, MACs, pools (-o json|html)");
  report->add_option("--since", a->since, "From this long ago (7d, 24h) or this time (default 7d)");
  report->add_option("--until", a->until, "Up to this long ago or this time (default now)");
  report->add_option("--step", a->step, "Bucket width in seconds (default 1 h up to 2 d, else 1 d)")
      ->check(CLI::Range(60, 31622400));
  report->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return runReport(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
