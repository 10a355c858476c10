#include "http/http_metrics.h"

#include <array>
#include <charconv>

namespace netledger::http {

HttpMetrics::HttpMetrics(metrics::Registry* registry) {
  if (registry == nullptr) return;
  requests_ = &registry->counter("netledger_http_requests_total",
                                 "HTTP requests answered, by route pattern, method and status.",
                                 {"route", "method", "status"});
  duration_ = &registry->histogram(
      "netledger_http_request_duration_seconds",
      "Time from a request's header being read to its response being handed to the connection.",
      {"route", "method"});
  connections_ = &registry->gauge("netledger_http_connections", "Open HTTP connections.").get();
}

void HttpMetrics::recordRequest(std::string_view route, std::string_view method, unsigned status,
                                double seconds) {
  if (requests_ == nullptr) return;
  char buf[8];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, status);
  std::string_view statusText(buf, static_cast<std::size_t>(end - buf));
  requests_->labels({route, method, statusText}).inc();
  duration_->labels({route, method}).observe(seconds);
}

void HttpMetrics::connectionOpened() {
  if (connections_ != nullptr) connections_->inc();
}

void HttpMetrics::connectionClosed() {
  if (connections_ != nullptr) connections_->dec();
}

std::string_view methodLabel(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

}  // namespace netledger::http
