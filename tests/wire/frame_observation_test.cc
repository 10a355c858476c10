// Frames as API observations: which address and MAC each kind reports, and the JSON body of
// POST /v1/observations they make.
#include "wire/frame_observation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "wire/wire_test_util.h"

namespace netledger::wire {
namespace {

namespace json = boost::json;
using testing_util::at;
using testing_util::ip;
using testing_util::mac;
using testing_util::v4;
using testing_util::v6;

using observation::Observation;

Observation observe(const FrameBytes& bytes, double t = 0) {
  Frame f;
  EXPECT_EQ(parseFrame(bytes.bytes(), f), ParseError::kOk);
  return toObservation(f, at(t));
}

TEST(ObservationTest, EachKindReportsItsClaim) {
  auto a = mac("52:54:00:12:34:56"), b = mac("52:54:00:ab:cd:ef");
  auto req = observe(buildArpRequest(a, v4("192.0.2.10"), v4("192.0.2.1")));
  EXPECT_EQ(req.kind, FrameKind::kArpRequest);
  EXPECT_EQ(req.ip, ip("192.0.2.10"));
  EXPECT_EQ(req.mac, a);
  EXPECT_FALSE(req.vlan);

  auto reply = observe(buildArpReply(b, v4("192.0.2.1"), a, v4("192.0.2.10"), 100));
  EXPECT_EQ(reply.ip, ip("192.0.2.1"));
  EXPECT_EQ(reply.mac, b);
  EXPECT_EQ(reply.vlan, 100);

  auto probe = observe(buildArpProbe(a, v4("192.0.2.99")));
  EXPECT_EQ(probe.kind, FrameKind::kArpProbe);
  // The prober holds no address yet: `ip` is the address it asks about (the API's contract
  // for kind probe/dad), which is what lets the engine see a probe meet a station using it.
  EXPECT_EQ(probe.ip, ip("192.0.2.99"));
  EXPECT_EQ(probe.mac, a);

  auto dad = observe(buildDadProbe(b, v6("2001:db8::5")));
  EXPECT_EQ(dad.kind, FrameKind::kDadProbe);
  EXPECT_EQ(dad.ip, ip("2001:db8::5"));
  EXPECT_EQ(dad.mac, b);

  auto na = observe(buildNeighborAdvertisement(b, v6("2001:db8::5"), kNaOverride));
  EXPECT_EQ(na.ip, ip("2001:db8::5"));
  EXPECT_EQ(na.mac, b);

  auto ns = observe(buildNeighborSolicitation(a, v6("2001:db8::6"), v6("2001:db8::5"), 0));
  EXPECT_EQ(ns.ip, ip("2001:db8::6"));
  EXPECT_FALSE(ns.vlan) << "VLAN 0 is a priority tag, not a VLAN";
}

TEST(ObservationTest, BatchJsonFollowsTheApiContract) {
  auto a = mac("52:54:00:12:34:56");
  std::vector<Observation> batch = {
      observe(buildArpReply(a, v4("192.0.2.10"), mac("52:54:00:00:00:01"), v4("192.0.2.1"), 100),
              0.123),
      observe(buildArpProbe(a, v4("192.0.2.11")), 1)};
  // Where it was seen, as `netledger import-pcap` says.
  for (Observation& o : batch) {
    o.host = "node-1";
    o.interface = "eth0";
    o.source = observation::Source::kPcap;
  }
  json::value body = json::parse(observation::observationsToJson(batch));
  const json::array& items = body.at("observations").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(json::serialize(items[0]),
            R"({"ip":"192.0.2.10","mac":"52:54:00:12:34:56","network":"default",)"
            R"("host":"node-1","interface":"eth0","vlan":100,"source":"pcap","kind":"reply",)"
            R"("time":"2026-11-22T10:00:00.123Z"})");
  EXPECT_EQ(items[1].at("ip"), "192.0.2.11");
  EXPECT_FALSE(items[1].as_object().contains("vlan"));
  EXPECT_EQ(items[1].at("kind"), "probe");

  for (Observation& o : batch) {
    o.network = "lab";
    o.host.clear();
    o.interface.clear();
  }
  json::value b = json::parse(observation::observationsToJson(batch));
  const json::object& first = b.at("observations").as_array()[0].as_object();
  EXPECT_FALSE(first.contains("host"));
  EXPECT_FALSE(first.contains("interface"));
  EXPECT_EQ(first.at("network"), "lab");

  EXPECT_EQ(observation::observationsToJson({}), R"({"observations":[]})");
}

}  // namespace
}  // namespace netledger::wire
