// `netledger import ippool FILE.yaml`: creates the pools of Kubernetes IPPool manifests and CNI
// host-local configs (the conversion is import_ippool.cc) through POST /v1/pools.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"
#include "cli/import_ippool.h"
#include "cli/progress.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

// Progress is worth drawing only for imports that take a moment.
constexpr std::size_t kProgressThreshold = 20;

struct ImportArgs {
  std::string file;
  IppoolImportOptions options;
  bool skip_existing = false;
  bool dry_run = false;
};

Result<std::string> readInput(const std::string& file) {
  std::ostringstream data;
  if (file == "-") {
    data << std::cin.rdbuf();
    return data.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::invalidArgument("cannot read \"" + file + "\"");
  data << in.rdbuf();
  return data.str();
}

void printPlan(std::ostream& out, OutputFormat format, const std::vector<json::object>& pools) {
  if (format == OutputFormat::kJson) {
    json::array items;
    for (const auto& p : pools) items.emplace_back(p);
    out << json::serialize(json::object{{"items", std::move(items)}}) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : pools) {
    json::value v(p);
    const json::value& cidrs =
        member(v, "cidrs").is_null() ? member(v, "cidr") : member(v, "cidrs");
    rows.push_back({cellText(member(v, "name")), cellText(member(v, "network")), cellText(cidrs),
                    cellText(member(v, "gateway")), cellText(member(v, "ranges")),
                    cellText(member(v, "reserved"))});
  }
  printTable(out, {"NAME", "NETWORK", "CIDRS", "GATEWAY", "RANGES", "RESERVED"}, rows);
}

struct ImportTally {
  json::array created, skipped, failed;
};

// Creates one pool. Returns false when the server is unreachable and the import must stop.
bool importOne(ApiClient& client, const ImportArgs& a, const json::object& pool,
               ProgressBar& progress, ImportTally& tally, std::ostream& err) {
  std::string name(pool.at("name").as_string());
  json::value body(pool);
  ApiReply reply = client.call("POST", "/v1/pools", &body);
  if (reply.ok()) {
    tally.created.emplace_back(name);
    return true;
  }
  if (reply.status == 409) {
    // A conflict is either this name (skip it) or an overlap (a failure): ask which.
    ApiReply existing = client.call("GET", "/v1/pools/" + encodePathSegment(name));
    if (existing.ok()) {
      tally.skipped.emplace_back(name);
      if (!a.skip_existing) {
        progress.clear();
        err << "netledger: pool \"" << name << "\" exists; skipped\n";
      }
      return true;
    }
  }
  progress.clear();
  err << "netledger: pool \"" << name << "\": " << reply.failure->message << '\n';
  tally.failed.emplace_back(json::object{{"name", name}, {"error", reply.failure->message}});
  return reply.status != 0;
}

int importPools(const ClientEnv& env, const ImportArgs& a, std::ostream& out, std::ostream& err) {
  auto text = readInput(a.file);
  if (!text) return usageError(err, text.status().message());
  auto pools = poolRequestsFromYaml(*text, a.options);
  if (!pools) return usageError(err, a.file + ": " + pools.status().message());
  if (a.dry_run) {
    printPlan(out, env.format, *pools);
    return kExitOk;
  }
  auto client = ApiClient::open(env.server);
  if (!client) return reportFailure(err, reportFromStatus(client.status()));

  ImportTally tally;
  ProgressBar progress(err, pools->size(), isTerminal(err) && pools->size() > kProgressThreshold);
  for (std::size_t i = 0; i < pools->size(); ++i) {
    const json::object& pool = (*pools)[i];
    progress.update(i, pool.at("name").as_string());
    if (!importOne(**client, a, pool, progress, tally, err)) {
      for (std::size_t j = i + 1; j < pools->size(); ++j) {
        tally.failed.emplace_back(json::object{{"name", (*pools)[j].at("name")},
                                               {"error", "not attempted: server unreachable"}});
      }
      break;
    }
  }
  progress.update(pools->size(), "done");
  progress.clear();

  if (env.format == OutputFormat::kJson) {
    out << json::serialize(json::object{
               {"created", tally.created}, {"skipped", tally.skipped}, {"failed", tally.failed}})
        << '\n';
  } else {
    out << "import: " << tally.created.size() << " created, " << tally.skipped.size()
        << " skipped, " << tally.failed.size() << " failed\n";
  }
  return tally.failed.empty() ? kExitOk : kExitFailure;
}

}  // namespace

void addImportCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* import = app.add_subcommand("import", "Import definitions from other tools");
  import->require_subcommand(1);
  auto a = std::make_shared<ImportArgs>();
  auto* ippool = import->add_subcommand(
      "ippool", "Create pools from Kubernetes IPPool YAML or CNI host-local configs");
  ippool->add_option("file", a->file, "YAML/JSON file with one or more documents ('-': stdin)")
      ->required();
  ippool->add_option("--name", a->options.name,
                     "Pool name for CNI configs (default: the config's name; NAME-0, NAME-1, "
                     "... when one config has several range sets)");
  ippool->add_option("--network", a->options.network, "Network for pools that name none");
  ippool->add_option("--tenant", a->options.tenant, "Tenant for pools that name none");
  ippool->add_flag("--skip-existing", a->skip_existing,
                   "Skip pools that already exist without a message");
  ippool->add_flag("--dry-run", a->dry_run, "Print the pools that would be created; no server");
  ippool->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return importPools(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
