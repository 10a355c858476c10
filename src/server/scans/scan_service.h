#pragma once
// ScanService: active scans of a pool, carried out by one node's agent. A scan is a ledger
// document (kind "scan", ids "scan-N"), so it is durable and audited without a schema of its
// own, and its body is what the API shows:
//
//   request()  -> "pending", with the pool's allocatable address ranges to probe; audited as
//                 "scan.requested", which is how the agent named in `via` learns of it (the
//                 event stream carries the body)
//   complete() -> "done", with what the ledger makes of the answers: stations at addresses no
//                 binding holds (`unknown_stations`), active bindings of the pool that stayed
//                 silent (`silent_bindings`); audited as "scan.completed". Every answer also
//                 goes to the consistency engine as an observation.
//
// Roles are the caller's business (the API asks for an operator to request or complete); the
// actor's tenants decide which scans it sees (those of pools it sees).
//
// Thread safety: every method is safe from any thread. Id assignment and the pending -> done
// transition read a document, decide and write it back, so they are serialized by one mutex:
// putDocument alone would let two results both complete one scan.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "addr/ip_address.h"
#include "addr/mac.h"
#include "common/clock.h"
#include "common/status.h"
#include "ledger/ledger.h"

namespace netledger::engine {
class Engine;
}

namespace netledger::server {

// An agent probes at most this many addresses per scan (a /16); bigger pools are scanned by
// their children. Also bounds a result's answers.
inline constexpr std::uint64_t kMaxScanAddresses = 65'536;

struct ScanRequest {
  std::string pool;
  std::string via;  // the node whose agent scans
  std::int64_t rate_per_s = 100;
};

// A station that answered at an address of the scan.
struct ScanAnswer {
  addr::IpAddress ip;
  addr::Mac mac;
};

struct ScanReport {
  std::vector<ScanAnswer> answered;
  std::optional<std::int64_t> probed;  // addresses probed; default: the scan's address count
};

class ScanService {
 public:
  // `ledger` and `clock` must outlive the service; `engine` too when not null (the answers are
  // then not observed).
  ScanService(ledger::Ledger& ledger, engine::Engine* engine, Clock& clock);
  ScanService(const ScanService&) = delete;
  ScanService& operator=(const ScanService&) = delete;

  // Creates a pending scan of `request.pool`'s allocatable addresses (its ranges, or its
  // CIDRs, minus network, broadcast, gateway and reserved ranges). The pool as getPool answers
  // for `actor` (kNotFound naming "pool"); kInvalidArgument naming "pool" for a parent pool or
  // more than kMaxScanAddresses addresses. Returns the scan (`json`: as stored) and the ticket
  // to wait on.
  Result<ledger::Applied<boost::json::object>> request(const ledger::Actor& actor,
                                                       const ScanRequest& request);

  // pending -> done with `report`. kNotFound for a scan `actor` does not see, kConflict naming
  // "state" when it is already done, kInvalidArgument naming "answered[i].ip" for an answer
  // outside the scan's addresses. Returns the completed scan (`json`: as stored) and the ticket.
  Result<ledger::Applied<boost::json::object>> complete(const ledger::Actor& actor,
                                                        const std::string& id,
                                                        const ScanReport& report);

  // The scan `id`; kNotFound when absent or of a pool `actor` does not see.
  Result<boost::json::object> get(const ledger::Actor& actor, const std::string& id) const;
  // At most `limit` scans `actor` sees, newest first.
  std::vector<boost::json::object> list(const ledger::Actor& actor, std::size_t limit) const;

 private:
  // Answers at addresses no binding (active or reserved) holds in `network`.
  boost::json::array unknownStations(const std::string& network,
                                     const std::vector<ScanAnswer>& answers) const;
  // Active bindings of `pool` holding an address in `ranges` that did not answer.
  Result<boost::json::array> silentBindings(const ledger::Actor& actor, const std::string& pool,
                                            const boost::json::array& ranges,
                                            const std::vector<ScanAnswer>& answers) const;
  void observe(const std::string& network, const std::string& via,
               const std::vector<ScanAnswer>& answers);
  std::string nowText() const;
  // Stores `scan` (audited as `op`) and returns it with its text and ticket.
  Result<ledger::Applied<boost::json::object>> store(const ledger::Actor& actor,
                                                     boost::json::object scan,
                                                     const std::string& op);

  ledger::Ledger& ledger_;
  engine::Engine* engine_;
  Clock& clock_;
  mutable std::mutex mu_;  // id assignment, pending -> done
};

}  // namespace netledger::server
