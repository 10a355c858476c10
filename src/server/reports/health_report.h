#pragma once
// The address-health report (GET /v1/reports/health, `netledger report`, the dashboard's Health
// page, and the scheduled `report.health` webhook): how well the ledger and the wire agreed
// over a period, and where the address space is going.
//
//   conflicts   opened and resolved per kind per bucket; time to resolve (median, p95)
//   sync        the share of the bindings seen on the wire whose wire view agreed with the
//               ledger (no binding_mismatch, mac_drift, stale_binding or duplicate_ip about them)
//   macs        the most flapping and drifting MACs
//   pools       utilization now, its trend per bucket (rebuilt from the audit log) and the
//               exhaustion forecast
//   probes      probe-before-use outcomes; quarantine and DHCP declines
//
// Conflicts come from the engine (kept 30 days after they resolve), the wire from its view
// (this replica's), the rest from the audit log, read once (at most max_events events:
// `truncated` says when the period held more).

#include <cstddef>

#include <boost/json/object.hpp>

#include "engine/engine.h"
#include "ledger/ledger.h"

namespace netledger::server {

struct HealthOptions {
  ledger::Millis from = 0, to = 0;
  ledger::Millis step = 0;  // bucket width; 0: an hour up to two days, else a day
  std::size_t max_events = 2'000'000;
};

// The largest number of buckets a report has (a finer step is refused).
inline constexpr std::size_t kMaxHealthBuckets = 1000;

boost::json::object buildHealthReport(const ledger::Ledger& ledger, const engine::Engine& engine,
                                      HealthOptions options);

}  // namespace netledger::server
