#include "agent/snooper.h"

#include <poll.h>

#include <algorithm>
#include <chrono>

#include "agent/link.h"
#include "wire/frame_observation.h"

namespace netledger::agent {

using Clock = std::chrono::steady_clock;

Snooper::Snooper(const AgentConfig& config, Reporter& reporter)
    : config_(config), reporter_(reporter) {
  for (const auto& name : config_.interfaces) {
    Interface ifc;
    ifc.name = name;
    interfaces_.push_back(std::move(ifc));
  }
}

Snooper::~Snooper() { stop(); }

void Snooper::start() {
  refresh();
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Snooper::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void Snooper::refresh() {
  std::lock_guard lock(ports_mu_);
  for (Interface& ifc : interfaces_) {
    if (!interfaceExists(ifc.name)) {
      ifc.sender.reset();
      ifc.captures.clear();
      ifc.error = "interface does not exist (yet)";
      continue;
    }
    ifc.bridge = isBridge(ifc.name);
    if (!ifc.sender) {
      auto mac = interfaceMac(ifc.name);
      PortOptions opts;
      opts.capture = !ifc.bridge;  // a bridge's frames are read on its ports
      auto port = mac ? PacketPort::open(ifc.name, opts)
                      : Result<std::unique_ptr<PacketPort>>(mac.status());
      if (!port) {
        ifc.error = port.status().message();
        continue;
      }
      ifc.mac = *mac;
      ifc.sender = std::move(*port);
      ifc.error.clear();
    }
    if (!ifc.bridge) continue;
    // Ports come and go with their VMs/pods: open new ones, forget removed ones.
    auto ports = bridgePorts(ifc.name);
    for (auto it = ifc.captures.begin(); it != ifc.captures.end();) {
      if (!std::binary_search(ports.begin(), ports.end(), it->first)) {
        it = ifc.captures.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& p : ports) {
      if (ifc.captures.contains(p)) continue;
      auto port = PacketPort::open(p, PortOptions{});
      if (port) ifc.captures.emplace(p, std::move(*port));
    }
  }
}

void Snooper::run() {
  auto next_refresh = Clock::now() + config_.port_refresh;
  std::vector<pollfd> fds;
  std::vector<PacketPort*> ports;
  while (!stopping_.load()) {
    if (Clock::now() >= next_refresh) {
      refresh();
      next_refresh = Clock::now() + config_.port_refresh;
    }
    fds.clear();
    ports.clear();
    {
      std::lock_guard lock(ports_mu_);
      for (Interface& ifc : interfaces_) {
        if (!ifc.bridge && ifc.sender) ports.push_back(ifc.sender.get());
        for (auto& [name, port] : ifc.captures) ports.push_back(port.get());
      }
    }
    for (PacketPort* p : ports) fds.push_back(pollfd{p->fd(), POLLIN, 0});
    // Short timeouts: stop and refresh are noticed within 100 ms.
    int n = ::poll(fds.data(), fds.size(), 100);
    if (n <= 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
      PacketPort* port = ports[i];
      auto got = port->dispatch(256, [&](std::span<const std::uint8_t> bytes, std::uint64_t t) {
        handleFrame(bytes, t, port->name());
      });
      if (!got) next_refresh = Clock::now();  // the interface went away: re-read soon
    }
    // Ports are only destroyed by refresh() on this thread, so the pointers stayed valid.
  }
}

void Snooper::handleFrame(std::span<const std::uint8_t> bytes, std::uint64_t time_us,
                          const std::string& port) {
  counters_.frames.fetch_add(1, std::memory_order_relaxed);
  wire::Frame frame;
  wire::ParseError err = wire::parseFrame(bytes, frame);
  counters_.by_error[static_cast<int>(err)].fetch_add(1, std::memory_order_relaxed);
  if (err != wire::ParseError::kOk) return;
  counters_.by_kind[static_cast<int>(frame.kind)].fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(watchers_mu_);
    for (FrameWatcher* w : watchers_) w->onFrame(frame, port);
  }
  observation::Observation o = wire::toObservation(frame, time_us);
  if (o.mac.isZero() || o.mac.isMulticast()) return;  // nothing a station can hold
  o.interface = port;
  if (!reporter_.offer(std::move(o))) {
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

int Snooper::sendAll(const std::function<wire::FrameBytes(addr::Mac own)>& build) {
  int sent = 0;
  std::lock_guard lock(ports_mu_);
  for (Interface& ifc : interfaces_) {
    if (!ifc.sender) continue;
    wire::FrameBytes frame = build(ifc.mac);
    if (ifc.sender->send(frame.bytes()).isOk()) {
      ++sent;
      counters_.sent_frames.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.send_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return sent;
}

std::vector<addr::Mac> Snooper::ownMacs() const {
  std::vector<addr::Mac> out;
  std::lock_guard lock(ports_mu_);
  for (const Interface& ifc : interfaces_) {
    if (ifc.sender) out.push_back(ifc.mac);
  }
  return out;
}

void Snooper::addWatcher(FrameWatcher* watcher) {
  std::lock_guard lock(watchers_mu_);
  watchers_.push_back(watcher);
}

void Snooper::removeWatcher(FrameWatcher* watcher) {
  std::lock_guard lock(watchers_mu_);
  std::erase(watchers_, watcher);
}

std::vector<InterfaceHealth> Snooper::health() const {
  std::vector<InterfaceHealth> out;
  std::lock_guard lock(ports_mu_);
  for (const Interface& ifc : interfaces_) {
    InterfaceHealth h{ifc.name, ifc.sender != nullptr, {}, ifc.error};
    if (!ifc.bridge && ifc.sender) h.ports.push_back(ifc.name);
    for (const auto& [name, port] : ifc.captures) h.ports.push_back(name);
    out.push_back(std::move(h));
  }
  return out;
}

std::uint64_t Snooper::kernelDrops() const {
  std::uint64_t n = 0;
  std::lock_guard lock(ports_mu_);
  for (const Interface& ifc : interfaces_) {
    if (!ifc.bridge && ifc.sender) n += ifc.sender->stats().kernel_drops;
    for (const auto& [name, port] : ifc.captures) n += port->stats().kernel_drops;
  }
  return n;
}

}  // namespace netledger::agent
