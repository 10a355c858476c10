#pragma once
// The seam between the agent's logic (probe, announce, scan) and the wire: send a frame on the
// node's interfaces, and watch the frames that arrive. The Snooper implements it on real
// interfaces; unit tests implement it in memory.

#include <functional>
#include <string>
#include <vector>

#include "addr/mac.h"
#include "wire/frames.h"

namespace netledger::agent {

// Receives every parsed ARP/NDP frame the node sees, on the capture thread: must be quick and
// must not call back into the LinkLayer.
class FrameWatcher {
 public:
  virtual ~FrameWatcher() = default;
  virtual void onFrame(const wire::Frame& frame, const std::string& port) = 0;
};

class LinkLayer {
 public:
  virtual ~LinkLayer() = default;
  // Builds one frame per sending interface (given that interface's MAC) and sends it there.
  // Returns on how many interfaces it went out.
  virtual int sendAll(const std::function<wire::FrameBytes(addr::Mac own)>& build) = 0;
  // The MACs of the node's sending interfaces: frames from them are our own.
  virtual std::vector<addr::Mac> ownMacs() const = 0;
  // Watchers must be removed before they are destroyed. Thread-safe.
  virtual void addWatcher(FrameWatcher* watcher) = 0;
  virtual void removeWatcher(FrameWatcher* watcher) = 0;
};

// Adds a watcher for the lifetime of the guard.
class WatchGuard {
 public:
  WatchGuard(LinkLayer& link, FrameWatcher& watcher) : link_(link), watcher_(watcher) {
    link_.addWatcher(&watcher_);
  }
  ~WatchGuard() { link_.removeWatcher(&watcher_); }
  WatchGuard(const WatchGuard&) = delete;
  WatchGuard& operator=(const WatchGuard&) = delete;

 private:
  LinkLayer& link_;
  FrameWatcher& watcher_;
};

}  // namespace netledger::agent
