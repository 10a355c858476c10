#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include "cli/calc_commands.h"
#include "cli/client_commands.h"

namespace netledger::cli {

namespace {

// Lets global options (-o json) appear after the subcommand words too, as users type them.
void allowGlobalOptionsEverywhere(CLI::App& app) {
  for (auto* sub : app.get_subcommands({})) {
    sub->fallthrough();
    allowGlobalOptionsEverywhere(*sub);
  }
}

}  // namespace

int runCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"netledger: the address authority for virtualized and cloud networks", "netledger"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "netledger 0.1.0");

  OutputFormat format = OutputFormat::kTable;
  std::string output = "table";
  app.add_option("-o,--output", output, "Output format")
      ->check(CLI::IsMember({"table", "json", "html"}))
      ->capture_default_str();

  CommandAction action;
  addCalcCommands(app, format, action);
  addClientCommands(app, format, action);
  allowGlobalOptionsEverywhere(app);

  // CLI11 parses argv in reverse order from a vector.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    app.exit(e, out, err);
    return kExitUsage;
  }
  format = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  if (output == "html") {
    if (!app.got_subcommand("report")) {
      err << "netledger: -o html: only `netledger report` writes HTML\n";
      return kExitUsage;
    }
    format = OutputFormat::kHtml;
  }
  if (!action) {
    err << "netledger: nothing to do\n";
    return kExitUsage;
  }
  return action(out, err);
}

}  // namespace netledger::cli
