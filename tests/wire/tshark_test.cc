// Cross-checks the builders with an independent decoder: tshark (Wireshark's dissectors) reads
// a capture written with PcapWriter and must report the ARP and ICMPv6 fields we built, with a
// good ICMPv6 checksum. tshark is a test dependency (scripts/install-deps); without it the test
// fails rather than skipping.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "wire/frames.h"
#include "wire/pcap_file.h"
#include "wire/wire_test_util.h"

namespace netledger::wire {
namespace {

using testing_util::CaptureFile;
using testing_util::mac;
using testing_util::ScratchDir;
using testing_util::v4;
using testing_util::v6;

const std::vector<std::string> kFields = {
    "eth.src",
    "eth.dst",
    "vlan.id",
    "arp.opcode",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    "arp.isprobe",
    "arp.isgratuitous",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
    "icmpv6.type",
    "icmpv6.code",
    "icmpv6.checksum.status",
    "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address",
    "icmpv6.opt.linkaddr",
    "icmpv6.nd.na.flag.r",
    "icmpv6.nd.na.flag.s",
    "icmpv6.nd.na.flag.o",
    "frame.len",
};

using Row = std::map<std::string, std::string>;

// Runs tshark on `file`; one row per frame, keyed by field name. Empty on failure (reported).
std::vector<Row> tshark(const std::string& file, const std::string& stderr_file) {
  std::string cmd = "tshark -n -r '" + file + "' -T fields -E separator=/t -E occurrence=a";
  for (const auto& f : kFields) cmd += " -e " + f;
  cmd += " 2>'" + stderr_file + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run tshark";
    return {};
  }
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  int rc = ::pclose(pipe);
  std::ifstream err_in(stderr_file);
  std::stringstream err;
  err << err_in.rdbuf();
  if (rc != 0) {
    ADD_FAILURE() << "tshark failed (exit " << rc << "); is it installed? "
                  << "(apt-get install -y tshark)\n"
                  << err.str();
    return {};
  }
  std::vector<Row> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    Row row;
    std::size_t start = 0;
    for (const auto& field : kFields) {
      std::size_t tab = line.find('\t', start);
      row[field] = line.substr(start, tab == std::string::npos ? std::string::npos : tab - start);
      start = tab == std::string::npos ? line.size() : tab + 1;
    }
    rows.push_back(row);
  }
  return rows;
}

bool flag(const std::string& text) { return text == "1" || text == "True" || text == "true"; }

