#pragma once
// EtcdClient: etcd's v3 KV and watch API through its JSON gateway (/v3/kv/range, /v3/kv/txn,
// /v3/watch, /v3/auth/authenticate), over the project's HTTP client and Boost.JSON. Keys and
// values are raw bytes here; the base64 of the gateway stays inside etcd_client.cc.
//
// Several endpoints: a call that cannot reach one (transport error) is tried on the next, so a
// dead member costs one connect timeout, not an outage. A call that reached etcd and failed
// there (a 4xx/5xx answer) is not retried on another member.
//
// Thread-safe: unary calls borrow a connection from a small pool; watch() opens its own.
//
//   auto target = parseEtcdUrl("etcd", "//127.0.0.1:2379/netledger");
//   auto client = EtcdClient::connect(*target, {});
//   auto r = (*client)->range("/netledger/pool/", prefixEnd("/netledger/pool/"));

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace netledger::store::etcd {

// Where the cluster is: from "etcd://h:p[,h:p...][/prefix]" (scheme "etcd" or "etcds").
struct EtcdTarget {
  std::vector<std::string> endpoints;  // "127.0.0.1:2379"
  std::string prefix;                  // every key starts with it: "/netledger/"
  bool tls = false;
  // The cluster's --max-txn-ops (etcd's default 128): bounds the operations of one batch.
  int max_txn_ops = 128;
  // Store options, not the client's: this replica's history archive (a SQLite file; empty: in
  // memory, filled from etcd's log at start), and how long etcd keeps events (ev/) before the
  // elected replica prunes them; the archives keep them for the full retention.
  std::string history_path;
  std::int64_t log_hours = 24 * 7;
};
// `location` is what follows "scheme:"
// ("//h:p,h:p/prefix[?max-txn-ops=N&history=PATH&log-hours=N]"). kInvalidArgument naming the
// part.
Result<EtcdTarget> parseEtcdUrl(const std::string& scheme, const std::string& location);

// How to authenticate: TLS files (etcds://) and etcd user/password auth (both optional).
struct EtcdCredentials {
  std::string ca_file, cert_file, key_file;
  std::string user, password;
};

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  std::int64_t revision = 0;  // the store's revision the range was read at
  bool more = false;
};

// One compare of a transaction: `target` of `key` must equal `value` (etcd's Compare with
// result EQUAL). Version 0 / create_revision 0 mean "does not exist".
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision };
  enum class Op { kEqual, kLess };  // the key's target equals / is below `value` (absent: 0)
  std::string key;
  Target target = Target::kVersion;
  std::int64_t value = 0;
  Op op = Op::kEqual;
};
struct TxnOp {
  bool is_delete = false;
  std::string key;
  std::string value;        // puts only
  std::int64_t lease = 0;   // puts only: the key goes when the lease expires (0: never)
  std::string range_end{};  // deletes only: every key in [key, range_end) (empty: just `key`)
};
struct TxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;
  // When not succeeded: each compare's key as it is now (nullopt: absent), in compare order,
  // so the caller can say which one failed.
  std::vector<std::optional<KeyValue>> current;
};

// One watch response: the events of one or more revisions, in revision order.
struct WatchEvent {
  bool is_delete = false;
  KeyValue kv;  // for a delete: key and mod_revision only
};
struct WatchBatch {
  std::vector<WatchEvent> events;
  std::int64_t revision = 0;
  std::int64_t compact_revision = 0;  // non-zero: history before it is gone (watch canceled)
};

// The key just past every key that starts with `prefix` (etcd's range_end for a prefix).
std::string prefixEnd(std::string prefix);

class EtcdClient {
 public:
  static Result<std::unique_ptr<EtcdClient>> connect(EtcdTarget target, EtcdCredentials creds);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Keys in [key, range_end) (just `key` when range_end is empty), ascending, at most `limit`
  // (0: all), at `revision` (0: the latest).
  Result<RangeResult> range(const std::string& key, const std::string& range_end,
                            std::int64_t limit = 0, std::int64_t revision = 0,
                            bool descending = false);
  // Keys of [key, range_end) last modified at or after `min_mod_revision`, ascending by
  // mod_revision (ties in no particular order), at most `limit`.
  Result<RangeResult> rangeModifiedSince(const std::string& key, const std::string& range_end,
                                         std::int64_t min_mod_revision, std::int64_t limit);
  // Every key of [key, range_end) at one revision (`revision`, or the latest when 0), read in
  // pages of `page` keys.
  Result<RangeResult> rangeAll(const std::string& key, const std::string& range_end,
                               std::int64_t page = 2000, std::int64_t revision = 0);
  // If every compare holds, runs `ops` atomically (succeeded = true); otherwise nothing.
  Result<TxnResult> txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& ops);

  // Leases: a key put with one goes away when it is no longer kept alive (the leader key).
  Result<std::int64_t> grantLease(std::int64_t ttl_s);
  // Refreshes `lease`; the seconds it has left, 0 when it has expired or was revoked.
  Result<std::int64_t> keepAlive(std::int64_t lease);
  Status revokeLease(std::int64_t lease);
  // Compacts etcd's history up to `revision` (watches from before it are canceled).
  Status compact(std::int64_t revision);

  // Watches [key, range_end) from `start_revision` and hands each response to `on_batch` on the
  // calling thread until `on_batch` returns false, stop() is called or the stream fails
  // (kUnavailable; the caller reconnects from its last revision + 1).
  Status watch(const std::string& key, const std::string& range_end, std::int64_t start_revision,
               const std::function<bool(const WatchBatch&)>& on_batch);
  // Ends a watch() running on another thread. Thread-safe.
  void stopWatch();
  // Breaks the running watch's stream (its caller reconnects) and moves the preferred endpoint
  // on: a member that stopped answering without closing the connection (SIGSTOP, a hung disk)
  // would otherwise hold the watch forever. Thread-safe.
  void breakWatch();
  // The highest mod_revision of any key in [key, range_end) (0: none), read linearizably.
  Result<std::int64_t> latestModRevision(const std::string& key, const std::string& range_end);

  const EtcdTarget& target() const { return target_; }
  // Starts new connections at endpoint `i` (mod their number): replicas spread over the
  // members, so no one member decodes every replica's JSON. Failover moves on from there.
  void preferEndpoint(std::size_t i);

 private:
  struct Connection;
  EtcdClient(EtcdTarget target, EtcdCredentials creds);
  // POSTs `body` to `path` on a pooled connection, failing over across endpoints; the answer's
  // JSON object, or the error etcd gave (kConflict never: callers read `succeeded`).
  Result<std::string> call(const std::string& path, const std::string& body);
  // A /v3/kv/range request (its JSON text) and its answer.
  Result<RangeResult> rangeRequest(const std::string& request);
  Result<std::string> callOnce(const std::string& path, const std::string& body);
  Result<std::string> callOn(Connection& c, const std::string& path, const std::string& body);
  Status authenticate(Connection& c);
  std::unique_ptr<Connection> borrow();
  void giveBack(std::unique_ptr<Connection> c);

  EtcdTarget target_;
  EtcdCredentials creds_;
  std::mutex mu_;  // guards the pool, the auth token and the preferred endpoint
  std::vector<std::unique_ptr<Connection>> idle_;
  std::string token_;
  std::size_t preferred_ = 0;
  std::mutex watch_mu_;
  Connection* watching_ = nullptr;
  std::atomic<bool> watch_stopped_{false};
};

}  // namespace netledger::store::etcd
