#pragma once
// netledger-agent: the node agent. Wires the pieces together and talks to netledgerd:
//
//   Snooper  --frames-->  Reporter  --POST /v1/observations (batches)-->  server
//   server   --GET /v1/events (SSE: jobs for this node)-->  workers: probe / announce / scan
//   workers  --POST /v1/bindings/{id}/probe, /v1/scans/{id}/result-->  server
//   heartbeat --POST /v1/hosts/{node}/renew every interval-->  server
//   GET /metrics, GET /healthz on `listen`
//
// Every conversation with the server survives its absence: the event stream reconnects with
// backoff and resumes with Last-Event-ID (plus a sweep of the node's reserved bindings, so no
// probe request is lost), observations queue up to their bound, heartbeats retry next interval.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/config.h"
#include "agent/jobs.h"
#include "common/status.h"

namespace netledger::agent {

class Agent {
 public:
  explicit Agent(AgentConfig config);
  ~Agent();  // stop()
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts everything. Errors: invalid_argument (server URL), unavailable (listen address).
  // Interfaces that cannot be opened yet are not an error: they are retried and /healthz tells.
  Status start();
  // Stops the threads; what is queued for the server gets one last try. Idempotent.
  void stop();
  // The bound port of the metrics/health endpoint (0 when disabled).
  std::uint16_t metricsPort() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netledger::agent
