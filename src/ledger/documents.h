#pragma once
// Documents: the durable records of the subsystems above the ledger (conflicts, webhook
// subscriptions, remediation policies; see DocumentRecord). The ledger versions them and
// commits them like any other write; it never interprets their bodies. Not thread-safe: the
// Ledger's lock guards it.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/model.h"
#include "ledger/views.h"
#include "ledger/write_set.h"

namespace netledger::ledger {

// How a document change is audited: `op` empty records no event (frequent bookkeeping);
// `audit_body`, when set, is recorded instead of the body (a body holding a secret).
struct DocumentAudit {
  std::string op;
  std::string subject;
  std::vector<std::string> keys;
  std::optional<std::string> audit_body;
};

class Documents {
 public:
  // Records already committed (start-up, or another replica's writes).
  void adopt(DocumentRecord document);
  void forget(const std::string& kind, const std::string& key);
  void clear() { tables_.clear(); }

  // Creates or replaces: version = previous + 1 (1 when new); created = whether it was new.
  // `if_version`: see Ledger::putDocument.
  Result<Applied<DocumentRecord>> put(DocumentRecord document, DocumentAudit audit, WriteSet& ws,
                                      std::optional<std::uint64_t> if_version = {});
  // kNotFound when absent.
  Result<DocumentRecord> remove(const std::string& kind, const std::string& key,
                                DocumentAudit audit, WriteSet& ws);

  // Every document of `kind`, in key order.
  std::vector<DocumentRecord> list(const std::string& kind) const;
  std::optional<DocumentRecord> get(const std::string& kind, const std::string& key) const;

 private:
  std::map<std::string, std::map<std::string, DocumentRecord>> tables_;  // kind -> key ->
};

}  // namespace netledger::ledger
