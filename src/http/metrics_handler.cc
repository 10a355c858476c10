#include "http/metrics_handler.h"

namespace netledger::http {

Handler metricsHandler(const metrics::Registry& registry) {
  return [&registry](Request&, Responder respond) {
    Response r;
    r.contentType = metrics::Registry::kContentType;
    r.body = registry.render();
    respond(std::move(r));
  };
}

}  // namespace netledger::http
