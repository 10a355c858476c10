#include "store/conflict.h"

namespace netledger::store {

Status versionConflict(const std::string& record, std::uint64_t expected,
                       std::optional<std::uint64_t> found) {
  std::string m = record + ": version conflict: expected ";
  m += expected == 0 ? std::string("absent") : "version " + std::to_string(expected);
  m += ", found ";
  m += found ? "version " + std::to_string(*found) : std::string("none");
  return Status::conflict(std::move(m));
}

std::string poolRecordName(const std::string& name) { return "pool \"" + name + "\""; }
std::string macPoolRecordName(const std::string& name) { return "mac pool \"" + name + "\""; }
std::string bindingRecordName(std::uint64_t id) { return "binding " + std::to_string(id); }
std::string tokenRecordName(const std::string& name) { return "token \"" + name + "\""; }
std::string eventRecordName(std::uint64_t seq) { return "event " + std::to_string(seq); }
std::string documentRecordName(const std::string& kind, const std::string& key) {
  return kind + " \"" + key + "\"";
}
std::string documentId(const std::string& kind, const std::string& key) { return kind + "/" + key; }

}  // namespace netledger::store
