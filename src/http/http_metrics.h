#pragma once
// Internal: the request metrics the server records (names in server.h). A null registry turns
// every call into a no-op, so the connection code never branches on "metrics enabled".

#include <string_view>

#include "metrics/registry.h"

namespace netledger::http {

class HttpMetrics {
 public:
  explicit HttpMetrics(metrics::Registry* registry);

  void recordRequest(std::string_view route, std::string_view method, unsigned status,
                     double seconds);
  void connectionOpened();
  void connectionClosed();

 private:
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* duration_ = nullptr;
  metrics::Gauge* connections_ = nullptr;
};

// A bounded label for a client-supplied method: the standard methods as they are, anything else
// "other", so a client cannot create unbounded label sets.
std::string_view methodLabel(std::string_view method);

}  // namespace netledger::http
