#pragma once
// Command-line flags over a config file, the same way in every program: each flag is bound to a
// field of the program's config; once the file has been read into the config, apply() writes the
// flags given on the command line over it. A flag not given leaves the file's value (or the
// default), whatever its value would have been.
//
//   config::FlagOverrides flags(app);
//   flags.add("--listen", config.listen, "HOST:PORT to serve on")->capture_default_str();
//   CLI11_PARSE(app, argc, argv);
//   if (!file.empty()) { /* read the file into config */ }
//   flags.apply();

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace netledger::config {

class FlagOverrides {
 public:
  explicit FlagOverrides(CLI::App& app) : app_(app) {}

  // An option taking a value. `field` must outlive apply(); its value now is the default shown
  // by --help.
  template <typename T>
  CLI::Option* add(const std::string& name, T& field, const std::string& description) {
    return bind(name, field, description, field, [](const T& v) { return v; });
  }
  // Milliseconds as an integer ("--heartbeat-interval-ms 500").
  CLI::Option* add(const std::string& name, std::chrono::milliseconds& field,
                   const std::string& description);
  // A flag without a value that sets `field` to true.
  CLI::Option* addFlag(const std::string& name, bool& field, const std::string& description);

  // Writes every flag given on the command line into its field.
  void apply() const;

 private:
  // The flag reads a `Flag` (starting at `initial`); apply() stores convert(flag) in `field`.
  template <typename Flag, typename T, typename Convert>
  CLI::Option* bind(const std::string& name, T& field, const std::string& description, Flag initial,
                    Convert convert) {
    auto given = std::make_shared<Flag>(std::move(initial));
    CLI::Option* option = app_.add_option(name, *given, description);
    overrides_.push_back([option, given, &field, convert] {
      if (option->count() > 0) field = convert(*given);
    });
    return option;
  }

  CLI::App& app_;
  std::vector<std::function<void()>> overrides_;
};

}  // namespace netledger::config
