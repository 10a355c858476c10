#include <map>
#include <mutex>

#include "ledger/store.h"

namespace netledger::ledger {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, StoreFactory> factories;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void registerStoreBackend(const std::string& scheme, StoreFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[scheme] = std::move(factory);
}

Result<std::unique_ptr<Store>> openStore(const std::string& url,
                                         const StoreCredentials& credentials) {
  auto colon = url.find(':');
  std::string scheme = url.substr(0, colon);
  StoreFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(scheme);
    if (it == r.factories.end()) {
      std::string known;
      for (const auto& [name, f] : r.factories) known += (known.empty() ? "" : ", ") + name;
      return Status::invalidArgument("store: unknown backend \"" + scheme + "\" (known: " + known +
                                     ")");
    }
    factory = it->second;
  }
  return factory(colon == std::string::npos ? std::string() : url.substr(colon + 1), credentials);
}

}  // namespace netledger::ledger
