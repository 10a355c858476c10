#pragma once
// Config files (YAML), read one way by netledgerd and the agent: load the file, read each key
// with a typed getter, then refuse every key no getter asked for (a typo must not be silently
// ignored). Every error is kInvalidArgument naming the file and the key:
//
//   config /etc/netledger/agent.yaml: probe.probe_num: "two" is not an integer
//
//   auto file = config::Section::load(path);
//   if (!file) return file.status();
//   NL_RETURN_IF_ERROR(file->get("listen", c.listen));      // absent: c.listen is unchanged
//   auto engine = file->section("engine");                   // keys "engine.<name>"
//   ...
//   return file->refuseUnknown();

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/parse.h"
#include "common/status.h"

namespace netledger::config {

// One mapping of a config file: the file itself, or a nested mapping of it. Copies share what
// was read, so refuseUnknown() sees the reads made through any copy.
class Section {
 public:
  // The file's top-level mapping. An empty file is an empty mapping; an unreadable file, bad
  // YAML or a top level that is not a mapping is an error naming the file.
  static Result<Section> load(const std::string& path);
  // `text` as if it were the file `name` (tests, embedded defaults).
  static Result<Section> parse(const std::string& name, std::string_view text);

  // Whether `key` is there with a value (not null). Asking counts as reading it.
  bool has(std::string_view key);

  // Typed getters: an absent (or null) key leaves `out` unchanged.
  Status get(std::string_view key, std::string& out);
  Status get(std::string_view key, bool& out);
  Status get(std::string_view key, std::vector<std::string>& out);
  // A mapping of strings to strings, in file order.
  Status get(std::string_view key, std::vector<std::pair<std::string, std::string>>& out);
  // A decimal integer within T's range.
  template <std::integral T>
  requires(!std::same_as<T, bool>) Status get(std::string_view key, T& out) {
    std::optional<T> value;
    NL_RETURN_IF_ERROR(get(key, value));
    if (value) out = *value;
    return Status::ok();
  }
  // The same, telling an absent key apart (`out` empty).
  template <std::integral T>
  requires(!std::same_as<T, bool>) Status get(std::string_view key, std::optional<T>& out) {
    std::string text;
    bool present = false;
    NL_RETURN_IF_ERROR(scalar(key, "an integer", text, present));
    if (!present) return Status::ok();
    if constexpr (std::is_signed_v<T>) {
      auto n = parseInteger(name(key), text, std::numeric_limits<T>::min(),
                            std::numeric_limits<T>::max());
      if (!n) return inFile(n.status());
      out = static_cast<T>(*n);
    } else {
      auto n = parseUnsigned(name(key), text, std::numeric_limits<T>::max());
      if (!n) return inFile(n.status());
      out = static_cast<T>(*n);
    }
    return Status::ok();
  }
  // Milliseconds as an integer (the keys ending in _ms).
  Status get(std::string_view key, std::chrono::milliseconds& out);

  // The nested mapping at `key` (absent: an empty one), whose keys are named "key.<name>".
  Result<Section> section(std::string_view key);

  // An error naming the first key that no getter or section() asked for.
  Status refuseUnknown() const;

  // "config <file>: <key>: <what>" as kInvalidArgument, for checks made by the caller.
  Status error(std::string_view key, std::string_view what) const;

 private:
  struct Node;
  Section(std::string file, std::string prefix, std::shared_ptr<Node> node);
  // The top-level mapping `load()` returns (a YAML::Node), its exceptions turned into errors.
  template <typename LoadYaml>
  static Result<Section> open(const std::string& name, LoadYaml load);
  // The scalar text at `key`; `present` false (and ok) when the key is absent or null. An error
  // saying it must be `what` when the value is not a scalar.
  Status scalar(std::string_view key, std::string_view what, std::string& out, bool& present);
  std::string name(std::string_view key) const { return prefix_ + std::string(key); }
  // `status` with "config <file>: " before its message.
  Status inFile(const Status& status) const;

  std::string file_;
  std::string prefix_;  // "" or "engine."
  std::shared_ptr<Node> node_;
};

// The first error of `reads`: a loader reads every key with one call each, and reports the first
// that failed.
//
//   NL_RETURN_IF_ERROR(config::firstError({f.get("listen", c.listen), f.get("store", c.store)}));
Status firstError(std::initializer_list<Status> reads);

}  // namespace netledger::config
