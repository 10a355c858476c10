// observationFromJson: every bad field is refused with an error naming it ("observations[2].mac:
// ..."), and whatever a client sends (random JSON) never crashes the parser.
#include "engine/observation.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include <boost/json.hpp>

#include "ledger/codec.h"

namespace netledger::engine {
namespace {

namespace json = boost::json;

constexpr Millis kNow = 1'700'000'000'123;
const std::string kWhere = "observations[2]";

json::value parse(const char* text) { return json::parse(text); }

TEST(ObservationJsonTest, ParsesEveryField) {
  auto o = observationFromJson(parse(R"({"ip": "192.0.2.7", "mac": "52:54:00:12:34:56",
      "network": "blue", "host": "node-a", "interface": "tap3", "vlan": 42, "source": "arp",
      "kind": "announcement", "time": "2023-11-14T22:13:20.500Z"})"),
                               kWhere, kNow);
  ASSERT_TRUE(o.isOk()) << o.status().toString();
  ASSERT_TRUE(o->ip.has_value());
  EXPECT_EQ(o->ip->toString(), "192.0.2.7");
  EXPECT_EQ(o->mac.toString(), "52:54:00:12:34:56");
  EXPECT_EQ(o->network, "blue");
  EXPECT_EQ(o->host, "node-a");
  EXPECT_EQ(o->interface, "tap3");
  EXPECT_EQ(o->vlan, 42);
  EXPECT_EQ(o->source, Source::kArp);
  EXPECT_EQ(o->kind, FrameKind::kArpAnnouncement);
  EXPECT_EQ(o->time, ledger::parseTime("2023-11-14T22:13:20.500Z").value());
}

TEST(ObservationJsonTest, DefaultsForOptionalFields) {
  auto o = observationFromJson(parse(R"({"mac": "52:54:00:00:00:01", "ip": null})"), kWhere, kNow);
  ASSERT_TRUE(o.isOk()) << o.status().toString();
  EXPECT_FALSE(o->ip.has_value());
  EXPECT_EQ(o->network, "default");
  EXPECT_EQ(o->source, Source::kApi);
  EXPECT_EQ(o->kind, FrameKind::kUnknown);
  EXPECT_FALSE(o->vlan.has_value());
  EXPECT_EQ(o->time, kNow);  // a missing time is the server's receipt time
}

struct BadCase {
  const char* body;
  const char* prefix;  // what the message must start with
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.body; }

class ObservationErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ObservationErrorTest, NamesTheField) {
  const BadCase& c = GetParam();
  auto o = observationFromJson(parse(c.body), kWhere, kNow);
  ASSERT_FALSE(o.isOk()) << c.body;
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.body;
  EXPECT_EQ(o.status().message().rfind(c.prefix, 0), 0u)
      << c.body << " -> " << o.status().message() << " (expected prefix " << c.prefix << ")";
}

const BadCase kBadCases[] = {
    {R"(5)", "observations[2]: must be an object"},
    {R"(["mac"])", "observations[2]: must be an object"},
    {R"({"mac": "52:54:00:00:00:01", "colour": "red"})", "observations[2].colour: unknown field"},
    {R"({"ip": "192.0.2.1"})", "observations[2].mac: required"},
    {R"({"mac": 5})", "observations[2].mac: required"},
    {R"({"mac": "52:54:00:00:00"})", "observations[2].mac: "},
    {R"({"mac": "zz:54:00:00:00:01"})", "observations[2].mac: "},
    {R"({"mac": "52:54:00:00:00:01", "ip": 7})", "observations[2].ip: must be a string"},
    {R"({"mac": "52:54:00:00:00:01", "ip": "192.0.2.300"})", "observations[2].ip: "},
    {R"({"mac": "52:54:00:00:00:01", "ip": "2001:db8::g"})", "observations[2].ip: "},
    {R"({"mac": "52:54:00:00:00:01", "network": 1})", "observations[2].network: must be a string"},
    {R"({"mac": "52:54:00:00:00:01", "network": "a\u0001b"})",
     "observations[2].network: control characters"},
    {R"({"mac": "52:54:00:00:00:01", "host": ["a"]})", "observations[2].host: must be a string"},
    {R"({"mac": "52:54:00:00:00:01", "interface": "eth0\n"})",
     "observations[2].interface: control characters"},
    {R"({"mac": "52:54:00:00:00:01", "vlan": 4095})", "observations[2].vlan: "},
    {R"({"mac": "52:54:00:00:00:01", "vlan": -1})", "observations[2].vlan: "},
    {R"({"mac": "52:54:00:00:00:01", "vlan": "7"})", "observations[2].vlan: "},
    {R"({"mac": "52:54:00:00:00:01", "vlan": 1.5})", "observations[2].vlan: "},
    {R"({"mac": "52:54:00:00:00:01", "source": "carrier-pigeon"})", "observations[2].source: "},
    {R"({"mac": "52:54:00:00:00:01", "source": 3})", "observations[2].source: must be a string"},
    {R"({"mac": "52:54:00:00:00:01", "ip": "192.0.2.1", "kind": "shout"})",
     "observations[2].kind: "},
    {R"({"mac": "52:54:00:00:00:01", "kind": true})", "observations[2].kind: must be a string"},
    {R"({"mac": "52:54:00:00:00:01", "kind": "probe"})", "observations[2].ip: required for kind"},
    {R"({"mac": "52:54:00:00:00:01", "time": "yesterday"})", "observations[2].time: "},
    {R"({"mac": "52:54:00:00:00:01", "time": 1700000000})",
     "observations[2].time: must be an RFC 3339 string"},
};

