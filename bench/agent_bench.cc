// The agent's capture path (src/agent): frames -> parse -> watchers -> observation -> bounded,
// coalescing queue -> JSON batches, as Snooper::handleFrame and Reporter run it, without the
// kernel (libpcap's own cost is not ours to measure). Publishes:
//   agent_frames_per_s        a realistic mix: 4,096 stations on 8 ports, ARP and NDP, each
//                              frame distinct, batches serialized to JSON as for the server
//   agent_flood_frames_per_s  one frame repeated (an ARP storm): coalescing keeps up
// Rates are per CPU second of the one thread doing all of it (the capture thread in the agent),
// so a busy machine does not distort them.
#include <benchmark/benchmark.h>

#include <vector>

#include "agent/config.h"
#include "agent/reporter.h"
#include "agent/snooper.h"
#include "wire/frames.h"

namespace netledger {
namespace {

std::vector<wire::FrameBytes> mix() {
  std::vector<wire::FrameBytes> frames;
  for (std::uint32_t i = 0; i < 4096; ++i) {
    const addr::Mac mac(0x525400000000ull + i);
    if (i % 4 == 3) {
      const auto ip = *addr::Ipv6::parse("2001:db8::");
      frames.push_back(
          wire::buildNeighborAdvertisement(mac, addr::Ipv6(ip.value() + i), wire::kNaOverride));
    } else {
      frames.push_back(
          wire::buildArpRequest(mac, addr::Ipv4(0xC6120000u + i), addr::Ipv4(0xC6120001u)));
    }
  }
  return frames;
}

void run(benchmark::State& state, const std::vector<wire::FrameBytes>& frames,
         const char* counter) {
  agent::AgentConfig config;
  config.node = "node-1";
  config.interfaces = {"br0"};
  config.batch_max = 1000;
  config.queue_max = 65'536;
  std::size_t bytes = 0;
  agent::Reporter reporter(config, [&](const std::string& body) -> Result<unsigned> {
    bytes += body.size();
    return 202u;
  });
  agent::Snooper snooper(config, reporter);
  const std::string ports[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"};
  std::uint64_t n = 0;
  std::uint64_t t = 1'700'000'000'000'000;
  for (auto _ : state) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      snooper.handleFrame(frames[i].bytes(), ++t, ports[i % 8]);
    }
    while (reporter.depth() > 0) benchmark::DoNotOptimize(reporter.flushOnce());
    n += frames.size();
  }
  state.counters[counter] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
  benchmark::DoNotOptimize(bytes);
}

void BM_AgentFrames(benchmark::State& state) {
  static const auto frames = mix();
  run(state, frames, "agent_frames_per_s");
}
BENCHMARK(BM_AgentFrames);

void BM_AgentFlood(benchmark::State& state) {
  static const std::vector<wire::FrameBytes> frames(
      4096, wire::buildArpRequest(addr::Mac(0x525400000001ull), addr::Ipv4(0xC6120005u),
                                  addr::Ipv4(0xC6120001u)));
  run(state, frames, "agent_flood_frames_per_s");
}
BENCHMARK(BM_AgentFlood);

}  // namespace
}  // namespace netledger

BENCHMARK_MAIN();
