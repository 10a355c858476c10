#include "ledger/documents.h"

namespace netledger::ledger {

void Documents::adopt(DocumentRecord document) {
  std::string kind = document.kind, key = document.key;
  tables_[kind][std::move(key)] = std::move(document);
}

void Documents::forget(const std::string& kind, const std::string& key) {
  if (auto table = tables_.find(kind); table != tables_.end()) table->second.erase(key);
}

Result<Applied<DocumentRecord>> Documents::put(DocumentRecord document, DocumentAudit audit,
                                               WriteSet& ws,
                                               std::optional<std::uint64_t> if_version) {
  if (document.kind.empty() || document.key.empty()) {
    return Status::invalidArgument("document: kind and key must not be empty");
  }
  auto& table = tables_[document.kind];
  auto it = table.find(document.key);
  const std::uint64_t expected = it == table.end() ? 0 : it->second.version;
  if (if_version && *if_version != expected) {
    return Status::conflict(document.kind + " \"" + document.key + "\" is at version " +
                            std::to_string(expected) + ", not " + std::to_string(*if_version));
  }
  std::string before = it == table.end() ? std::string() : it->second.body;
  if (audit.audit_body && it != table.end()) before = "";  // the old body may hold the secret too
  document.version = expected + 1;
  document.updated_at = ws.nowMs();
  ws.put(PutDocument{document, expected});
  if (!audit.op.empty()) {
    ws.event(std::move(audit.op), std::move(audit.subject), std::move(audit.keys),
             std::move(before), audit.audit_body ? std::move(*audit.audit_body) : document.body);
  }
  table[document.key] = document;
  return Applied<DocumentRecord>{std::move(document), expected == 0};
}

Result<DocumentRecord> Documents::remove(const std::string& kind, const std::string& key,
                                         DocumentAudit audit, WriteSet& ws) {
  auto table = tables_.find(kind);
  if (table == tables_.end() || !table->second.contains(key)) {
    return Status::notFound(kind + " \"" + key + "\" not found");
  }
  DocumentRecord old = std::move(table->second.at(key));
  table->second.erase(key);
  ws.put(DeleteDocument{kind, key, old.version});
  if (!audit.op.empty()) {
    ws.event(std::move(audit.op), std::move(audit.subject), {},
             audit.audit_body ? std::move(*audit.audit_body) : old.body, "");
  }
  return old;
}

std::vector<DocumentRecord> Documents::list(const std::string& kind) const {
  std::vector<DocumentRecord> out;
  if (auto it = tables_.find(kind); it != tables_.end()) {
    for (const auto& [key, d] : it->second) out.push_back(d);
  }
  return out;
}

std::optional<DocumentRecord> Documents::get(const std::string& kind,
                                             const std::string& key) const {
  auto it = tables_.find(kind);
  if (it == tables_.end()) return std::nullopt;
  auto d = it->second.find(key);
  if (d == it->second.end()) return std::nullopt;
  return d->second;
}

}  // namespace netledger::ledger
