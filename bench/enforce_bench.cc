// enforce_bench: what the agent pays to keep its anti-spoofing table in step with the ledger.
//
//   enforce_bench                 in a private network namespace of its own (unshare; root):
//                                 render + load a table of 1,000 bindings (10 per port on 100
//                                 ports, IPv4 + IPv6 each), then one binding change at a time
//                                 (an address moves between two bindings: the whole table is
//                                 re-rendered and replaced, as the agent does); then the same
//                                 with 1,000 host-port forwards, and one mapping coming and
//                                 going; JSON figures, medians of repeated runs.
//   enforce_bench --script PORT=MAC=IP ...
//                                 prints the enforce-mode table for those pairs (bench/
//                                 enforce_bench.py loads it with nft for the iperf3 comparison).
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "enforce/nftables.h"
#include "enforce/ruleset.h"

using namespace netledger;
using enforce::EnforceMode;
using enforce::RulesetSpec;

namespace {

constexpr int kPorts = 100;
constexpr int kPerPort = 10;

// The i-th host address of the three IPv4 documentation prefixes (762 of them; past that they
// repeat, behind other ports and MACs: distinct elements all the same).
addr::IpAddress docV4(int i) {
  static constexpr std::uint32_t kNets[] = {0xC0000200u, 0xC6336400u, 0xCB007100u};
  const int n = i % 762;
  return addr::IpAddress(addr::Ipv4(kNets[n / 254] + static_cast<std::uint32_t>(n % 254) + 1));
}

RulesetSpec thousandBindings() {
  RulesetSpec spec;
  spec.mode = EnforceMode::kEnforce;
  for (int p = 0; p < kPorts; ++p) spec.guarded_ports.push_back("vm" + std::to_string(p));
  for (int i = 0; i < kPorts * kPerPort; ++i) {
    const auto mac = addr::Mac(0x020000000000ull + static_cast<std::uint64_t>(i) + 1);
    const auto v4 = docV4(i);
    const auto v6 = addr::IpAddress::parse("2001:db8::" + std::to_string(i + 1)).value();
    spec.bindings.push_back({"vm" + std::to_string(i / kPerPort), mac, {v4, v6}});
  }
  return spec;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Render + load, as the agent's Enforcer::apply does; dies on a refused script.
double applyMs(enforce::Nftables& nft, const RulesetSpec& spec) {
  const auto t0 = std::chrono::steady_clock::now();
  Status s = nft.run(enforce::renderRuleset(spec).value());
  if (!s.isOk()) {
    std::cerr << "enforce_bench: " << s.message() << "\n";
    std::exit(1);
  }
  return msSince(t0);
}

int measure() {
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("enforce_bench: unshare(CLONE_NEWNET) (needs root)");
    return 77;
  }
  auto nft = enforce::Nftables::open();
  if (!nft) return 1;
  RulesetSpec spec = thousandBindings();
  std::vector<double> full, change;
  for (int r = 0; r < 7; ++r) {
    if (!(*nft)->run(enforce::renderRemoval()).isOk()) return 1;
    full.push_back(applyMs(**nft, spec));
  }
  for (int r = 0; r < 41; ++r) {  // a VIP moving back and forth between bindings 0 and 1
    auto& from = spec.bindings[r % 2 == 0 ? 0 : 1].addresses;
    auto& to = spec.bindings[r % 2 == 0 ? 1 : 0].addresses;
    to.push_back(from.back());
    from.pop_back();
    change.push_back(applyMs(**nft, spec));
  }
  // The same table with 1,000 host ports forwarded (one per binding), then one mapping coming
  // and going: both tables are replaced in one transaction, as the agent does with --port-maps.
  spec.forwards.emplace();
  for (int i = 0; i < kPorts * kPerPort; ++i) {
    spec.forwards->push_back({"tcp", std::nullopt, static_cast<std::uint16_t>(30000 + i),
                              spec.bindings[static_cast<std::size_t>(i)].addresses.front(), 80});
  }
  std::vector<double> forwards, forward_change;
  for (int r = 0; r < 7; ++r) {
    if (!(*nft)->run(enforce::renderRemoval()).isOk()) return 1;
    forwards.push_back(applyMs(**nft, spec));
  }
  for (int r = 0; r < 41; ++r) {  // as the agent does: only the forwards' table is replaced
    if (r % 2 == 0) {
      spec.forwards->push_back({"udp", std::nullopt, 40000, docV4(0), 53});
    } else {
      spec.forwards->pop_back();
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (!(*nft)->run(enforce::renderForwards(spec.forwards).value()).isOk()) return 1;
    forward_change.push_back(msSince(t0));
  }
  std::printf(
      "{\"enforce_1000_bindings_ms\": %.3f, \"enforce_change_ms\": %.3f, "
      "\"enforce_1000_forwards_ms\": %.3f, \"enforce_forward_change_ms\": %.3f}\n",
      median(full), median(change), median(forwards), median(forward_change));
  return 0;
}

int printScript(int argc, char** argv) {
  RulesetSpec spec;
  spec.mode = EnforceMode::kEnforce;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto a = arg.find('='), b = arg.rfind('=');
    auto mac = addr::Mac::parse(arg.substr(a + 1, b - a - 1));
    auto ip = addr::IpAddress::parse(arg.substr(b + 1));
    if (a == b || !mac || !ip) {
      std::cerr << "enforce_bench: " << arg << ": expected PORT=MAC=IP\n";
      return 2;
    }
    spec.guarded_ports.push_back(arg.substr(0, a));
    spec.bindings.push_back({arg.substr(0, a), *mac, {*ip}});
  }
  auto script = enforce::renderRuleset(spec);
  if (!script) {
    std::cerr << "enforce_bench: " << script.status().message() << "\n";
    return 2;
  }
  std::cout << *script;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--script") return printScript(argc, argv);
  return measure();
}
