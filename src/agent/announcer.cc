#include "agent/announcer.h"

#include <chrono>
#include <thread>

namespace netledger::agent {

wire::FrameBytes buildGratuitousArp(addr::Mac own, addr::Mac mac, addr::Ipv4 ip,
                                    wire::AnnouncementForm form) {
  wire::ArpFields f;
  f.op = form == wire::AnnouncementForm::kRequest ? 1 : 2;
  f.eth_src = own;
  f.eth_dst = addr::Mac(addr::Mac::kMask);
  f.sender_mac = mac;
  f.sender_ip = ip;
  f.target_ip = ip;
  // RFC 5227 3: the announcement's target hardware address is ignored and should be zero; the
  // reply form carries the MAC again, as gratuitous replies traditionally do.
  if (form == wire::AnnouncementForm::kReply) f.target_mac = mac;
  return wire::buildArp(f);
}

wire::FrameBytes buildUnsolicitedNa(addr::Mac own, addr::Mac mac, addr::Ipv6 ip) {
  wire::NdpFields f;
  f.advertisement = true;
  f.eth_src = own;
  const addr::Ipv6 all_nodes = *addr::Ipv6::parse("ff02::1");
  f.eth_dst = wire::multicastMac(all_nodes);
  f.ip_src = ip;
  f.ip_dst = all_nodes;
  f.target = ip;
  f.na_flags = wire::kNaOverride;
  f.link_addr = mac;
  return wire::buildNdp(f);
}

int announce(LinkLayer& link, const AnnounceJob& job, int count, Millis interval,
             const std::atomic<bool>& stop) {
  int sent = 0;
  for (int round = 0; round < count && !stop.load(); ++round) {
    if (round > 0) {
      for (auto slept = Millis(0); slept < interval && !stop.load(); slept += Millis(50)) {
        std::this_thread::sleep_for(std::min(Millis(50), interval - slept));
      }
    }
    for (const addr::IpAddress& ip : job.addresses) {
      if (ip.isV4()) {
        for (auto form : {wire::AnnouncementForm::kRequest, wire::AnnouncementForm::kReply}) {
          sent += link.sendAll(
              [&](addr::Mac own) { return buildGratuitousArp(own, job.mac, ip.v4(), form); });
        }
      } else {
        sent +=
            link.sendAll([&](addr::Mac own) { return buildUnsolicitedNa(own, job.mac, ip.v6()); });
      }
    }
  }
  return sent;
}

}  // namespace netledger::agent
