#include "config/flag_overrides.h"

namespace netledger::config {

CLI::Option* FlagOverrides::add(const std::string& name, std::chrono::milliseconds& field,
                                const std::string& description) {
  return bind(name, field, description, static_cast<long long>(field.count()),
              [](long long ms) { return std::chrono::milliseconds(ms); });
}

CLI::Option* FlagOverrides::addFlag(const std::string& name, bool& field,
                                    const std::string& description) {
  CLI::Option* option = app_.add_flag(name, description);
  overrides_.push_back([option, &field] {
    if (option->count() > 0) field = true;
  });
  return option;
}

void FlagOverrides::apply() const {
  for (const auto& override : overrides_) override();
}

}  // namespace netledger::config
