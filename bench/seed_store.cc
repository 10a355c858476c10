// Writes a ledger with N bindings straight through the Store interface (no server), for the
// restart and memory benchmarks: `seed_store DIR N` creates DIR/ledger.db with a pool "bench"
// (10.0.0.0/8), a MAC pool, an admin token with the secret "bench-token", and N bindings
// bench-0..bench-N-1, each with one IPv4 address and one MAC, as the API would have made them.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/crypto.h"
#include "ledger/model.h"
#include "ledger/store.h"
#include "store/register.h"

using namespace netledger;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: seed_store DIR N\n");
    return 2;
  }
  std::string dir = argv[1];
  long n = std::atol(argv[2]);
  store::registerBuiltinStores();
  auto store = ledger::openStore("sqlite:" + dir + "/ledger.db");
  if (!store) {
    std::fprintf(stderr, "seed_store: %s\n", store.status().toString().c_str());
    return 1;
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  ledger::PoolRecord pool;
  pool.name = "bench";
  pool.cidrs = {addr::Prefix::parse("10.0.0.0/8").value()};
  pool.version = 1;
  pool.created_at = pool.updated_at = now;
  ledger::MacPoolRecord macs;
  macs.name = "bench-macs";
  macs.version = 1;
  ledger::TokenRecord token;
  token.name = "admin";
  token.role = ledger::Role::kAdmin;
  auto digest = sha256("bench-token");
  static constexpr char kHex[] = "0123456789abcdef";
  for (auto b : digest) {
    token.sha256_hex += kHex[b >> 4];
    token.sha256_hex += kHex[b & 15];
  }
  token.version = 1;
  Status s = (*store)->apply(
      {ledger::PutPool{pool, 0}, ledger::PutMacPool{macs, 0}, ledger::PutToken{token, 0}});
  if (!s.isOk()) {
    std::fprintf(stderr, "seed_store: %s\n", s.toString().c_str());
    return 1;
  }
  const auto base = pool.cidrs[0].first();
  std::vector<ledger::Write> batch;
  for (long i = 0; i < n; ++i) {
    ledger::BindingRecord b;
    b.id = static_cast<std::uint64_t>(i + 1);
    b.instance = "bench-" + std::to_string(i);
    b.mac = addr::Mac(0x026e6c000000ull + static_cast<std::uint64_t>(i) + 1);
    b.mac_pool = "bench-macs";
    b.addresses.push_back({*base.plus(static_cast<addr::uint128>(i) + 1), "bench"});
    b.host = "node-" + std::to_string(i % 100);
    b.created_at = b.updated_at = now;
    b.version = 1;
    batch.push_back(ledger::PutBinding{std::move(b), 0});
    if (batch.size() == 10000 || i + 1 == n) {
      s = (*store)->apply(batch);
      if (!s.isOk()) {
        std::fprintf(stderr, "seed_store: %s\n", s.toString().c_str());
        return 1;
      }
      batch.clear();
    }
  }
  std::printf("seeded %ld bindings into %s/ledger.db\n", n, dir.c_str());
  return 0;
}
