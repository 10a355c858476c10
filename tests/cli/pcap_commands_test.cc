// `netledger analyze-pcap` and `netledger import-pcap` through runCli, on captures written with
// PcapWriter: offline findings (table, JSON, exit codes), the ledger comparison against a
// scripted server (pagination included), and observation batches as POST /v1/observations
// receives them. The observations endpoint itself is tested with the server.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "fake_http_server.h"
#include "wire/frames.h"
#include "wire/wire_test_util.h"

namespace netledger::cli {
namespace {

namespace json = boost::json;
using testing::FakeHttpServer;
using testing::jsonResponse;
using testing::problemResponse;
using testing::SeenRequest;
using wire::testing_util::CaptureFile;
using wire::testing_util::mac;
using wire::testing_util::ScratchDir;
using wire::testing_util::v4;
using wire::testing_util::v6;

constexpr int kExitFindings = 3;

const addr::Mac A = mac("52:54:00:00:00:0a");
const addr::Mac B = mac("52:54:00:00:00:0b");
const addr::Mac C = mac("52:54:00:00:00:0c");
const addr::Mac X = mac("02:00:00:00:00:99");

// 192.0.2.10 claimed by A, then by X one second later: one duplicate_ip.
std::string duplicateCapture(const ScratchDir& dir) {
  CaptureFile c(dir.file("dup.pcap"));
  c.add(0, wire::buildArpAnnouncement(A, v4("192.0.2.10")));
  c.add(1, wire::buildArpRequest(X, v4("192.0.2.10"), v4("192.0.2.1")));
  return c.close();
}

std::string cleanCapture(const ScratchDir& dir) {
  CaptureFile c(dir.file("clean.pcap"));
  c.add(0, wire::buildArpRequest(A, v4("192.0.2.10"), v4("192.0.2.1")));
  c.add(0.5, wire::buildArpReply(B, v4("192.0.2.1"), A, v4("192.0.2.10")));
  return c.close();
}

std::vector<std::string> kinds(const json::value& report) {
  std::vector<std::string> out;
  for (const auto& f : report.at("findings").as_array()) {
    out.emplace_back(f.at("kind").as_string());
  }
  return out;
}

TEST(AnalyzePcapTest, JsonReportOfASeededCapture) {
  ScratchDir dir;
  CliRun r = run({"analyze-pcap", duplicateCapture(dir), "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json::value report = json::parse(r.out);
  EXPECT_EQ(report.at("frames").at("total"), 2);
  EXPECT_EQ(report.at("frames").at("by_kind").at("announcement"), 1);
  EXPECT_EQ(report.at("frames").at("by_kind").at("request"), 1);
  EXPECT_EQ(report.at("stations"), 2);
  EXPECT_FALSE(report.as_object().contains("ledger"));
  EXPECT_EQ(kinds(report), (std::vector<std::string>{"duplicate_ip", "new_station"}));
  const json::value& dup = report.at("findings").as_array()[0];
  EXPECT_EQ(dup.at("severity"), "error");
  EXPECT_EQ(dup.at("ip"), "192.0.2.10");
  EXPECT_EQ(dup.at("macs"), json::parse(R"(["52:54:00:00:00:0a","02:00:00:00:00:99"])"));
  EXPECT_EQ(dup.at("count"), 1);
  EXPECT_EQ(dup.at("first_seen"), "2026-11-22T10:00:01.000Z");
  EXPECT_EQ(dup.at("vlan"), nullptr);
  const json::value& stations = report.at("findings").as_array()[1];
  EXPECT_EQ(stations.at("count"), 2);
  EXPECT_EQ(stations.at("stations").as_array().size(), 2u);
}

TEST(AnalyzePcapTest, TableReport) {
  ScratchDir dir;
  CliRun r = run({"analyze-pcap", duplicateCapture(dir)});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("frames    2 (1 request, 1 announcement; 0 other, 0 malformed)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("SEVERITY  KIND"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error     duplicate_ip  -     192.0.2.10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first 2 of 2 new stations:"), std::string::npos) << r.out;

  CliRun clean = run({"analyze-pcap", cleanCapture(dir)});
  ASSERT_EQ(clean.code, kExitOk) << clean.err;
  EXPECT_EQ(clean.out.find("duplicate_ip"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("info      new_station"), std::string::npos) << clean.out;
}

TEST(AnalyzePcapTest, FailOnFindingsAndWindow) {
  ScratchDir dir;
  std::string dup = duplicateCapture(dir);
  EXPECT_EQ(run({"analyze-pcap", dup, "--fail-on-findings"}).code, kExitFindings);
  // New stations are information, not a failure.
  EXPECT_EQ(run({"analyze-pcap", cleanCapture(dir), "--fail-on-findings"}).code, kExitOk);
  // Claims one second apart do not conflict within half a second.
  CliRun narrow = run({"analyze-pcap", dup, "--window", "0.5", "--fail-on-findings", "-o", "json"});
  EXPECT_EQ(narrow.code, kExitOk) << narrow.err;
  EXPECT_EQ(kinds(json::parse(narrow.out)), std::vector<std::string>{"new_station"});
}

TEST(AnalyzePcapTest, BadInputExitsTwoNamingTheFile) {
  ScratchDir dir;
  CliRun missing = run({"analyze-pcap", dir.file("none.pcap")});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_NE(missing.err.find("none.pcap\": cannot read capture"), std::string::npos) << missing.err;

  std::string sll = dir.file("sll.pcap");
  {
    auto w = wire::PcapWriter::create(sll, 113);
    ASSERT_TRUE(w.isOk());
    ASSERT_TRUE((*w)->close().isOk());
  }
  CliRun any = run({"analyze-pcap", sll});
  EXPECT_EQ(any.code, kExitUsage);
  EXPECT_NE(any.err.find("is not Ethernet"), std::string::npos) << any.err;

  std::string cut = duplicateCapture(dir);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 5);
  CliRun truncated = run({"analyze-pcap", cut});
  EXPECT_EQ(truncated.code, kExitUsage);
  EXPECT_NE(truncated.err.find("dup.pcap\": frame 2: truncated"), std::string::npos)
      << truncated.err;
  EXPECT_EQ(truncated.out, "");

  CliRun window = run({"analyze-pcap", cut, "--window", "0"});
  EXPECT_EQ(window.code, kExitUsage);
  EXPECT_NE(window.err.find("--window"), std::string::npos) << window.err;
}

TEST(AnalyzePcapTest, WithoutServerOptionTheLedgerIsNotAsked) {
  ScratchDir dir;
  ::setenv("NETLEDGER_URL", "http://127.0.0.1:1", 1);
  CliRun r = run({"analyze-pcap", duplicateCapture(dir)});
  ::unsetenv("NETLEDGER_URL");
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

const char* kPools = R"({"items":[
  {"name":"lan","network":"default","cidr":"192.0.2.0/24","cidrs":["192.0.2.0/24"],
   "gateway":"192.0.2.1","reserved":["192.0.2.200-192.0.2.210"]},
  {"name":"lab","network":"lab","cidr":"198.51.100.0/24","cidrs":["198.51.100.0/24"],
   "gateway":null,"reserved":[]}]})";

const char* kBindingsPage1 = R"({"items":[
  {"id":"7","instance":"web-1","mac":"52:54:00:00:00:0a","addresses":["192.0.2.10"],
   "address_pools":[{"ip":"192.0.2.10","pool":"lan"}],"state":"active"}],
  "next_cursor":"1"})";