INSTANTIATE_TEST_SUITE_P(EveryField, ObservationErrorTest, ::testing::ValuesIn(kBadCases));

TEST(ObservationJsonTest, TooLongStringsNameTheField) {
  for (const auto& [field, max] :
       {std::pair<std::string, std::size_t>{"network", 63}, {"host", 253}, {"interface", 64}}) {
    json::object o{{"mac", "52:54:00:00:00:01"}};
    o[field] = std::string(max, 'x');
    EXPECT_TRUE(observationFromJson(o, kWhere, kNow).isOk()) << field << " at its limit";
    o[field] = std::string(max + 1, 'x');
    auto r = observationFromJson(o, kWhere, kNow);
    ASSERT_FALSE(r.isOk()) << field;
    EXPECT_EQ(r.status().message().rfind(kWhere + "." + field + ": longer than", 0), 0u)
        << r.status().message();
  }
}

// A random JSON value shaped like an observation: known and unknown fields with values of random
// types, some valid, most not.
json::value randomObservationJson(std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto randomScalar = [&]() -> json::value {
    switch (pick(7)) {
      case 0:
        return nullptr;
      case 1:
        return static_cast<std::int64_t>(rng() % 10000) - 100;
      case 2:
        return static_cast<double>(rng() % 1000) / 7.0;
      case 3:
        return pick(2) == 0;
      case 4: {
        std::string s;
        for (std::size_t i = pick(12); i > 0; --i) s += static_cast<char>(pick(256));
        return json::string(s);
      }
      case 5:
        return json::array{1, "x"};
      default:
        return json::object{{"a", 1}};
    }
  };
  static const char* kMacs[] = {"52:54:00:00:00:01", "02:00:00:00:00:ff", "5254.0000.0001",
                                "ff:ff:ff:ff:ff:ff", "52:54:00:00:00",    "52-54-00-00-00-02"};
  static const char* kIps[] = {"192.0.2.1", "2001:db8::5",    "0.0.0.0",
                               "::",        "198.51.100.300", "fe80::1%eth0"};
  static const char* kSources[] = {"arp", "ndp", "dhcp", "agent", "pcap", "api", "nope"};
  static const char* kKinds[] = {"request", "reply",   "probe", "announcement", "ns", "na",
                                 "dad",     "unknown", "x"};
  static const char* kTimes[] = {"2023-11-14T22:13:20Z", "2023-11-14T22:13:20.123+02:00",
                                 "1700000000", "2023-13-40T99:99:99Z", ""};
  if (pick(10) == 0) return randomScalar();
  json::object o;
  if (pick(8) != 0) o["mac"] = pick(5) == 0 ? randomScalar() : json::value(kMacs[pick(6)]);
  if (pick(2) == 0) o["ip"] = pick(5) == 0 ? randomScalar() : json::value(kIps[pick(6)]);
  if (pick(3) == 0) o["network"] = pick(3) == 0 ? randomScalar() : json::value("blue");
  if (pick(3) == 0) o["host"] = pick(3) == 0 ? randomScalar() : json::value("node-b");
  if (pick(3) == 0) o["interface"] = pick(3) == 0 ? randomScalar() : json::value("eth1");
  if (pick(3) == 0) {
    o["vlan"] = pick(3) == 0 ? randomScalar() : json::value(static_cast<int>(pick(5000)));
  }
  if (pick(3) == 0) o["source"] = pick(4) == 0 ? randomScalar() : json::value(kSources[pick(7)]);
  if (pick(3) == 0) o["kind"] = pick(4) == 0 ? randomScalar() : json::value(kKinds[pick(9)]);
  if (pick(3) == 0) o["time"] = pick(4) == 0 ? randomScalar() : json::value(kTimes[pick(5)]);
  if (pick(15) == 0) o["extra"] = randomScalar();
  return o;
}

// Property: any value either parses or is refused with an invalid_argument naming
// observations[N]; what parses survives toJson -> observationFromJson unchanged.
TEST(ObservationJsonTest, RandomInputNeverCrashesAndRoundTrips) {
  std::mt19937_64 rng(20240611);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    json::value v = randomObservationJson(rng);
    auto o = observationFromJson(v, kWhere, kNow);
    if (!o) {
      EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << json::serialize(v);
      EXPECT_EQ(o.status().message().rfind(kWhere, 0), 0u)
          << json::serialize(v) << " -> " << o.status().message();
      continue;
    }
    ++parsed;
    auto again = observationFromJson(toJson(*o), kWhere, kNow + 5);
    ASSERT_TRUE(again.isOk()) << json::serialize(toJson(*o)) << ": " << again.status().toString();
    EXPECT_EQ(again->ip, o->ip);
    EXPECT_EQ(again->mac, o->mac);
    EXPECT_EQ(again->network, o->network);
    EXPECT_EQ(again->host, o->host);
    EXPECT_EQ(again->interface, o->interface);
    EXPECT_EQ(again->vlan, o->vlan);
    EXPECT_EQ(again->source, o->source);
    EXPECT_EQ(again->kind, o->kind);
    EXPECT_EQ(again->time, o->time) << json::serialize(v);
  }
  // The generator must exercise the success path too, or the round trip checks nothing.
  EXPECT_GT(parsed, 1000);
}

}  // namespace
}  // namespace netledger::engine
