// `netledger import ippool FILE.yaml`: creates the pools of Kubernetes IPPool manifests and CNI
// host-local configs (the conversion is import_ippool.cc) through POST /v1/pools.
// `netledger import host-local DIR`: creates the bindings of a host-local store (read by
// import_hostlocal.cc) through POST /v1/bindings.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include <boost/json.hpp>

#include "addr/prefix.h"
#include "cli/cli.h"
#include "cli/client_support.h"
#include "cli/import_hostlocal.h"
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

struct HostLocalArgs {
  std::string dir;
  std::vector<std::string> pools;
  std::string host;
  bool dry_run = false;
};

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

// ---------------------------------------------------------------------------------------------
// import host-local

struct PoolPrefixes {
  std::string name;
  std::vector<addr::Prefix> cidrs;
};

// The pools an address may go to: every pool, or those named by --pool (each must exist).
Result<std::vector<PoolPrefixes>> candidatePools(ApiClient& client,
                                                 const std::vector<std::string>& wanted) {
  ApiReply reply = client.call("GET", "/v1/pools");
  if (!reply.ok()) return Status::unavailable(reply.failure->message);
  std::vector<PoolPrefixes> pools;
  for (const auto& item : member(reply.body, "items").as_array()) {
    PoolPrefixes p;
    p.name = std::string(member(item, "name").as_string());
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), p.name) == wanted.end())
      continue;
    if (member(item, "cidrs").is_array()) {
      for (const auto& c : member(item, "cidrs").as_array()) {
        if (auto prefix = addr::Prefix::parse(c.as_string()); prefix) p.cidrs.push_back(*prefix);
      }
    }
    pools.push_back(std::move(p));
  }
  for (const auto& name : wanted) {
    if (std::none_of(pools.begin(), pools.end(), [&](const auto& p) { return p.name == name; })) {
      return Status::notFound("--pool: pool \"" + name + "\" not found");
    }
  }
  return pools;
}

// The most specific pool holding `ip` (a child before its parent), or "".
std::string poolFor(const std::vector<PoolPrefixes>& pools, const addr::IpAddress& ip) {
  std::string best;
  int best_length = -1;
  for (const auto& p : pools) {
    for (const auto& c : p.cidrs) {
      if (c.contains(ip) && c.length() > best_length) {
        best = p.name;
        best_length = c.length();
      }
    }
  }
  return best;
}

bool holds(const json::value& binding, const std::string& ip) {
  const auto& addresses = member(binding, "addresses");
  if (!addresses.is_array()) return false;
  for (const auto& a : addresses.as_array()) {
    if (a.is_string() && a.as_string() == ip) return true;
  }
  return false;
}

struct HostLocalTally {
  json::array imported, unchanged, failed;
};

enum class EntryOutcome { kDone, kUnreachable };

// A container with several addresses (dual stack: one file per address) gets them all on one
// binding. The API allocates one explicit address per binding, so a further address is
// allocated to a helper binding, moved over, and the helper released: all three are audited.
std::optional<std::string> addAddress(ApiClient& client, const json::object& request,
                                      const std::string& id, const std::string& ip,
                                      unsigned& status) {
  json::value helper(request);
  helper.as_object()["instance"] =
      "host-local-import/" + std::string(request.at("instance").as_string());
  ApiReply made = client.call("POST", "/v1/bindings", &helper);
  status = made.status;
  if (!made.ok()) return made.failure->message;
  std::string helper_id(member(made.body, "id").as_string());
  json::value move(json::object{{"to", id}});
  ApiReply moved = client.call("POST", "/v1/addresses/" + encodePathSegment(ip) + "/move", &move);
  status = moved.status;
  ApiReply released = client.call("DELETE", "/v1/bindings/" + helper_id);
  if (!moved.ok()) return moved.failure->message;
  if (!released.ok()) {
    status = released.status;
    return "moved, but the helper binding " + helper_id +
           " was not released: " + released.failure->message;
  }
  return std::nullopt;
}

