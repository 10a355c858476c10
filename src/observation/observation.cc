#include "observation/observation.h"

#include <chrono>
#include <cstdio>

#include <boost/json.hpp>

#include "common/enum_names.h"

namespace netledger::observation {

namespace json = boost::json;

namespace {

constexpr detail::Names<Source, 6> kSources = {{
    {Source::kArp, "arp"},
    {Source::kNdp, "ndp"},
    {Source::kDhcp, "dhcp"},
    {Source::kAgent, "agent"},
    {Source::kPcap, "pcap"},
    {Source::kApi, "api"},
}};

// RFC 3339 UTC with milliseconds, before the epoch too.
std::string formatMicros(std::int64_t time_us) {
  using namespace std::chrono;
  auto since_epoch = microseconds(time_us);
  sys_days day = floor<days>(sys_time<microseconds>(since_epoch));
  year_month_day ymd(day);
  auto in_day = since_epoch - day.time_since_epoch();
  hh_mm_ss<microseconds> hms(in_day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count() / 1000));
  return buf;
}

}  // namespace

std::string_view sourceName(Source source) { return detail::nameOf(kSources, source); }

Result<Source> parseSource(std::string_view text) {
  return detail::parseOf(kSources, text, "source");
}

std::string formatRfc3339Millis(std::uint64_t time_us) {
  return formatMicros(static_cast<std::int64_t>(time_us));
}

json::object toJson(const Observation& o) {
  json::object j;
  if (o.ip) j["ip"] = o.ip->toString();
  j["mac"] = o.mac.toString();
  j["network"] = o.network;
  if (!o.host.empty()) j["host"] = o.host;
  if (!o.interface.empty()) j["interface"] = o.interface;
  if (o.vlan) j["vlan"] = static_cast<std::int64_t>(*o.vlan);
  j["source"] = sourceName(o.source);
  if (o.kind != FrameKind::kUnknown) j["kind"] = frameKindName(o.kind);
  if (o.time != 0) j["time"] = formatMicros(o.time * 1000);
  return j;
}

std::string observationsToJson(std::span<const Observation> batch) {
  json::array items;
  items.reserve(batch.size());
  for (const Observation& o : batch) items.emplace_back(toJson(o));
  return json::serialize(json::object{{"observations", std::move(items)}});
}

}  // namespace netledger::observation
