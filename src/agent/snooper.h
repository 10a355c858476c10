#pragma once
// The agent's eyes and mouth on the node's interfaces.
//
// For each configured interface: if it is a bridge, every port of the bridge is snooped (frames
// the port received, i.e. from the station behind it, so observations name the port and a MAC
// moving between ports is visible) and frames are sent on the bridge itself (so they reach every
// port); the port list is re-read every port_refresh (VMs and pods come and go). A plain
// interface is snooped and sent on directly. An interface that does not exist yet is retried.
//
// One capture thread polls every port. Each ARP/NDP frame is parsed once, shown to the frame
// watchers (probes, scans) and turned into an observation for the Reporter. Garbage is counted
// by parse error and otherwise ignored.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "agent/config.h"
#include "agent/link_layer.h"
#include "agent/packet_port.h"
#include "agent/reporter.h"
#include "wire/frames.h"

namespace netledger::agent {

struct SnooperCounters {
  std::atomic<std::uint64_t> frames{0};  // frames read (after the BPF filter)
  std::array<std::atomic<std::uint64_t>, wire::kFrameKindCount> by_kind{};
  std::array<std::atomic<std::uint64_t>, wire::kParseErrorCount> by_error{};
  std::atomic<std::uint64_t> dropped{0};  // observations the Reporter had no room for
  std::atomic<std::uint64_t> sent_frames{0}, send_errors{0};
};

// One interface's state, for /healthz.
struct InterfaceHealth {
  std::string name;
  bool up = false;                 // open for sending (and capturing, if plain)
  std::vector<std::string> ports;  // snooped ports (a bridge's; the interface itself if plain)
  std::string error;               // why it is not up
};

class Snooper final : public LinkLayer {
 public:
  Snooper(const AgentConfig& config, Reporter& reporter);
  ~Snooper() override;  // stop()

  // Opens what can be opened and starts the capture thread.
  void start();
  void stop();

  // One frame as the capture thread handles it (public for tests and fuzzing).
  void handleFrame(std::span<const std::uint8_t> bytes, std::uint64_t time_us,
                   const std::string& port);

  int sendAll(const std::function<wire::FrameBytes(addr::Mac own)>& build) override;
  std::vector<addr::Mac> ownMacs() const override;
  void addWatcher(FrameWatcher* watcher) override;
  void removeWatcher(FrameWatcher* watcher) override;

  const SnooperCounters& counters() const { return counters_; }
  std::vector<InterfaceHealth> health() const;
  std::uint64_t kernelDrops() const;

 private:
  struct Interface {
    std::string name;
    bool bridge = false;
    std::unique_ptr<PacketPort> sender;  // the interface itself
    addr::Mac mac;
    std::map<std::string, std::unique_ptr<PacketPort>> captures;  // by port name
    std::string error;
  };
  void refresh();
  void run();

  const AgentConfig& config_;
  Reporter& reporter_;
  SnooperCounters counters_;
  mutable std::mutex ports_mu_;  // interfaces_ (structure; ports are used by one thread each)
  std::vector<Interface> interfaces_;
  std::mutex watchers_mu_;
  std::vector<FrameWatcher*> watchers_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace netledger::agent