TEST(TsharkCrossCheckTest, TsharkDecodesWhatWeBuilt) {
  ScratchDir dir;
  CaptureFile capture(dir.file("built.pcap"));
  const auto a = mac("52:54:00:12:34:56"), b = mac("52:54:00:ab:cd:ef");
  struct Built {
    FrameBytes frame;
    std::string what;
  };
  std::vector<Built> built = {
      {buildArpRequest(a, v4("192.0.2.10"), v4("192.0.2.1")), "request"},
      {buildArpReply(b, v4("192.0.2.1"), a, v4("192.0.2.10"), 100), "reply"},
      {buildArpProbe(a, v4("198.51.100.7")), "probe"},
      {buildArpAnnouncement(a, v4("198.51.100.7")), "announcement request form"},
      {buildArpAnnouncement(b, v4("203.0.113.9"), AnnouncementForm::kReply, 42),
       "announcement reply form"},
      {buildNeighborSolicitation(a, v6("fe80::5054:ff:fe12:3456"), v6("2001:db8::1")), "ns"},
      {buildDadProbe(b, v6("2001:db8::abcd:ef12"), 7), "dad"},
      {buildNeighborAdvertisement(b, v6("2001:db8::1"), kNaSolicited | kNaOverride,
                                  NeighborAddress{a, v6("fe80::5054:ff:fe12:3456")}),
       "solicited na"},
      {buildNeighborAdvertisement(a, v6("2001:db8::77"), kNaRouter | kNaOverride, {}, 300),
       "unsolicited na"},
  };
  for (std::size_t i = 0; i < built.size(); ++i)
    capture.add(static_cast<double>(i), built[i].frame);
  std::string file = capture.close();

  std::vector<Row> rows = tshark(file, dir.file("tshark.err"));
  ASSERT_EQ(rows.size(), built.size());
  for (std::size_t i = 0; i < built.size(); ++i) {
    SCOPED_TRACE(built[i].what);
    Frame f;
    ASSERT_EQ(parseFrame(built[i].frame.bytes(), f), ParseError::kOk);
    const Row& r = rows[i];
    EXPECT_EQ(r.at("frame.len"), std::to_string(built[i].frame.size));
    EXPECT_EQ(mac(r.at("eth.src")), f.eth_src);
    EXPECT_EQ(mac(r.at("eth.dst")), f.eth_dst);
    EXPECT_EQ(r.at("vlan.id"), f.vlan_tags ? std::to_string(f.vlan) : "");
    if (isArp(f.kind)) {
      EXPECT_EQ(r.at("arp.opcode"), std::to_string(f.arp_op));
      EXPECT_EQ(mac(r.at("arp.src.hw_mac")), f.sender_mac);
      EXPECT_EQ(v4(r.at("arp.src.proto_ipv4")), f.sender_ip);
      EXPECT_EQ(mac(r.at("arp.dst.hw_mac")), f.target_mac);
      EXPECT_EQ(v4(r.at("arp.dst.proto_ipv4")), f.target_ip);
      EXPECT_EQ(flag(r.at("arp.isprobe")), f.kind == FrameKind::kArpProbe);
      EXPECT_EQ(flag(r.at("arp.isgratuitous")), f.kind == FrameKind::kArpAnnouncement);
      EXPECT_EQ(r.at("icmpv6.type"), "");
      continue;
    }
    EXPECT_EQ(r.at("arp.opcode"), "");
    EXPECT_EQ(v6(r.at("ipv6.src")), f.ip_src);
    EXPECT_EQ(v6(r.at("ipv6.dst")), f.ip_dst);
    EXPECT_EQ(r.at("ipv6.hlim"), "255");
    EXPECT_EQ(r.at("icmpv6.code"), "0");
    EXPECT_EQ(r.at("icmpv6.checksum.status"), "1") << "1 is Wireshark's 'Good'";
    bool na = f.kind == FrameKind::kNeighborAdvertisement;
    EXPECT_EQ(r.at("icmpv6.type"), na ? "136" : "135");
    EXPECT_EQ(v6(r.at(na ? "icmpv6.nd.na.target_address" : "icmpv6.nd.ns.target_address")),
              f.target);
    if (f.has_link_addr) {
      EXPECT_EQ(mac(r.at("icmpv6.opt.linkaddr")), f.link_addr);
    } else {
      EXPECT_EQ(r.at("icmpv6.opt.linkaddr"), "");
    }
    if (na) {
      EXPECT_EQ(flag(r.at("icmpv6.nd.na.flag.r")), (f.na_flags & kNaRouter) != 0);
      EXPECT_EQ(flag(r.at("icmpv6.nd.na.flag.s")), (f.na_flags & kNaSolicited) != 0);
      EXPECT_EQ(flag(r.at("icmpv6.nd.na.flag.o")), (f.na_flags & kNaOverride) != 0);
    }
  }
  // What we built, independently of our parser: the DAD probe goes to the solicited-node group
  // of its target, from ::, with the multicast MAC of that group.
  const Row& dad = rows[6];
  EXPECT_EQ(v6(dad.at("ipv6.src")), addr::Ipv6());
  EXPECT_EQ(v6(dad.at("ipv6.dst")), v6("ff02::1:ffcd:ef12"));
  EXPECT_EQ(mac(dad.at("eth.dst")), mac("33:33:ff:cd:ef:12"));
  EXPECT_EQ(v6(dad.at("icmpv6.nd.ns.target_address")), v6("2001:db8::abcd:ef12"));
  EXPECT_EQ(dad.at("vlan.id"), "7");
}

}  // namespace
}  // namespace netledger::wire
