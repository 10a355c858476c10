#pragma once
// The REST client commands of `netledger`: pool, macpool, alloc, release, renew, migrate, move,
// who-has, history, token, snapshot, import ippool, scan. Each talks to one netledgerd given by
// --server (default $NETLEDGER_URL, else http://127.0.0.1:8080) with the bearer token from
// --token, --token-file or $NETLEDGER_TOKEN. Exit codes are those of cli.h.

#include <CLI/CLI.hpp>

#include "cli/calc_commands.h"
#include "cli/output.h"

namespace netledger::cli {

// Adds the connection options (--server, --token, --token-file, --insecure) to `app` and the
// client subcommands under it. When one is chosen, `action` is set to it; `format` is read when
// the action runs.
void addClientCommands(CLI::App& app, const OutputFormat& format, CommandAction& action);

}  // namespace netledger::cli
