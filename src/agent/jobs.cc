#include "agent/jobs.h"

#include <boost/json.hpp>

#include "agent/binding_json.h"

namespace netledger::agent {

namespace json = boost::json;

namespace {

std::optional<Job> scanJob(const json::object& after) {
  ScanJob job;
  job.id = std::string(jsonString(after, "id"));
  if (job.id.empty() || job.id.size() > 64) return std::nullopt;
  const json::value* rate = after.if_contains("rate_per_s");
  if (rate != nullptr && rate->is_int64()) {
    const auto r = rate->get_int64();
    if (r < 1 || r > 10'000) return std::nullopt;
    job.rate_per_s = static_cast<int>(r);
  }
  const json::value* list = after.if_contains("addresses");
  if (list == nullptr || !list->is_array()) return std::nullopt;
  for (const json::value& item : list->get_array()) {
    if (!item.is_object()) return std::nullopt;
    auto first = addr::IpAddress::parse(jsonString(item.get_object(), "start"));
    auto last = addr::IpAddress::parse(jsonString(item.get_object(), "end"));
    if (!first || !last) return std::nullopt;
    auto range = addr::IpRange::make(*first, *last);
    if (!range) return std::nullopt;
    const addr::uint128 n = range->last().bits() - range->first().bits();
    if (n >= kMaxScanAddresses ||
        job.size + static_cast<std::uint64_t>(n) + 1 > kMaxScanAddresses) {
      return std::nullopt;
    }
    job.size += static_cast<std::uint64_t>(n) + 1;
    job.ranges.push_back(*range);
  }
  return job;
}

}  // namespace

std::optional<Job> jobForEvent(std::string_view op, std::string_view data,
                               const std::string& node) {
  json::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::value* after_v = v.get_object().if_contains("after");
  if (after_v == nullptr || !after_v->is_object()) return std::nullopt;
  const json::object& after = after_v->get_object();
  if (op == "scan.requested") {
    if (jsonString(after, "via") != node) return std::nullopt;
    return scanJob(after);
  }
  if (jsonString(after, "host") != node) return std::nullopt;
  auto id = bindingIdOf(after);
  auto addresses = bindingAddressesOf(after);
  if (!id || !addresses || addresses->empty()) return std::nullopt;
  if (op == "binding.allocate" || op == "binding.reassign") {
    if (jsonString(after, "state") != "reserved") return std::nullopt;
    return ProbeJob{*id, std::move(*addresses)};
  }
  if (op == "binding.migrate" || op == "address.move") {
    auto mac = addr::Mac::parse(jsonString(after, "mac"));
    if (!mac || jsonString(after, "state") != "active") return std::nullopt;
    return AnnounceJob{*id, *mac, std::move(*addresses)};
  }
  return std::nullopt;
}

}  // namespace netledger::agent
