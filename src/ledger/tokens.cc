#include "ledger/tokens.h"

#include <algorithm>
#include <array>

#include <boost/json.hpp>

#include "common/crypto.h"
#include "ledger/codec.h"

namespace netledger::ledger {

namespace {

constexpr char kHex[] = "0123456789abcdef";

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& bytes) {
  std::string out;
  out.reserve(2 * N);
  for (auto b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace

std::string newTokenSecret() {
  std::array<std::uint8_t, 24> raw{};
  secureRandomBytes(raw);
  return "nlt_" + hex(raw);
}

std::string tokenHash(const std::string& secret) { return hex(sha256(secret)); }

void Tokens::adopt(const TokenRecord& token) {
  forget(token.name);
  by_hash_[token.sha256_hex] = token.name;
  tokens_[token.name] = token;
}

void Tokens::forget(const std::string& name) {
  auto it = tokens_.find(name);
  if (it == tokens_.end()) return;
  by_hash_.erase(it->second.sha256_hex);
  tokens_.erase(it);
}

void Tokens::clear() {
  tokens_.clear();
  by_hash_.clear();
}

Result<TokenRecord> Tokens::authenticate(const std::string& secret) const {
  auto it = by_hash_.find(tokenHash(secret));
  if (it == by_hash_.end()) return Status::unauthorized("unknown or revoked token");
  return tokens_.at(it->second);
}

std::vector<TokenRecord> Tokens::list() const {
  std::vector<TokenRecord> out;
  out.reserve(tokens_.size());
  for (const auto& [name, t] : tokens_) out.push_back(t);
  return out;
}

Result<TokenRecord> Tokens::create(const std::string& name, Role role,
                                   std::vector<std::string> tenants, const std::string& secret,
                                   WriteSet& ws) {
  if (tokens_.contains(name)) return Status::conflict("name: token \"" + name + "\" exists");
  TokenRecord t{name, tokenHash(secret), role, std::move(tenants), ws.nowMs(), 1};
  adopt(t);
  ws.put(PutToken{t, 0});
  ws.event("token.create", "token:" + name, {}, "", boost::json::serialize(toJson(t)));
  return t;
}

Result<TokenRecord> Tokens::replaceSecret(const std::string& name, const std::string& secret,
                                          WriteSet& ws) {
  auto it = tokens_.find(name);
  if (it == tokens_.end()) return Status::notFound("token \"" + name + "\" not found");
  TokenRecord t = it->second;
  t.sha256_hex = tokenHash(secret);
  t.version += 1;
  adopt(t);
  ws.put(PutToken{t, t.version - 1});
  return t;
}

Result<TokenRecord> Tokens::revoke(const std::string& name, WriteSet& ws) {
  auto it = tokens_.find(name);
  if (it == tokens_.end()) return Status::notFound("token \"" + name + "\" not found");
  if (it->second.role == Role::kAdmin) {
    auto admins = std::count_if(tokens_.begin(), tokens_.end(),
                                [](const auto& kv) { return kv.second.role == Role::kAdmin; });
    if (admins == 1) {
      return Status::conflict("token \"" + name +
                              "\" is the last admin token; create another "
                              "admin token before revoking it");
    }
  }
  TokenRecord t = it->second;
  forget(name);
  ws.put(DeleteToken{name, t.version});
  ws.event("token.revoke", "token:" + name, {}, boost::json::serialize(toJson(t)), "");
  return t;
}

}  // namespace netledger::ledger
