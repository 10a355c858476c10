#include "wire/frame_observation.h"

namespace netledger::wire {

observation::Observation toObservation(const Frame& frame, std::uint64_t time_us) {
  observation::Observation o;
  if (auto claim = claimOf(frame)) o.ip = claim->ip;
  // A probe claims nothing but asks about an address: the engine needs that address to see a
  // probe meet a station already using it (RFC 5227 / RFC 4862 conflicts).
  if (frame.kind == FrameKind::kArpProbe) o.ip = addr::IpAddress(frame.target_ip);
  if (frame.kind == FrameKind::kDadProbe) o.ip = addr::IpAddress(frame.target);
  o.mac = stationMacOf(frame);
  // VLAN 0 is a priority tag without a VLAN (802.1Q): the frame is on the native VLAN.
  if (frame.vlan_tags > 0 && frame.vlan != 0) o.vlan = frame.vlan;
  o.source = isArp(frame.kind) ? observation::Source::kArp : observation::Source::kNdp;
  o.kind = frame.kind;
  o.time = static_cast<std::int64_t>(time_us / 1000);
  return o;
}

}  // namespace netledger::wire
