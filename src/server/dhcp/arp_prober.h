#pragma once
// ArpProber: "is this address free on the link?" before the DHCP server offers it. For each
// probe, one RFC 5227 ARP probe (sender IP 0.0.0.0, so no neighbour learns anything from it)
// goes out of the serving interface through a packet socket, and any ARP packet that has the
// address as its sender within `wait` is the answer. Probes are asynchronous and many may be
// in flight: one thread sends, listens on every interface and times them out, so a probe costs
// the client `wait` but the server nothing.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "addr/ipv4.h"
#include "addr/mac.h"
#include "common/status.h"
#include "server/dhcp/dhcp_server.h"

namespace netledger::server {

class ArpProber final : public DhcpProber {
 public:
  // kUnavailable when a packet socket cannot be opened (needs CAP_NET_RAW).
  static Result<std::unique_ptr<ArpProber>> open(const std::vector<std::string>& interfaces,
                                                 std::chrono::milliseconds wait);
  ~ArpProber() override;

  void probe(const std::string& interface, addr::Ipv4 target,
             std::function<void(std::optional<addr::Mac>)> done) override;
  // Answers every probe in flight with nullopt and stops the thread. Idempotent.
  void stop();

 private:
  struct Port {
    int fd = -1;
    std::string name;
  };
  struct Pending {
    const Port* port = nullptr;
    addr::Ipv4 target;
    // The interface's MAC when the probe left: read each time, as a bridge's MAC changes
    // with its ports (and an answer goes to the MAC the probe came from).
    addr::Mac own;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(std::optional<addr::Mac>)> done;
  };
  explicit ArpProber(std::chrono::milliseconds wait) : wait_(wait) {}
  void loop();
  void sendProbe(Pending& p) const;
  void readPort(const Port& port, std::vector<Pending>& pending);
  void expire(std::vector<Pending>& pending, bool all);

  const std::chrono::milliseconds wait_;
  std::vector<Port> ports_;
  std::mutex mu_;
  std::deque<Pending> queued_;
  bool stopping_ = false;
  int wake_fd_ = -1;  // an eventfd: a new probe wakes the loop's poll
  std::thread thread_;
};

}  // namespace netledger::server
