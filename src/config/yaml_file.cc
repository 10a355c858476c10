#include "config/yaml_file.h"

#include <exception>
#include <set>

#include <yaml-cpp/yaml.h>

namespace netledger::config {

struct Section::Node {
  YAML::Node yaml;  // a mapping, or undefined for an absent section
  std::set<std::string, std::less<>> read;
  // Sections opened from this one, checked by refuseUnknown() too: (prefix, node).
  std::vector<std::pair<std::string, std::shared_ptr<Node>>> children;

  // The value at `key`, or an undefined node.
  YAML::Node at(std::string_view key) {
    read.emplace(key);
    if (!yaml.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (const auto& kv : yaml) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
};

namespace {

bool absent(const YAML::Node& v) { return !v.IsDefined() || v.IsNull(); }

}  // namespace

Section::Section(std::string file, std::string prefix, std::shared_ptr<Node> node)
    : file_(std::move(file)), prefix_(std::move(prefix)), node_(std::move(node)) {}

template <typename LoadYaml>
Result<Section> Section::open(const std::string& name, LoadYaml load) {
  auto node = std::make_shared<Node>();
  try {
    node->yaml = load();
  } catch (const std::exception& e) {
    return Status::invalidArgument("config " + name + ": " + e.what());
  }
  if (!node->yaml.IsNull() && !node->yaml.IsMap()) {
    return Status::invalidArgument("config " + name + ": must be a mapping");
  }
  return Section(name, "", std::move(node));
}

Result<Section> Section::load(const std::string& path) {
  return open(path, [&] { return YAML::LoadFile(path); });
}

Result<Section> Section::parse(const std::string& name, std::string_view text) {
  return open(name, [&] { return YAML::Load(std::string(text)); });
}

bool Section::has(std::string_view key) { return !absent(node_->at(key)); }

Status Section::inFile(const Status& status) const {
  return Status::invalidArgument("config " + file_ + ": " + status.message());
}

Status Section::error(std::string_view key, std::string_view what) const {
  return Status::invalidArgument("config " + file_ + ": " + name(key) + ": " + std::string(what));
}

Status Section::scalar(std::string_view key, std::string_view what, std::string& out,
                       bool& present) {
  YAML::Node v = node_->at(key);
  present = !absent(v);
  if (!present) return Status::ok();
  if (!v.IsScalar()) return error(key, "must be " + std::string(what));
  out = v.Scalar();
  return Status::ok();
}

Status Section::get(std::string_view key, std::string& out) {
  bool present = false;
  std::string text;
  NL_RETURN_IF_ERROR(scalar(key, "a string", text, present));
  if (present) out = std::move(text);
  return Status::ok();
}

Status Section::get(std::string_view key, bool& out) {
  YAML::Node v = node_->at(key);
  if (absent(v)) return Status::ok();
  try {
    out = v.as<bool>();
  } catch (const std::exception&) {
    return error(key, "must be true or false");
  }
  return Status::ok();
}

Status Section::get(std::string_view key, std::chrono::milliseconds& out) {
  std::optional<std::int64_t> ms;
  NL_RETURN_IF_ERROR(get(key, ms));
  if (ms) out = std::chrono::milliseconds(*ms);
  return Status::ok();
}

Status Section::get(std::string_view key, std::vector<std::string>& out) {
  YAML::Node v = node_->at(key);
  if (absent(v)) return Status::ok();
  std::vector<std::string> items;
  bool strings = v.IsSequence();
  for (std::size_t i = 0; strings && i < v.size(); ++i) {
    strings = v[i].IsScalar();
    if (strings) items.push_back(v[i].Scalar());
  }
  if (!strings) return error(key, "must be a list of strings");
  out = std::move(items);
  return Status::ok();
}

Status Section::get(std::string_view key, std::vector<std::pair<std::string, std::string>>& out) {
  YAML::Node v = node_->at(key);
  if (absent(v)) return Status::ok();
  if (!v.IsMap()) return error(key, "must be a mapping of strings");
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& kv : v) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      return error(key, "must be a mapping of strings");
    }
    items.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  }
  out = std::move(items);
  return Status::ok();
}

Result<Section> Section::section(std::string_view key) {
  YAML::Node v = node_->at(key);
  auto child = std::make_shared<Node>();
  if (!absent(v)) {
    if (!v.IsMap()) return error(key, "must be a mapping");
    child->yaml = v;
  }
  std::string prefix = name(key) + ".";
  node_->children.emplace_back(prefix, child);
  return Section(file_, std::move(prefix), std::move(child));
}

Status Section::refuseUnknown() const {
  if (node_->yaml.IsMap()) {
    for (const auto& kv : node_->yaml) {
      if (!kv.first.IsScalar()) return inFile(Status::invalidArgument("keys must be strings"));
      if (!node_->read.contains(kv.first.Scalar())) return error(kv.first.Scalar(), "unknown key");
    }
  }
  for (const auto& [prefix, child] : node_->children) {
    NL_RETURN_IF_ERROR(Section(file_, prefix, child).refuseUnknown());
  }
  return Status::ok();
}

Status firstError(std::initializer_list<Status> reads) {
  for (const Status& s : reads) NL_RETURN_IF_ERROR(s);
  return Status::ok();
}

}  // namespace netledger::config
