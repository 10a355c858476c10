#include "wire/observation.h"

#include <chrono>
#include <cstdio>

#include <boost/json.hpp>

namespace netledger::wire {

namespace json = boost::json;

Observation toObservation(const Frame& frame, std::uint64_t time_us) {
  Observation o;
  if (auto claim = claimOf(frame)) o.ip = claim->ip;
  // A probe claims nothing but asks about an address: the engine needs that address to see a
  // probe meet a station already using it (RFC 5227 / RFC 4862 conflicts).
  if (frame.kind == FrameKind::kArpProbe) o.ip = addr::IpAddress(frame.target_ip);
  if (frame.kind == FrameKind::kDadProbe) o.ip = addr::IpAddress(frame.target);
  o.mac = stationMacOf(frame);
  // VLAN 0 is a priority tag without a VLAN (802.1Q): the frame is on the native VLAN.
  if (frame.vlan_tags > 0 && frame.vlan != 0) o.vlan = frame.vlan;
  o.kind = frame.kind;
  o.time_us = time_us;
  return o;
}

std::string formatRfc3339Millis(std::uint64_t time_us) {
  using namespace std::chrono;
  auto since_epoch = microseconds(static_cast<std::int64_t>(time_us));
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

std::string observationsToJson(std::span<const Observation> batch,
                               const ObservationContext& context) {
  json::array items;
  items.reserve(batch.size());
  for (const Observation& o : batch) {
    json::object item;
    if (o.ip) item["ip"] = o.ip->toString();
    item["mac"] = o.mac.toString();
    item["network"] = context.network;
    if (!context.host.empty()) item["host"] = context.host;
    if (!context.interface.empty()) item["interface"] = context.interface;
    if (o.vlan) item["vlan"] = *o.vlan;
    item["source"] = context.source;
    item["kind"] = frameKindName(o.kind);
    item["time"] = formatRfc3339Millis(o.time_us);
    items.emplace_back(std::move(item));
  }
  return json::serialize(json::object{{"observations", std::move(items)}});
}

}  // namespace netledger::wire
