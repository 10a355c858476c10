#pragma once
// The plugin's view of netledgerd's REST API, over the synchronous httpclient::HttpClient with the
// plugin's bounded timeouts. Transport failures and 5xx answers become CNI code 11 (try again
// later): the runtime retries, and nothing was allocated that it does not know about (an
// allocation is idempotent per (container id, ifname)).

#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cni/cni_error.h"
#include "cni/config.h"
#include "httpclient/http_client.h"

namespace netledger::cni {

struct ApiAnswer {
  unsigned status = 0;
  boost::json::value body;  // null when the body was empty
};

class LedgerApi {
 public:
  // Reads the token file (first line) and prepares the client; no connection yet.
  static CniResult<std::unique_ptr<LedgerApi>> create(const IpamConfig& ipam);

  // POST /v1/bindings: 201 new or 200 existing, both returned as the binding. A `mac` the
  // ledger refuses (held elsewhere, quarantined) is dropped and the allocation retried.
  CniResult<boost::json::object> allocate(const boost::json::object& request);
  // The reserved or active bindings of (instance, interface); empty when none.
  CniResult<std::vector<boost::json::object>> liveBindings(const std::string& instance,
                                                           const std::string& interface);
  // DELETE /v1/bindings/{id}; a binding already gone is success.
  CniResult<bool> release(const std::string& id);
  // PATCH /v1/bindings/{id} with `changes` (mac, host, host_mac).
  CniResult<boost::json::object> updateBinding(const std::string& id,
                                               const boost::json::object& changes);
  // GET /v1/pools/{name}; kInvalidNetworkConfig naming the pool when it does not exist.
  CniResult<boost::json::object> pool(const std::string& name);
  // POST /v1/pools; an existing pool of that name is returned as it is (the caller compares).
  CniResult<boost::json::object> createOrGetPool(const boost::json::object& request);

  // GET /v1/portmaps?binding_id=: the binding's host-port mappings.
  CniResult<std::vector<boost::json::object>> portMaps(const std::string& binding_id);
  // POST /v1/portmaps; a 409 (the host port is held) is refused like any other answer.
  CniResult<boost::json::object> createPortMap(const boost::json::object& request);
  // DELETE /v1/portmaps/{id}; one already gone is success.
  CniResult<bool> deletePortMap(const std::string& id);

  // One request; every HTTP status is returned, transport failures and 5xx are code 11.
  CniResult<ApiAnswer> call(const std::string& method, const std::string& target,
                            const boost::json::value* body);

 private:
  LedgerApi(std::unique_ptr<httpclient::HttpClient> client, std::string token);
  // The error for an unexpected answer: 4xx invalid_argument/not_found -> 7, others -> 100.
  CniError refused(const std::string& what, const ApiAnswer& answer) const;

  std::unique_ptr<httpclient::HttpClient> client_;
  std::string token_;
};

}  // namespace netledger::cni