const char* kBindingsPage2 = R"({"items":[
  {"id":"8","instance":"gone","mac":"52:54:00:00:00:0d","addresses":["192.0.2.20"],
   "address_pools":[{"ip":"192.0.2.20","pool":"lan"}],"state":"released"},
  {"id":"9","instance":"db-1","mac":"52:54:00:00:00:0b","addresses":["192.0.2.11"],
   "address_pools":[{"ip":"192.0.2.11","pool":"lan"}],"state":"reserved"}],
  "next_cursor":null})";

std::string ledgerHandler(const SeenRequest& req) {
  if (req.target == "/v1/pools") return jsonResponse(200, kPools);
  if (req.target == "/v1/bindings?limit=1000") return jsonResponse(200, kBindingsPage1);
  if (req.target == "/v1/bindings?limit=1000&cursor=1") return jsonResponse(200, kBindingsPage2);
  return problemResponse(404, "not_found", "unexpected " + req.target);
}

TEST(AnalyzePcapTest, ComparesWithTheLedger) {
  ScratchDir dir;
  CaptureFile c(dir.file("ledger.pcap"));
  c.add(0, wire::buildArpAnnouncement(A, v4("192.0.2.10")));    // as bound
  c.add(100, wire::buildArpAnnouncement(X, v4("192.0.2.10")));  // bound to A
  c.add(101, wire::buildArpAnnouncement(C, v4("192.0.2.50")));  // nobody's
  c.add(102, wire::buildArpAnnouncement(B, v4("192.0.2.12")));  // db-1's MAC elsewhere
  c.add(103, wire::buildArpAnnouncement(mac("52:54:00:00:00:0d"), v4("192.0.2.20")));  // released
  c.add(104, wire::buildArpAnnouncement(C, v4("192.0.2.1")));     // the gateway
  c.add(105, wire::buildArpAnnouncement(C, v4("192.0.2.205")));   // reserved
  c.add(106, wire::buildArpAnnouncement(C, v4("198.51.100.5")));  // another network's pool
  c.add(107, wire::buildNeighborAdvertisement(B, v6("2001:db8::b"), wire::kNaOverride));
  std::string file = c.close();

  FakeHttpServer server(ledgerHandler);
  CliRun r = run({"analyze-pcap", file, "--server", server.url(), "--token", "tok", "--network",
                  "default", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json::value report = json::parse(r.out);
  EXPECT_EQ(report.at("ledger").at("pools"), 1);
  EXPECT_EQ(report.at("ledger").at("bindings"), 2);
  std::vector<std::string> got;
  for (const auto& f : report.at("findings").as_array()) {
    std::string line(f.at("kind").as_string());
    if (f.at("ip").is_string()) line += " " + std::string(f.at("ip").as_string());
    if (f.at("mac").is_string()) line += " " + std::string(f.at("mac").as_string());
    for (const auto& m : f.at("macs").as_array()) line += " +" + std::string(m.as_string());
    for (const auto& a : f.at("ips").as_array()) line += " +" + std::string(a.as_string());
    got.push_back(line);
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "binding_mismatch 192.0.2.10 52:54:00:00:00:0a +02:00:00:00:00:99",
                     "bound_mac_other_ip 52:54:00:00:00:0b +192.0.2.12",
                     "unknown_station 192.0.2.12 +52:54:00:00:00:0b",
                     "unknown_station 192.0.2.20 +52:54:00:00:00:0d",
                     "unknown_station 192.0.2.50 +52:54:00:00:00:0c", "new_station"}));
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/v1/pools");
  EXPECT_EQ(seen[1].target, "/v1/bindings?limit=1000");
  EXPECT_EQ(seen[2].target, "/v1/bindings?limit=1000&cursor=1");
  EXPECT_EQ(seen[2].header("authorization"), "Bearer tok");

  // Any network: the lab pool's 198.51.100.5 is unknown too.
  CliRun all = run({"analyze-pcap", file, "--server", server.url(), "--token", "tok", "-o", "json",
                    "--fail-on-findings"});
  EXPECT_EQ(all.code, kExitFindings) << all.err;
  EXPECT_NE(all.out.find("\"ip\":\"198.51.100.5\""), std::string::npos) << all.out;
}

