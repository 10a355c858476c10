#pragma once
// Another replica's history, read over its REST API (GET /v1/history/export): what a replica
// whose archive began after etcd's log was pruned copies the older events from
// (EtcdStore::setHistorySource). Each event arrives exactly as the peer keeps it (the etcd
// record format, history keys included).
//
//   auto source = peerHistorySource({{"https://10.0.0.2:8080"}, token, "/etc/netledger/ca.pem"});
//   if (!source) return source.status();
//   store->setHistorySource(*source);
//
// One peer is asked per page: the one that answered last; after a failure (returned to the
// caller, which tries again later) the next one. Thread-safe.

#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/store.h"

namespace netledger::store::etcd {

struct PeerHistoryOptions {
  std::vector<std::string> urls;  // base URLs of other replicas: "http://host:port"
  std::string token;              // a bearer token without tenant scope, valid on the peers
  std::string ca_file;            // https peers: PEM CA bundle to trust (empty: the system's)
};

// kInvalidArgument naming the URL when one is malformed, or when there is no URL or token.
Result<ledger::Store::HistorySource> peerHistorySource(const PeerHistoryOptions& options);

}  // namespace netledger::store::etcd
