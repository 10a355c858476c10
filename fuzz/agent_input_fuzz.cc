// Everything the agent reads from outside: the server's event stream (SSE bytes -> events ->
// jobs) and frames off the wire (-> parse -> observations, probe verdicts, scan answers), plus
// the announcement builders on arbitrary MACs and addresses, and the enforcer's reading of a
// bindings page (-> the nftables table). The first byte picks the part.
// Invariants: nothing crashes or grows without bound; a job only ever targets this node and
// stays within the scan bound; a built announcement parses back to exactly what it claims; any
// page the server could send renders a table (no port label can break or change the script),
// and so does any port-mapping list.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "agent/announcer.h"
#include "agent/config.h"
#include "agent/enforcer.h"
#include "agent/jobs.h"
#include "agent/prober.h"
#include "agent/reporter.h"
#include "agent/snooper.h"
#include "enforce/drop_log.h"
#include "fuzz_check.h"
#include "httpclient/sse.h"

using namespace netledger;

namespace {

void fuzzEvents(std::string_view bytes) {
  httpclient::SseParser parser(
      [](const httpclient::SseEvent& e) {
        auto job = agent::jobForEvent(e.event, e.data, "node-1");
        if (!job) return;
        if (const auto* s = std::get_if<agent::ScanJob>(&*job)) {
          FUZZ_CHECK(s->size <= agent::kMaxScanAddresses);
          FUZZ_CHECK(!s->ranges.empty() || s->size == 0);
        }
        if (const auto* p = std::get_if<agent::ProbeJob>(&*job)) FUZZ_CHECK(!p->addresses.empty());
      },
      4096);
  // Fed in two pieces: the split point must not matter for safety.
  const std::size_t half = bytes.size() / 2;
  parser.feed(bytes.substr(0, half));
  parser.feed(bytes.substr(half));
}

void fuzzFrames(std::span<const std::uint8_t> bytes) {
  static agent::AgentConfig config = [] {
    agent::AgentConfig c;
    c.node = "node-1";
    c.interfaces = {"fuzz0"};
    c.queue_max = 64;
    c.batch_max = 8;
    return c;
  }();
  agent::Reporter reporter(config, [](const std::string&) -> Result<unsigned> { return 202u; });
  agent::Snooper snooper(config, reporter);
  const addr::Mac own = *addr::Mac::parse("02:00:00:00:00:01");
  const addr::IpAddress targets[] = {*addr::IpAddress::parse("192.0.2.10"),
                                     *addr::IpAddress::parse("2001:db8::10")};
  // Frames are length-prefixed (one byte) so one input is a burst of frames.
  while (!bytes.empty()) {
    std::size_t n = std::min<std::size_t>(bytes[0], bytes.size() - 1);
    auto frame = bytes.subspan(1, n);
    snooper.handleFrame(frame, 1'700'000'000'000'000, "port0");
    wire::Frame f;
    if (wire::parseFrame(frame, f) == wire::ParseError::kOk) {
      for (const auto& t : targets) {
        auto mac = agent::ProbeWatch::answerOf(f, t, {own});
        if (mac) FUZZ_CHECK(*mac != own);
      }
    }
    bytes = bytes.subspan(1 + n);
  }
  FUZZ_CHECK(reporter.depth() <= config.queue_max);
  while (reporter.depth() > 0) FUZZ_CHECK(reporter.flushOnce().isOk());
}

void fuzzAnnouncements(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 6 + 6 + 16) return;
  auto mac6 = [](const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = (v << 8) | p[i];
    return addr::Mac(v);
  };
  const addr::Mac own = mac6(bytes.data());
  const addr::Mac mac = mac6(bytes.data() + 6);
  addr::uint128 bits = 0;
  for (int i = 0; i < 16; ++i) bits = (bits << 8) | bytes[12 + i];
  const addr::Ipv4 v4(static_cast<std::uint32_t>(bits));
  const addr::Ipv6 v6(bits);
  for (auto form : {wire::AnnouncementForm::kRequest, wire::AnnouncementForm::kReply}) {
    wire::Frame f;
    auto built = agent::buildGratuitousArp(own, mac, v4, form);
    FUZZ_CHECK(wire::parseFrame(built.bytes(), f) == wire::ParseError::kOk);
    FUZZ_CHECK(f.sender_mac == mac && f.sender_ip == v4 && f.target_ip == v4 && f.eth_src == own);
  }
  wire::Frame f;
  auto na = agent::buildUnsolicitedNa(own, mac, v6);
  auto err = wire::parseFrame(na.bytes(), f);
  // A multicast target is invalid in an NA (RFC 4861 7.1.2): the parser must refuse it.
  if ((bits >> 120) == 0xff) {
    FUZZ_CHECK(err != wire::ParseError::kOk);
  } else {
    FUZZ_CHECK(err == wire::ParseError::kOk);
    FUZZ_CHECK(f.target == v6 && f.has_link_addr && f.link_addr == mac &&
               (f.na_flags & wire::kNaOverride) != 0);
  }
}

void fuzzEnforcement(std::string_view bytes) {
  auto page = agent::nodeBindingsFromJson(bytes);
  if (!page) return;
  std::vector<std::string> ports = {"tap0", "uplink"};
  for (const auto& b : page->bindings) ports.push_back(b.port);  // labels as bridge ports
  agent::PortLearner learned;
  auto spec =
      agent::specFor(enforce::EnforceMode::kEnforce, ports, {"uplink"}, page->bindings, learned);
  auto script = enforce::renderRuleset(spec);
  FUZZ_CHECK(script.isOk());
  for (const auto& b : spec.bindings) {
    FUZZ_CHECK(enforce::validPortName(b.port) && b.port != "uplink");
  }
  for (const auto& p : spec.guarded_ports) FUZZ_CHECK(enforce::validPortName(p));
  // The same bytes as a logged drop (an NFLOG message's headers): read or refused, never past
  // its end; an address only when the header says which family.
  if (bytes.size() >= 14) {
    auto raw = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    auto d = enforce::parseLoggedDrop("ipv4_spoof", "port0", raw.first(14), raw.subspan(14));
    FUZZ_CHECK(d.has_value());
    if (d->ip) FUZZ_CHECK((raw[14] >> 4) == 4 || (raw[14] >> 4) == 6);
  }
  // The same bytes as a /v1/portmaps list: whatever it says, the forwards render, and a mapping
  // never expands past its bound.
  auto forwards = agent::portForwardsFromJson(bytes);
  if (!forwards) return;
  FUZZ_CHECK(forwards->size() <= bytes.size() * 1024);
  spec.forwards = *forwards;
  FUZZ_CHECK(enforce::renderRuleset(spec).isOk());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 4) {
    case 3:
      fuzzEnforcement(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
      break;
    case 0:
      fuzzEvents(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
      break;
    case 1:
      fuzzFrames(rest);
      break;
    default:
      fuzzAnnouncements(rest);
      break;
  }
  return 0;
}