// 28 stations untagged and a lone one on VLAN 42: the JSON lists all 29 (the table the first
// --examples), and against the ledger VLAN 42, where no pool is managed, is a rogue segment.
TEST(AnalyzePcapTest, JsonListsEveryStationAndRogueSegments) {
  ScratchDir dir;
  CaptureFile c(dir.file("many.pcap"));
  for (int i = 0; i < 28; ++i) {
    c.add(i, wire::buildArpAnnouncement(addr::Mac(0x525400000100 + i),
                                        v4("192.0.2." + std::to_string(100 + i))));
  }
  c.add(40, wire::buildArpAnnouncement(mac("02:00:00:00:00:42"), v4("198.51.100.77"),
                                       wire::AnnouncementForm::kRequest, 42));
  std::string file = c.close();
  CliRun r = run({"analyze-pcap", file, "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json::value report = json::parse(r.out);
  const json::value* news = nullptr;
  for (const auto& f : report.at("findings").as_array()) {
    if (f.at("kind") == "new_station") news = &f;
  }
  ASSERT_NE(news, nullptr) << r.out;
  ASSERT_EQ(news->at("stations").as_array().size(), 29u);
  EXPECT_EQ(news->at("stations").as_array().back().at("vlan"), 42);  // the newest, last
  CliRun table = run({"analyze-pcap", file, "--examples", "10"});
  EXPECT_NE(table.out.find("first 10 of 29 new stations"), std::string::npos) << table.out;

  FakeHttpServer server(ledgerHandler);
  CliRun l = run({"analyze-pcap", file, "--server", server.url(), "--token", "tok", "--network",
                  "default", "-o", "json"});
  ASSERT_EQ(l.code, kExitOk) << l.err;
  std::vector<std::string> rogue;
  const json::value judged = json::parse(l.out);
  for (const auto& f : judged.at("findings").as_array()) {
    if (f.at("kind") != "rogue_segment") continue;
    rogue.push_back(json::serialize(f.at("vlan")) + " " + json::serialize(f.at("macs")));
    EXPECT_EQ(f.at("stations").as_array().size(), 1u);
    EXPECT_EQ(f.at("severity"), "warning");
  }
  EXPECT_EQ(rogue, std::vector<std::string>{R"(42 ["02:00:00:00:00:42"])"});

  // The pool on VLAN 10: the untagged stations in its addresses are not on a segment it manages.
  FakeHttpServer tagged([](const SeenRequest& req) {
    if (req.target != "/v1/pools") return ledgerHandler(req);
    std::string pools = kPools;
    pools.replace(pools.find("\"name\":\"lan\","), 13, "\"name\":\"lan\",\"vlan\":10,");
    return jsonResponse(200, pools);
  });
  CliRun t = run({"analyze-pcap", file, "--server", tagged.url(), "--token", "tok", "--network",
                  "default", "-o", "json"});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  const json::value retagged = json::parse(t.out);
  std::vector<std::string> vlans;
  for (const auto& f : retagged.at("findings").as_array()) {
    if (f.at("kind") == "rogue_segment") vlans.push_back(json::serialize(f.at("vlan")));
  }
  EXPECT_EQ(vlans, (std::vector<std::string>{"null", "42"}));
}

TEST(AnalyzePcapTest, ServerFailuresKeepTheirExitCodes) {
  ScratchDir dir;
  FakeHttpServer server([](const SeenRequest&) {
    return problemResponse(401, "unauthorized", "missing or invalid token");
  });
  CliRun r = run({"analyze-pcap", duplicateCapture(dir), "--server", server.url()});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("(unauthorized)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// --- import-pcap ---

// 22 ARP/NDP frames (2 on VLAN 30) and 3 frames of other traffic.
std::string importCapture(const ScratchDir& dir) {
  CaptureFile c(dir.file("import.pcap"));
  std::vector<std::uint8_t> other(60, 0);
  other[12] = 0x08;  // IPv4
  for (int i = 0; i < 20; ++i) {
    c.add(i + 0.123, wire::buildArpRequest(A, v4("192.0.2.10"), v4("192.0.2.1")));
    if (i % 7 == 0) c.add(i + 0.5, other);
  }
  c.add(30, wire::buildArpProbe(B, v4("192.0.2.11"), 30));
  c.add(31, wire::buildNeighborAdvertisement(B, v6("2001:db8::b"), wire::kNaOverride, {}, 30));
  return c.close();
}

// Answers each batch with the number of observations it carried.
std::string acceptAll(const SeenRequest& req) {
  auto body = json::parse(req.body);
  return jsonResponse(
      202, json::serialize(json::object{{"accepted", body.at("observations").as_array().size()}}));
}

std::size_t batchSize(const SeenRequest& req) {
  return json::parse(req.body).at("observations").as_array().size();
}

TEST(ImportPcapTest, PostsObservationsInBatches) {
  ScratchDir dir;
  FakeHttpServer server(acceptAll);
  CliRun r = run({"import-pcap", importCapture(dir), "--server", server.url(), "--token", "tok",
                  "--network", "lab", "--host", "node-1", "--interface", "eth0", "--batch", "10"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "import-pcap: 25 frames, 22 observations sent in 3 batch(es), 22 accepted; 3 frames "
            "not ARP/NDP or malformed\n");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& req : seen) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v1/observations");
    EXPECT_EQ(req.header("content-type"), "application/json");
    EXPECT_EQ(req.header("authorization"), "Bearer tok");
  }
  EXPECT_EQ(batchSize(seen[0]), 10u);
  EXPECT_EQ(batchSize(seen[1]), 10u);
  EXPECT_EQ(batchSize(seen[2]), 2u);
  auto first = json::parse(seen[0].body).at("observations").as_array()[0];
  EXPECT_EQ(first, json::parse(R"({"ip":"192.0.2.10","mac":"52:54:00:00:00:0a",
      "network":"lab","host":"node-1","interface":"eth0","source":"pcap","kind":"request",
      "time":"2026-11-22T10:00:00.123Z"})"));
  auto last = json::parse(seen[2].body).at("observations").as_array();
  // A probe's ip is the address it asks about (the prober holds none yet).
  EXPECT_EQ(last[0], json::parse(R"({"ip":"192.0.2.11","mac":"52:54:00:00:00:0b","network":"lab",
      "host":"node-1","interface":"eth0","vlan":30,"source":"pcap","kind":"probe",
      "time":"2026-11-22T10:00:30.000Z"})"));
  EXPECT_EQ(last[1].at("kind"), "na");
  EXPECT_EQ(last[1].at("ip"), "2001:db8::b");

  CliRun j = run({"import-pcap", importCapture(dir), "--server", server.url(), "-o", "json"});
  ASSERT_EQ(j.code, kExitOk) << j.err;
  EXPECT_EQ(json::parse(j.out), json::parse(R"({"file":")" + dir.file("import.pcap") +
                                            R"(","frames":25,"observations":22,"skipped":3,)"
                                            R"("batches":1,"accepted":22})"));
}

TEST(ImportPcapTest, PayloadTooLargeSplitsTheBatch) {
  ScratchDir dir;
  FakeHttpServer server([](const SeenRequest& req) {
    if (batchSize(req) > 4) return problemResponse(413, "payload_too_large", "body too large");
    return acceptAll(req);
  });
  CliRun r = run({"import-pcap", importCapture(dir), "--server", server.url(), "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json::value tally = json::parse(r.out);
  EXPECT_EQ(tally.at("accepted"), 22);
  EXPECT_EQ(tally.at("observations"), 22);
  std::size_t accepted_sizes = 0;
  for (const auto& req : server.requests()) {
    if (batchSize(req) <= 4) accepted_sizes += batchSize(req);
  }
  EXPECT_EQ(accepted_sizes, 22u);
  EXPECT_EQ(tally.at("batches"), 8);  // 22 -> 11+11 -> 5,6,5,6 -> 2,3,3,3,2,3,3,3
}

TEST(ImportPcapTest, FailuresAndBadArguments) {
  ScratchDir dir;
  std::string file = importCapture(dir);
  FakeHttpServer broken(
      [](const SeenRequest&) { return problemResponse(500, "internal", "database on fire"); });
  CliRun r = run({"import-pcap", file, "--server", broken.url(), "--batch", "5"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("database on fire"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("0 accepted"), std::string::npos) << r.out;
  EXPECT_EQ(broken.requests().size(), 1u) << "stops at the first failed batch";

  FakeHttpServer vague([](const SeenRequest&) { return jsonResponse(202, "{}"); });
  CliRun v = run({"import-pcap", file, "--server", vague.url()});
  EXPECT_EQ(v.code, kExitFailure);
  EXPECT_NE(v.err.find("no \"accepted\" count"), std::string::npos) << v.err;

  CliRun big = run({"import-pcap", file, "--server", "http://127.0.0.1:1", "--batch", "10001"});
  EXPECT_EQ(big.code, kExitUsage);
  EXPECT_NE(big.err.find("--batch: must be 1 to 10000"), std::string::npos) << big.err;

  CliRun missing = run({"import-pcap", dir.file("none.pcap"), "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_NE(missing.err.find("none.pcap"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace netledger::cli
