#pragma once
// Tokens: the API tokens, found by the SHA-256 of their secret (the secret itself is never
// kept). Not thread-safe: the Ledger's lock guards it.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "common/status.h"
#include "ledger/model.h"
#include "ledger/write_set.h"

namespace netledger::ledger {

// A new secret: "nlt_" and 48 hex digits from the CSPRNG.
std::string newTokenSecret();
// The hex SHA-256 of a secret, as TokenRecord::sha256_hex keeps it.
std::string tokenHash(const std::string& secret);

class Tokens {
 public:
  // Records already committed (start-up, or another replica's writes).
  void adopt(const TokenRecord& token);
  void forget(const std::string& name);
  void clear();

  bool empty() const { return tokens_.empty(); }
  // kUnauthorized for an unknown or revoked secret.
  Result<TokenRecord> authenticate(const std::string& secret) const;
  std::vector<TokenRecord> list() const;

  // kConflict when `name` exists.
  Result<TokenRecord> create(const std::string& name, Role role, std::vector<std::string> tenants,
                             const std::string& secret, WriteSet& ws);
  // Gives token `name` the secret `secret` (the operator's bootstrap token), unaudited.
  Result<TokenRecord> replaceSecret(const std::string& name, const std::string& secret,
                                    WriteSet& ws);
  // kNotFound when absent; kConflict for the last admin token.
  Result<TokenRecord> revoke(const std::string& name, WriteSet& ws);

 private:
  std::map<std::string, TokenRecord> tokens_;
  boost::unordered_flat_map<std::string, std::string> by_hash_;  // sha256_hex -> name
};

}  // namespace netledger::ledger
