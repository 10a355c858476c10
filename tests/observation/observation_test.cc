// The observation vocabulary: frame kind and source names, what claims an address, the time
// format and the JSON of one observation.
#include "observation/observation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace netledger::observation {
namespace {

namespace json = boost::json;

TEST(ObservationJsonTest, SourceAndKindNamesRoundTrip) {
  for (auto s :
       {Source::kArp, Source::kNdp, Source::kDhcp, Source::kAgent, Source::kPcap, Source::kApi}) {
    EXPECT_EQ(parseSource(sourceName(s)).value(), s);
  }
  for (auto k :
       {FrameKind::kUnknown, FrameKind::kArpRequest, FrameKind::kArpReply, FrameKind::kArpProbe,
        FrameKind::kArpAnnouncement, FrameKind::kNeighborSolicitation,
        FrameKind::kNeighborAdvertisement, FrameKind::kDadProbe}) {
    EXPECT_EQ(parseFrameKind(frameKindName(k)).value(), k);
  }
  EXPECT_FALSE(parseSource("ARP").isOk());  // names are exact
  EXPECT_FALSE(parseFrameKind("").isOk());
}

TEST(ObservationJsonTest, ProbesAndDadClaimNothing) {
  Observation o;
  o.ip = addr::IpAddress::parse("192.0.2.9").value();
  for (auto k : {FrameKind::kUnknown, FrameKind::kArpRequest, FrameKind::kArpReply,
                 FrameKind::kArpAnnouncement, FrameKind::kNeighborSolicitation,
                 FrameKind::kNeighborAdvertisement}) {
    o.kind = k;
    EXPECT_TRUE(claimsAddress(o)) << frameKindName(k);
    EXPECT_FALSE(probesAddress(o)) << frameKindName(k);
  }
  for (auto k : {FrameKind::kArpProbe, FrameKind::kDadProbe}) {
    o.kind = k;
    EXPECT_FALSE(claimsAddress(o)) << frameKindName(k);
    EXPECT_TRUE(probesAddress(o)) << frameKindName(k);
  }
  o.ip.reset();
  o.kind = FrameKind::kUnknown;
  EXPECT_FALSE(claimsAddress(o));
}

TEST(ObservationTest, Rfc3339WithMilliseconds) {
  // Capture times in the wire tests start at 2026-11-22T10:00:00Z.
  constexpr std::uint64_t kStartUs = 1'795'341'600'000'000ull;
  auto at = [](double seconds) { return kStartUs + static_cast<std::uint64_t>(seconds * 1e6); };
  EXPECT_EQ(formatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339Millis(at(0.123456)), "2026-11-22T10:00:00.123Z");
  EXPECT_EQ(formatRfc3339Millis(at(86399.999999)), "2026-11-23T09:59:59.999Z");
  // 2024-02-29 (leap day) 23:59:59.5
  EXPECT_EQ(formatRfc3339Millis(1'709'251'199'500'000ull), "2024-02-29T23:59:59.500Z");
}

TEST(ObservationTest, JsonLeavesOutWhatIsNotKnown) {
  Observation o;
  o.mac = addr::Mac::parse("52:54:00:12:34:56").value();
  // No address, kind, host, interface, VLAN or time: the receiver fills the time.
  EXPECT_EQ(json::serialize(toJson(o)),
            R"({"mac":"52:54:00:12:34:56","network":"default","source":"api"})");
  o.ip = addr::IpAddress::parse("2001:db8::5").value();
  o.vlan = 4094;
  o.kind = FrameKind::kDadProbe;
  o.source = Source::kNdp;
  o.time = -1;  // before the epoch, still RFC 3339
  EXPECT_EQ(json::serialize(toJson(o)),
            R"({"ip":"2001:db8::5","mac":"52:54:00:12:34:56","network":"default","vlan":4094,)"
            R"("source":"ndp","kind":"dad","time":"1969-12-31T23:59:59.999Z"})");
  EXPECT_TRUE(toJson(o).at("vlan").is_int64());  // as a parser reads an integer
}

TEST(ObservationTest, UnknownIsNoFrameKind) {
  EXPECT_EQ(frameKindName(FrameKind::kUnknown), "unknown");
  EXPECT_EQ(static_cast<int>(FrameKind::kUnknown), kFrameKindCount);
  EXPECT_FALSE(isArp(FrameKind::kUnknown));
  auto bad = parseFrameKind("shout");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().message().rfind("kind: \"shout\" is not one of request|reply|", 0), 0u)
      << bad.status().message();
}

}  // namespace
}  // namespace netledger::observation
