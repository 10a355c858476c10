#pragma once
// The kConflict every backend returns when a conditional write does not hold. One wording for
// all backends, so the Ledger (which reloads and retries on kConflict) and the conformance tests
// can rely on the message naming the record and both versions.

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace netledger::store {

// `record` names the record ("binding 42", "pool \"lab\""). `expected` 0 means "must not exist";
// `found` is nullopt when the record does not exist.
Status versionConflict(const std::string& record, std::uint64_t expected,
                       std::optional<std::uint64_t> found);

// Record names used in conflict messages, shared so both backends name records identically.
std::string poolRecordName(const std::string& name);
std::string macPoolRecordName(const std::string& name);
std::string bindingRecordName(std::uint64_t id);
std::string tokenRecordName(const std::string& name);
std::string eventRecordName(std::uint64_t seq);
std::string documentRecordName(const std::string& kind, const std::string& key);
// The single-column key a backend stores a document under: "kind/key".
std::string documentId(const std::string& kind, const std::string& key);

}  // namespace netledger::store
