#pragma once
// Makes the built-in backends reachable through ledger::openStore(): "sqlite:PATH",
// "memory:" and "etcd://HOST:PORT[,HOST:PORT...][/PREFIX]" (etcds:// for TLS). An explicit call
// rather than static initializers, so linking the library never has hidden side effects and tests
// choose what is registered.

namespace netledger::store {

// Registers "sqlite", "memory", "etcd" and "etcds" with ledger::registerStoreBackend. Idempotent
// and thread-safe; call once at start-up (netledgerd main, test main) before openStore().
void registerBuiltinStores();

}  // namespace netledger::store
