// `netledger scan` against the scripted server: the request it sends, polling until the scan is
// done, the tables and JSON it prints, and the timeout.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "cli/cli_run.h"
#include "fake_http_server.h"

namespace netledger::cli {
namespace {

namespace json = boost::json;
using testing::FakeHttpServer;
using testing::jsonResponse;
using testing::problemResponse;
using testing::SeenRequest;

const char* kPending = R"({"id":"scan-4","pool":"vms","network":"default","via":"node-1",
  "rate_per_s":100,"state":"pending","addresses":[{"start":"192.0.2.2","end":"192.0.2.254"}],
  "address_count":253})";

const char* kDone = R"({"id":"scan-4","pool":"vms","network":"default","via":"node-1",
  "rate_per_s":100,"state":"done","addresses":[{"start":"192.0.2.2","end":"192.0.2.254"}],
  "address_count":253,"probed":253,"answered_count":2,
  "unknown_stations":[{"ip":"192.0.2.50","mac":"02:00:00:00:00:50"}],
  "silent_bindings":[{"id":"7","instance":"vm-quiet","ip":"192.0.2.11","mac":"52:54:00:00:00:11"}]})";

TEST(ScanCommandTest, CreatesPollsUntilDoneAndPrintsBothLists) {
  std::atomic<int> polls{0};
  FakeHttpServer server([&](const SeenRequest& req) {
    if (req.method == "POST") return jsonResponse(201, kPending);
    return jsonResponse(200, ++polls < 3 ? kPending : kDone);
  });
  CliRun r = runAt(server, {"scan", "vms", "--via", "node-1", "--rate", "250"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].method + " " + seen[0].target, "POST /v1/scans");
  EXPECT_EQ(json::parse(seen[0].body),
            json::parse(R"({"pool":"vms","via":"node-1","rate_per_s":250})"));
  EXPECT_EQ(seen[1].method + " " + seen[1].target, "GET /v1/scans/scan-4");
  EXPECT_EQ(r.out,
            "scan scan-4 of pool vms via node-1: 253 probed, 2 answered\n"
            "\n"
            "unknown stations (answered, no binding holds the address): 1\n"
            "IP          MAC\n"
            "192.0.2.50  02:00:00:00:00:50\n"
            "\n"
            "silent bindings (active, did not answer): 1\n"
            "ID  INSTANCE  IP          MAC\n"
            "7   vm-quiet  192.0.2.11  52:54:00:00:00:11\n");

  polls = 10;
  r = runAt(server, {"scan", "vms", "--via", "node-1", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(kDone));
  EXPECT_EQ(json::parse(server.requests().at(4).body),
            json::parse(R"({"pool":"vms","via":"node-1"})"));
}

TEST(ScanCommandTest, TimesOutWithAClearMessage) {
  FakeHttpServer server([](const SeenRequest& req) {
    return jsonResponse(req.method == "POST" ? 201 : 200, kPending);
  });
  CliRun r = runAt(server, {"scan", "vms", "--via", "node-1", "--timeout", "1"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("scan scan-4 of pool \"vms\" is not done after 1 s (state pending)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(ScanCommandTest, ServerRefusalsKeepTheirExitCodes) {
  FakeHttpServer server([](const SeenRequest& req) {
    if (req.body.find("\"nope\"") != std::string::npos) {
      return problemResponse(404, "not_found", "pool: pool \\\"nope\\\" not found");
    }
    return problemResponse(400, "invalid_argument", "pool: \\\"big\\\" has more than 65536");
  });
  CliRun r = runAt(server, {"scan", "nope", "--via", "node-1"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
  r = runAt(server, {"scan", "big", "--via", "node-1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("pool: \"big\""), std::string::npos) << r.err;
}

}  // namespace
}  // namespace netledger::cli
