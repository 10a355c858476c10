#pragma once
// `netledger calc ...`: offline address arithmetic.

#include <functional>
#include <ostream>

#include <CLI/CLI.hpp>

#include "cli/output.h"

namespace netledger::cli {

// What a parsed command does when run: returns the exit code.
using CommandAction = std::function<int(std::ostream& out, std::ostream& err)>;

// Adds the `calc` subcommand tree to `app`. When one of them is chosen, `action` is set to it.
// `format` is read when the action runs.
void addCalcCommands(CLI::App& app, const OutputFormat& format, CommandAction& action);

}  // namespace netledger::cli
