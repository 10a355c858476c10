// `netledger who-has IP|MAC` and `netledger history IP|MAC|INSTANCE`: who holds what, now and
// over time.
#include <boost/json.hpp>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

// What a subject given on the command line is: the query parameter name and canonical text.
struct Subject {
  std::string kind;  // "ip", "mac" or "instance"
  std::string text;
};

// An address if it parses as one, else a MAC, else (when allowed) an instance name. IPv6 text
// needs "::" or eight groups and MACs have six, so the two never both parse.
std::optional<Subject> classify(const std::string& text, bool allow_instance) {
  if (auto ip = addr::IpAddress::parse(text)) return Subject{"ip", ip->toString()};
  if (auto mac = addr::Mac::parse(text)) return Subject{"mac", mac->toString()};
  if (allow_instance && !text.empty()) return Subject{"instance", text};
  return std::nullopt;
}

std::string historyTarget(const Subject& subject, const std::string& at, const std::string& from,
                          const std::string& to, int limit) {
  std::string q = "/v1/history?" + subject.kind + "=" + encodeQueryValue(subject.text);
  if (!at.empty()) q += "&at=" + encodeQueryValue(at);
  if (!from.empty()) q += "&from=" + encodeQueryValue(from);
  if (!to.empty()) q += "&to=" + encodeQueryValue(to);
  if (limit > 0) q += "&limit=" + std::to_string(limit);
  return q;
}

void printTimeline(std::ostream& out, const json::value& body) {
  const json::value& entries = member(body, "entries");
  if (!entries.is_array() || entries.as_array().empty()) {
    out << "no history for " << cellText(member(body, "key")) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries.as_array()) {
    rows.push_back({cellText(member(e, "time")), cellText(member(e, "op")),
                    cellText(member(e, "actor")), cellText(member(e, "instance")),
                    cellText(member(e, "mac")), cellText(member(e, "host")),
                    cellText(member(e, "addresses"))});
  }
  printTable(out, {"TIME", "OP", "ACTOR", "INSTANCE", "MAC", "HOST", "ADDRESSES"}, rows);
}

void printHolderAt(std::ostream& out, const json::value& body) {
  const json::value& h = member(body, "holder");
  json::object rows;
  rows["key"] = cellText(member(body, "key"));
  rows["at"] = cellText(member(body, "at"));
  for (const char* key :
       {"binding_id", "instance", "interface", "mac", "host", "addresses", "since"}) {
    rows[key] = cellText(member(h, key));
  }
  rows["last_change"] = cellText(member(h, "op")) + " at " + cellText(member(h, "time")) + " by " +
                        cellText(member(h, "actor"));
  printResult(out, OutputFormat::kTable, rows);
}

struct LookupArgs {
  std::string subject, at, from, to;
  int limit = 0;
};

struct AuditArgs {
  std::string subject, op, actor, from, to;
  int limit = 100;
};

void printAudit(std::ostream& out, const json::value& body) {
  printItems(out, body, {"SEQ", "TIME", "ACTOR", "OP", "SUBJECT"},
             {"seq", "time", "actor", "op", "subject"});
}

// Newest first, following the API's cursor over as many pages as --limit asks for.
int runAudit(const ClientEnv& env, const AuditArgs& a, std::ostream& out, std::ostream& err) {
  Subject subject;
  if (!a.subject.empty()) subject = *classify(a.subject, true);
  const std::string ip = subject.kind == "ip" ? subject.text : "";
  const std::string mac = subject.kind == "mac" ? subject.text : "";
  const std::string instance = subject.kind == "instance" ? subject.text : "";
  ApiReply reply = fetchPages(
      env,
      [&](int page, const std::string& cursor) {
        return "/v1/audit?limit=" + std::to_string(page) +
               queryPairs({{"ip", &ip},
                           {"mac", &mac},
                           {"instance", &instance},
                           {"op", &a.op},
                           {"actor", &a.actor},
                           {"from", &a.from},
                           {"to", &a.to},
                           {"cursor", &cursor}});
      },
      a.limit);
  return printReply(env, out, err, reply, printAudit);
}

}  // namespace

void addAuditCommand(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<AuditArgs>();
  auto* audit =
      app.add_subcommand("audit", "The audit log: every change, who made it, newest first");
  audit->add_option("subject", a->subject, "Only changes of this IP address, MAC or instance");
  audit->add_option("--op", a->op, "Only this operation (binding.allocate, pool.update, ...)");
  audit->add_option("--actor", a->actor, "Only changes made by this actor (token name, agent)");
  audit->add_option("--from", a->from, "From this time (RFC 3339 or unix s)");
  audit->add_option("--to", a->to, "Up to this time");
  audit->add_option("--limit", a->limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 1000000));
  audit->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return runAudit(*env, *a, out, err);
    };
  });
}

void addLookupCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto a = std::make_shared<LookupArgs>();

  auto* who = app.add_subcommand("who-has", "The binding that holds an IP address or a MAC now");
  who->add_option("subject", a->subject, "IP address or MAC")->required();
  who->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto s = classify(a->subject, false);
      if (!s) return usageError(err, "\"" + a->subject + "\" is neither an IP address nor a MAC");
      std::string path = s->kind == "ip" ? "/v1/addresses/" : "/v1/macs/";
      return callAndPrint(*env, out, err, "GET", path + encodePathSegment(s->text), nullptr,
                          printBindingTable);
    };
  });

  auto* history = app.add_subcommand(
      "history", "Lineage of an IP, MAC or instance, or who held it at a point in time");
  history->add_option("subject", a->subject, "IP address, MAC or instance id")->required();
  auto* at = history->add_option("--at", a->at, "Who held it at this time (RFC 3339 or unix s)");
  history->add_option("--from", a->from, "Lineage from this time")->excludes(at);
  history->add_option("--to", a->to, "Lineage up to this time")->excludes(at);
  history->add_option("--limit", a->limit, "At most this many entries (server default 1000)")
      ->check(CLI::Range(1, 10000));
  history->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      auto s = classify(a->subject, true);
      if (!s) return usageError(err, "history: the subject is empty");
      bool point = !a->at.empty();
      return callAndPrint(*env, out, err, "GET", historyTarget(*s, a->at, a->from, a->to, a->limit),
                          nullptr, point ? TableRenderer(printHolderAt) : printTimeline);
    };
  });
}

}  // namespace netledger::cli
