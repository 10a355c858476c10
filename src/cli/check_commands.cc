// `netledger check [--since 24h] [--fix [--dry-run]]`: the ledger against the wire and against
// itself (GET /v1/check, POST /v1/check/fix), like `calicoctl ipam check` with the wire too.
// Exit 1 when anything is found (also when --fix mended it: the report is of what was found).
#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

struct CheckArgs {
  std::string since = "24h";
  int grace_s = 60;
  bool fix = false;
  bool dry_run = false;
};

struct Section {
  const char* key;
  const char* title;
  std::vector<std::string> header;
  std::vector<const char*> fields;
};

const std::vector<Section> kSections = {
    {"leaks",
     "leaks (active bindings not seen on the wire since then)",
     {"BINDING", "INSTANCE", "ADDRESSES", "MAC", "HOST", "STATIC", "LAST SEEN"},
     {"binding_id", "instance", "addresses", "mac", "host", "static", "last_seen"}},
    {"unbound_addresses",
     "unbound addresses (seen on the wire in managed pools, no binding)",
     {"IP", "MAC", "POOL", "HOST", "INTERFACE", "LAST SEEN"},
     {"ip", "mac", "pool", "host", "interface", "last_seen"}},
    {"lingering_leases",
     "lingering leases (the binding ended, its MAC still uses the address)",
     {"IP", "MAC", "BINDING", "INSTANCE", "ENDED", "ENDED AT", "LAST SEEN"},
     {"ip", "mac", "binding_id", "instance", "ended", "ended_at", "last_seen"}},
    {"misplaced_macs",
     "misplaced MACs (seen on another host than their binding's)",
     {"BINDING", "INSTANCE", "MAC", "HOST", "SEEN ON", "INTERFACE", "LAST SEEN"},
     {"binding_id", "instance", "mac", "host", "seen_host", "seen_interface", "last_seen"}},
    {"unswept_leases",
     "unswept leases (past their end, not expired)",
     {"BINDING", "INSTANCE", "EXPIRES"},
     {"binding_id", "instance", "expires_at"}},
    {"overdue_quarantine",
     "overdue quarantine (past its end, still holding the address)",
     {"POOL", "IP", "UNTIL"},
     {"pool", "ip", "until"}},
    {"overlapping_pools",
     "overlapping pools of different clusters",
     {"NETWORK", "POOLS", "CLUSTERS", "CIDRS"},
     {"network", "pools", "clusters", "cidrs"}},
};

void printSection(std::ostream& out, const std::string& title, const json::value& list,
                  const std::vector<std::string>& header, const std::vector<const char*>& fields) {
  const bool empty = !list.is_array() || list.as_array().empty();
  out << '\n' << title << ": " << (empty ? "none" : std::to_string(list.as_array().size())) << '\n';
  if (!empty) printItems(out, json::object{{"items", list}}, header, fields);
}

void printCheck(std::ostream& out, const json::value& r) {
  out << "netledger check: " << cellText(member(r, "findings")) << " findings since "
      << cellText(member(r, "since"))
      << " (wire: " << cellText(member(member(r, "wire"), "sightings")) << " sightings)\n";
  const json::value& unwatched = member(r, "unwatched");
  if (unwatched.is_array() && !unwatched.as_array().empty()) {
    out << "not judged for leaks (no agent heard from all along since then):";
    for (const auto& u : unwatched.as_array()) {
      out << ' ' << cellText(member(u, "host")) << '@' << cellText(member(u, "network"));
    }
    out << '\n';
  }
  const json::value& truncated = member(r, "truncated");
  if (truncated.is_array() && !truncated.as_array().empty()) {
    out << "lists cut at 10,000: " << cellText(truncated) << '\n';
  }
  for (const Section& s : kSections) {
    printSection(out, s.title, member(r, s.key), s.header, s.fields);
  }
  const json::value& alloc = member(r, "allocator");
  printSection(out, "allocator counts against bindings", member(alloc, "count_mismatches"),
               {"POOL", "ALLOCATOR USED", "BOUND"}, {"pool", "allocator_used", "bound"});
  printSection(out, "bound addresses not marked used", member(alloc, "unmarked"),
               {"BINDING", "INSTANCE", "POOL", "IP", "ALLOCATOR STATE"},
               {"binding_id", "instance", "pool", "ip", "allocator_state"});
  const bool applied = member(r, "dry_run").is_bool() && !member(r, "dry_run").as_bool();
  printSection(out, applied ? "fixes made" : "fixes (netledger check --fix makes them)",
               member(r, "fixes"), {"ACTION", "BINDING", "HOST", "APPLIED", "REASON", "ERROR"},
               {"action", "binding_id", "host", "applied", "reason", "error"});
}

int runCheck(const ClientEnv& env, const CheckArgs& a, std::ostream& out, std::ostream& err) {
  if (a.dry_run && !a.fix) return usageError(err, "--dry-run: only with --fix");
  auto since = timeOrAgo("--since", a.since);
  if (!since) return usageError(err, since.status().message());
  ApiReply reply;
  if (a.fix && !a.dry_run) {
    json::value body = json::object{{"since", *since}, {"dry_run", false}, {"grace_s", a.grace_s}};
    reply = callServer(env, "POST", "/v1/check/fix", &body);
  } else {
    reply = callServer(
        env, "GET",
        "/v1/check?since=" + encodeQueryValue(*since) + "&grace_s=" + std::to_string(a.grace_s));
  }
  const int code = printReply(env, out, err, reply, printCheck);
  if (code != kExitOk) return code;
  const json::value& findings = member(reply.body, "findings");
  return findings.is_number() && findings.to_number<double>() > 0 ? kExitFailure : kExitOk;
}

}  // namespace

void addCheckCommand(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<CheckArgs>();
  auto* check = app.add_subcommand(
      "check", "The ledger against the wire and itself: leaks, strangers, drift (exit 1: found)");
  check->add_option("--since", a->since,
                    "Look back this far: 90m, 24h, 7d (at most 7d) or a time (default 24h)");
  check
      ->add_option("--grace", a->grace_s,
                   "Seconds the sweeps may be late before it is a finding (default 60)")
      ->check(CLI::Range(0, 86400));
  check->add_flag("--fix", a->fix, "Release leaks, record migrations, sweep overdue quarantine");
  check->add_flag("--dry-run", a->dry_run, "With --fix: print the changes, make none");
  check->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return runCheck(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