EntryOutcome importEntry(ApiClient& client, const HostLocalArgs& a,
                         const std::vector<PoolPrefixes>& pools, const HostLocalEntry& e,
                         HostLocalTally& tally, std::ostream& err) {
  const std::string ip = e.address.toString();
  json::object row{{"instance", e.instance}, {"interface", e.interface}, {"address", ip}};
  auto fail = [&](std::string reason) {
    err << "netledger: " << e.file << ": " << reason << '\n';
    row["file"] = e.file;
    row["error"] = std::move(reason);
    tally.failed.emplace_back(std::move(row));
  };
  std::string pool = poolFor(pools, e.address);
  if (pool.empty()) {
    fail(a.pools.empty() ? "no pool contains " + ip + " (create it first: netledger import ippool)"
                         : "none of the --pool pools contains " + ip);
    return EntryOutcome::kDone;
  }
  json::object request{
      {"instance", e.instance}, {"interface", e.interface}, {"pool", pool}, {"address", ip}};
  if (!a.host.empty()) request["host"] = a.host;
  json::value body(request);
  ApiReply reply = client.call("POST", "/v1/bindings", &body);
  if (reply.status == 0) {
    fail(reply.failure->message);
    return EntryOutcome::kUnreachable;
  }
  if (!reply.ok()) {
    fail(reply.failure->message);
    return EntryOutcome::kDone;
  }
  row["id"] = member(reply.body, "id");
  if (reply.status == 201) {
    tally.imported.emplace_back(std::move(row));
  } else if (holds(reply.body, ip)) {
    tally.unchanged.emplace_back(std::move(row));
  } else {
    unsigned status = 0;
    std::string id(member(reply.body, "id").as_string());
    if (auto problem = addAddress(client, request, id, ip, status)) {
      fail(*problem);
      return status == 0 ? EntryOutcome::kUnreachable : EntryOutcome::kDone;
    }
    tally.imported.emplace_back(std::move(row));
  }
  return EntryOutcome::kDone;
}

void printHostLocalPlan(std::ostream& out, OutputFormat format, const HostLocalStore& store) {
  if (format == OutputFormat::kJson) {
    json::array items, problems;
    for (const auto& e : store.entries) {
      items.emplace_back(json::object{{"file", e.file},
                                      {"address", e.address.toString()},
                                      {"instance", e.instance},
                                      {"interface", e.interface}});
    }
    for (const auto& p : store.problems) {
      problems.emplace_back(json::object{{"file", p.file}, {"error", p.reason}});
    }
    out << json::serialize(
               json::object{{"items", std::move(items)}, {"failed", std::move(problems)}})
        << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : store.entries) {
    rows.push_back({e.address.toString(), e.instance, e.interface});
  }
  printTable(out, {"ADDRESS", "INSTANCE", "INTERFACE"}, rows);
}

int importHostLocal(const ClientEnv& env, const HostLocalArgs& a, std::ostream& out,
                    std::ostream& err) {
  auto store = readHostLocalStore(a.dir);
  if (!store) return usageError(err, store.status().message());
  for (const auto& p : store->problems) err << "netledger: " << p.file << ": " << p.reason << '\n';
  if (a.dry_run) {
    printHostLocalPlan(out, env.format, *store);
    return store->problems.empty() ? kExitOk : kExitFailure;
  }
  auto client = ApiClient::open(env.server);
  if (!client) return reportFailure(err, reportFromStatus(client.status()));
  auto pools = candidatePools(**client, a.pools);
  if (!pools) {
    if (pools.status().code() == StatusCode::kNotFound)
      return usageError(err, pools.status().message());
    return reportFailure(err, reportFromStatus(pools.status()));
  }

  HostLocalTally tally;
  for (const auto& p : store->problems) {
    tally.failed.emplace_back(json::object{{"file", p.file}, {"error", p.reason}});
  }
  const auto& entries = store->entries;
  ProgressBar progress(err, entries.size(), isTerminal(err) && entries.size() > kProgressThreshold);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    progress.update(i, entries[i].file);
    if (importEntry(**client, a, *pools, entries[i], tally, err) == EntryOutcome::kUnreachable) {
      for (std::size_t j = i + 1; j < entries.size(); ++j) {
        tally.failed.emplace_back(json::object{{"file", entries[j].file},
                                               {"address", entries[j].address.toString()},
                                               {"error", "not attempted: server unreachable"}});
      }
      break;
    }
  }
  progress.update(entries.size(), "done");
  progress.clear();

  if (env.format == OutputFormat::kJson) {
    out << json::serialize(json::object{{"imported", tally.imported},
                                        {"unchanged", tally.unchanged},
                                        {"failed", tally.failed}})
        << '\n';
  } else {
    out << "import host-local: " << tally.imported.size() << " imported, " << tally.unchanged.size()
        << " unchanged, " << tally.failed.size() << " failed\n";
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

  auto h = std::make_shared<HostLocalArgs>();
  auto* hostlocal =
      import->add_subcommand("host-local",
                             "Create bindings from a CNI host-local store (a directory such as "
                             "/var/lib/cni/networks/NET); re-running skips what is already there");
  hostlocal->add_option("dir", h->dir, "The host-local store directory")->required();
  hostlocal->add_option("--pool", h->pools,
                        "Pool(s) the addresses belong to (repeatable; default: the pool "
                        "containing each address)");
  hostlocal->add_option("--host", h->host, "The node the store belongs to");
  hostlocal->add_flag("--dry-run", h->dry_run, "Print what the store holds; no server");
  hostlocal->callback([env, h] {
    env->action = [env, h](std::ostream& out, std::ostream& err) {
      return importHostLocal(*env, *h, out, err);
    };
  });
}

}  // namespace netledger::cli
