// `netledger token ...` and `netledger snapshot create`: administration.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/client_support.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

void printTokenList(std::ostream& out, const json::value& body) {
  std::vector<std::vector<std::string>> rows;
  const json::value& items = member(body, "items");
  if (items.is_array()) {
    for (const auto& t : items.as_array()) {
      rows.push_back({cellText(member(t, "name")), cellText(member(t, "role")),
                      cellText(member(t, "tenants")), cellText(member(t, "created_at"))});
    }
  }
  printTable(out, {"NAME", "ROLE", "TENANTS", "CREATED"}, rows);
}

// The secret is shown once: make it impossible to miss, and say so.
void printNewToken(std::ostream& out, const json::value& token) {
  json::object rows;
  for (const char* key : {"name", "role", "tenants", "created_at"}) {
    rows[key] = cellText(member(token, key));
  }
  printResult(out, OutputFormat::kTable, rows);
  out << "\nsecret (shown only this once; store it now):\n\n    "
      << cellText(member(token, "secret")) << "\n\n";
}

struct TokenArgs {
  std::string name, role;
  std::vector<std::string> tenants;
};

// Writes `data` to `path` through a temporary file renamed into place, so an interrupted
// download never leaves a truncated snapshot under the final name.
Status writeFileAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".partial";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::invalidArgument("cannot write \"" + tmp + "\"");
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return Status::unavailable("writing \"" + tmp + "\" failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Status::unavailable("cannot rename \"" + tmp + "\" to \"" + path +
                               "\": " + ec.message());
  }
  return Status::ok();
}

struct SnapshotArgs {
  std::string file;
  bool force = false;
};

int snapshot(const ClientEnv& env, const SnapshotArgs& a, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (!a.force && std::filesystem::exists(a.file, ec)) {
    return usageError(err, "\"" + a.file + "\" exists; --force overwrites it");
  }
  ApiReply reply = callServer(env, "GET", "/v1/snapshot");
  if (!reply.ok()) return reportFailure(err, *reply.failure);
  if (Status s = writeFileAtomically(a.file, reply.raw); !s) {
    return reportFailure(err, reportFromStatus(s));
  }
  if (env.format == OutputFormat::kJson) {
    out << json::serialize(json::object{{"file", a.file}, {"bytes", reply.raw.size()}}) << '\n';
  } else {
    out << "snapshot written to " << a.file << " (" << reply.raw.size() << " bytes)\n";
  }
  return kExitOk;
}

}  // namespace

void addTokenCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* token = app.add_subcommand("token", "API tokens: create, list, revoke");
  token->require_subcommand(1);
  auto a = std::make_shared<TokenArgs>();

  auto* create = token->add_subcommand("create", "Create a token; prints its secret once");
  create->add_option("name", a->name, "Token name (the actor in the audit log)")->required();
  create->add_option("--role", a->role, "What the token may do")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "viewer"}));
  create->add_option("--tenant", a->tenants, "Limit the token to this tenant (repeatable)")
      ->allow_extra_args(false);
  create->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      json::array tenants;
      for (const auto& t : a->tenants) tenants.emplace_back(t);
      json::value body = json::object{{"name", a->name}, {"role", a->role}, {"tenants", tenants}};
      return callAndPrint(*env, out, err, "POST", "/v1/tokens", &body, printNewToken);
    };
  });

  token->add_subcommand("list", "List tokens (admin)")->callback([env] {
    env->action = [env](std::ostream& out, std::ostream& err) {
      return callAndPrint(*env, out, err, "GET", "/v1/tokens", nullptr, printTokenList);
    };
  });

  auto* revoke = token->add_subcommand("revoke", "Revoke (delete) a token");
  revoke->add_option("name", a->name, "Token name")->required();
  revoke->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return callAndConfirmDelete(*env, out, err, "/v1/tokens/" + encodePathSegment(a->name),
                                  "token", a->name);
    };
  });
}

void addSnapshotCommands(CLI::App& app, const ClientEnvPtr& env) {
  auto* snap = app.add_subcommand("snapshot", "Consistent copies of the ledger database");
  snap->require_subcommand(1);
  auto a = std::make_shared<SnapshotArgs>();
  auto* create = snap->add_subcommand("create", "Download a snapshot (SQLite file) to FILE");
  create->add_option("file", a->file, "Where to write it")->required();
  create->add_flag("--force", a->force, "Overwrite FILE if it exists");
  create->callback([env, a] {
    env->action = [env, a](std::ostream& out, std::ostream& err) {
      return snapshot(*env, *a, out, err);
    };
  });
}

}  // namespace netledger::cli
