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

}  // namespace

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
