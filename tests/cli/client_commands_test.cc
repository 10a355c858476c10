// The client commands through runCli, as a user types them: local argument checks (exit 2
// before any request), what each command sends, how replies print, and how server problems
// map to stderr and exit codes. The server is a scripted loopback fake (fake_http_server.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

// A server that must not be called: local checks fail first.
std::string unreachable() { return "http://127.0.0.1:1"; }

void expectUsageError(std::vector<std::string> args, const std::string& message) {
  args.insert(args.end(), {"--server", unreachable(), "--token", "t"});
  CliRun r = run(args);
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot connect"), std::string::npos) << "contacted the server: " << r.err;
}

TEST(ClientArgsTest, LocalUsageErrorsExitTwoWithoutCallingTheServer) {
  expectUsageError({"pool", "create", "p"}, "--cidr: required");
  expectUsageError({"pool", "create", "p", "--cidr", "10.0.0.1/24"}, "--cidr");
  expectUsageError({"pool", "create", "p", "--cidr", "10.0.0.0/24", "--gateway", "x"}, "--gateway");
  expectUsageError({"pool", "create", "p", "--cidr", "10.0.0.0/24", "--range", "10.0.0.9-10.0.0.1"},
                   "--range");
  expectUsageError({"pool", "create", "p", "--prefix-length", "26"}, "needs --parent");
  expectUsageError({"pool", "create", "p", "--cidr", "10.0.0.0/24", "--vlan", "5000"}, "--vlan");
  expectUsageError({"pool", "show"}, "name is required");
  expectUsageError({"pool", "frob"}, "");
  expectUsageError({"macpool", "create", "m", "--strategy", "magic"}, "--strategy");
  expectUsageError({"macpool", "create", "m", "--prefix", "zz:zz"}, "--prefix");
  expectUsageError({"alloc", "vm1", "--label", "novalue"}, "--label: \"novalue\" is not key=value");
  expectUsageError({"alloc", "vm1", "--mac", "aa:bb:cc:dd:ee:ff", "--mac-pool", "m"}, "excludes");
  expectUsageError({"alloc", "vm1", "--mac", "not-a-mac"}, "--mac");
  expectUsageError({"alloc", "vm1", "--address", "10.0.0.300"}, "--address");
  expectUsageError({"alloc", "vm1", "--probe"}, "--probe: needs --host");
  expectUsageError({"alloc", "vm1", "--host", "h1", "--probe-timeout", "5"},
                   "--probe-timeout: only with --probe");
  expectUsageError({"alloc", "vm1", "--host", "h1", "--probe", "--probe-timeout", "121"},
                   "--probe-timeout");
  expectUsageError({"scan"}, "pool is required");
  expectUsageError({"scan", "vms"}, "--via is required");
  expectUsageError({"scan", "vms", "--via", "n1", "--rate", "0"}, "--rate");
  expectUsageError({"release", "abc"}, "\"abc\" is not a binding id");
  expectUsageError({"release", "0"}, "is not a binding id");
  expectUsageError({"renew"}, "give a binding ID or --host");
  expectUsageError({"renew", "5", "--host", "h1"}, "give a binding ID or --host");
  expectUsageError({"renew", "--host", "h1", "--ttl", "60"}, "--ttl: not with --host");
  expectUsageError({"migrate", "5"}, "--host is required");
  expectUsageError({"move", "10.0.0.5"}, "--to is required");
  expectUsageError({"move", "nope", "--to", "3"}, "IP");
  expectUsageError({"who-has", "web-1"}, "neither an IP address nor a MAC");
  expectUsageError({"history", "10.0.0.5", "--at", "1", "--from", "0"}, "excludes");
  expectUsageError({"token", "create", "ci"}, "--role is required");
  expectUsageError({"token", "create", "ci", "--role", "root"}, "--role");
  expectUsageError({"snapshot", "create"}, "file is required");
  expectUsageError({"import", "ippool", "/nonexistent/pools.yaml"}, "cannot read");
  expectUsageError({"pool", "list", "--token-file", "/x"}, "excludes");
}

TEST(ClientArgsTest, BadServerUrlIsAUsageError) {
  CliRun r = run({"pool", "list", "--server", "ftp://h", "--token", "t"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--server: server URL \"ftp://h\""), std::string::npos) << r.err;
}

TEST(ClientArgsTest, UnreadableTokenFileIsAUsageError) {
  CliRun r = run({"pool", "list", "--server", unreachable(), "--token-file", "/nonexistent/tok"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--token-file: cannot read"), std::string::npos) << r.err;
}

TEST(ClientArgsTest, UnreachableServerExitsOne) {
  CliRun r = run({"pool", "list", "--server", unreachable(), "--token", "t"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err.rfind("netledger: cannot connect to http://127.0.0.1:1: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(unavailable)\n"), std::string::npos) << r.err;
}

TEST(ClientArgsTest, SnapshotRefusesToOverwrite) {
  auto path = std::filesystem::temp_directory_path() / "netledger-cli-test-snapshot.db";
  std::ofstream(path) << "old";
  expectUsageError({"snapshot", "create", path.string()}, "exists; --force overwrites it");
  std::filesystem::remove(path);
}

TEST(ClientArgsTest, ImportDryRunNeedsNoServer) {
  auto path = std::filesystem::temp_directory_path() / "netledger-cli-test-dry.yaml";
  std::ofstream(path) << "kind: IPPool\nmetadata: {name: a}\nspec: {subnet: 192.0.2.0/24}\n";
  CliRun r = run({"import", "ippool", path.string(), "--dry-run", "--network", "lab", "-o", "json",
                  "--server", unreachable()});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(json::parse(r.out),
            json::parse(R"({"items":[{"name":"a","cidr":"192.0.2.0/24","network":"lab"}]})"));

  std::ofstream(path) << "kind: IPPool\nmetadata: {name: a}\nspec: {subnet: 192.0.2.1/24}\n";
  r = run({"import", "ippool", path.string(), "--server", unreachable()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("document 1 (IPPool \"a\"): spec.subnet"), std::string::npos) << r.err;
  std::filesystem::remove(path);
}

// --- against the scripted server ---

const char* kPoolJson = R"({"name":"blue","network":"default","cidr":"192.0.2.0/24",
  "cidrs":["192.0.2.0/24"],"gateway":"192.0.2.1","ranges":[],"reserved":[],"tenant":null,
  "cluster":null,"vlan":null,"vni":null,"default_ttl_s":0,"quarantine_s":300,"threshold":0.85,
  "parent":null,"auto_expand":false,"expand_prefix_length":0,"version":1,
  "utilization":{"size":"256","allocatable":"253","used":"10","free":"243","reserved":"1",
  "quarantined":"0","utilization":0.0395},"alert":false,"children":[],"bindings":10})";

const char* kBindingJson = R"({"id":"7","instance":"vm1","interface":"eth0",
  "mac":"52:54:00:12:34:56","mac_pool":"kvm","addresses":["192.0.2.10","2001:db8::a"],
  "address_pools":[],"host":"h1","host_mac":null,"service":null,"tenant":null,
  "labels":{"app":"web"},"state":"active","static":false,"expires_at":null,
  "created_at":"2026-11-21T14:00:00.000Z","updated_at":"2026-11-21T14:00:00.000Z","version":1})";

TEST(ClientCommandsTest, PoolListTableAndJson) {
  FakeHttpServer server([](const SeenRequest&) {
    return jsonResponse(200, std::string(R"({"items":[)") + kPoolJson + "]}");
  });
  CliRun r = runAt(server, {"pool", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "NAME  NETWORK  CIDRS         USED  FREE  UTIL%\n"
            "blue  default  192.0.2.0/24  10    243   4.0\n");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/v1/pools");
  EXPECT_EQ(seen[0].header("authorization"), "Bearer tok");

  r = runAt(server, {"-o", "json", "pool", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(std::string(R"({"items":[)") + kPoolJson + "]}"));
}

TEST(ClientCommandsTest, PoolDhcpOptionsOnCreateAndPatch) {
  FakeHttpServer server([](const SeenRequest&) { return jsonResponse(200, kPoolJson); });
  CliRun r = runAt(
      server, {"pool", "create", "blue", "--cidr", "192.0.2.0/24", "--dhcp-lease", "600",
               "--dhcp-dns", "192.0.2.53", "--dhcp-domain", "example.test", "--dhcp-no-probe"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("dhcp                off\n"), std::string::npos) << r.out;
  r = runAt(server, {"pool", "dhcp", "blue", "--dhcp"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  r = runAt(server, {"pool", "dhcp", "blue", "--off"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"name":"blue","cidr":"192.0.2.0/24",
      "dhcp":{"lease_s":600,"dns_servers":["192.0.2.53"],"domain":"example.test","probe":false}})"));
  EXPECT_EQ((seen[1].method + " " + seen[1].target), "PATCH /v1/pools/blue");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(R"({"dhcp":{}})"));
  EXPECT_EQ(json::parse(seen[2].body), json::parse(R"({"dhcp":null})"));
  // Refused before anything is sent.
  r = runAt(server, {"pool", "dhcp", "blue", "--off", "--dhcp-lease", "600"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--off"), std::string::npos) << r.err;
  r = runAt(server, {"pool", "create", "x", "--cidr", "192.0.2.0/24", "--dhcp-dns", "2001:db8::1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--dhcp-dns"), std::string::npos) << r.err;
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ClientCommandsTest, PoolCreateSendsTheRequestBody) {
  FakeHttpServer server([](const SeenRequest&) { return jsonResponse(201, kPoolJson); });
  CliRun r = runAt(server, {"pool",
                            "create",
                            "blue",
                            "--cidr",
                            "192.0.2.0/24",
                            "--cidr",
                            "2001:DB8::/64",
                            "--gateway",
                            "192.0.2.1",
                            "--range",
                            "192.0.2.10-192.0.2.99",
                            "--reserved",
                            "192.0.2.50",
                            "--network",
                            "lab",
                            "--tenant",
                            "acme",
                            "--vlan",
                            "100",
                            "--ttl",
                            "3600",
                            "--quarantine",
                            "60",
                            "--threshold",
                            "0.9",
                            "--auto-expand"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("utilization         4.0%\n"), std::string::npos) << r.out;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/pools");
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"name":"blue",
      "cidrs":["192.0.2.0/24","2001:db8::/64"],"network":"lab","gateway":"192.0.2.1",
      "ranges":["192.0.2.10-192.0.2.99"],"reserved":["192.0.2.50"],"tenant":"acme","vlan":100,
      "default_ttl_s":3600,"quarantine_s":60,"threshold":0.9,"auto_expand":true})"));
}

TEST(ClientCommandsTest, ProblemsMapToStderrAndExitCodes) {
  std::string next;
  FakeHttpServer server([&next](const SeenRequest&) { return next; });

  next = problemResponse(404, "not_found", "pool blue not found");
  CliRun r = runAt(server, {"pool", "show", "blue"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "netledger: pool blue not found (not_found)\n");
  EXPECT_EQ(r.out, "");

  next = problemResponse(400, "invalid_argument", "cidr: 10.0.0.0/33 is not a prefix");
  r = runAt(server, {"pool", "create", "x", "--cidr", "10.0.0.0/24"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "netledger: cidr: 10.0.0.0/33 is not a prefix (invalid_argument)\n");

  next = problemResponse(409, "pool_exhausted", "pool blue: no free address");
  r = runAt(server, {"alloc", "vm1", "--pool", "blue"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "netledger: pool blue: no free address (pool_exhausted)\n");

  next = problemResponse(403, "forbidden", "needs role admin");
  r = runAt(server, {"token", "list"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "netledger: needs role admin (forbidden)\n");

  next = testing::httpResponse(500, "text/plain", "boom");
  r = runAt(server, {"macpool", "list"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "netledger: HTTP 500 internal server error: boom (http_500)\n");

  next = jsonResponse(200, "{not json");
  r = runAt(server, {"pool", "list"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("malformed JSON from"), std::string::npos) << r.err;
}

TEST(ClientCommandsTest, AllocBuildsTheBindingRequest) {
  FakeHttpServer server([](const SeenRequest&) { return jsonResponse(201, kBindingJson); });
  CliRun r = runAt(server, {"alloc",   "vm1",       "--pool",     "blue",
                            "--pool",  "blue6",     "--mac",      "52-54-00-12-34-56",
                            "--host",  "h1",        "--host-mac", "001A.2B3C.4D5E",
                            "--label", "app=web",   "--label",    "tier=",
                            "--ttl",   "600",       "--static",   "--interface",
                            "eth1",    "--service", "db"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/bindings");
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"instance":"vm1","interface":"eth1",
      "pools":["blue","blue6"],"mac":"52:54:00:12:34:56","host":"h1",
      "host_mac":"00:1a:2b:3c:4d:5e","service":"db","labels":{"app":"web","tier":""},
      "ttl_s":600,"static":true})"));
  EXPECT_NE(r.out.find("id          7\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("addresses   192.0.2.10,2001:db8::a\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("labels      app=web\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("state       active\n"), std::string::npos) << r.out;
}

TEST(ClientCommandsTest, AllocWithProbeAsksForItAndSaysWhenItIsStillReserved) {
  std::string reserved = kBindingJson;
  reserved.replace(reserved.find("\"active\""), 8, "\"reserved\"");
  FakeHttpServer server([&](const SeenRequest&) { return jsonResponse(202, reserved); });
  CliRun r = runAt(server, {"alloc", "vm1", "--pool", "blue", "--host", "h1", "--probe",
                            "--probe-timeout", "5"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"instance":"vm1","pools":["blue"],
      "host":"h1","probe":true,"probe_timeout_s":5})"));
  EXPECT_NE(r.out.find("state       reserved\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("binding 7 is still reserved"), std::string::npos) << r.err;
}

TEST(ClientCommandsTest, BindingLifecycleTargets) {
  FakeHttpServer server([](const SeenRequest& req) {
    if (req.target.rfind("/v1/hosts/", 0) == 0) {
      return jsonResponse(200, R"({"host":"h 1","renewed":3})");
    }
    return jsonResponse(200, kBindingJson);
  });
  ASSERT_EQ(runAt(server, {"release", "7"}).code, kExitOk);
  ASSERT_EQ(runAt(server, {"renew", "7"}).code, kExitOk);
  ASSERT_EQ(runAt(server, {"renew", "7", "--ttl", "30"}).code, kExitOk);
  CliRun host = runAt(server, {"renew", "--host", "h 1"});
  ASSERT_EQ(host.code, kExitOk);
  EXPECT_EQ(host.out, "host     h 1\nrenewed  3\n");
  ASSERT_EQ(runAt(server, {"migrate", "7", "--host", "h2", "--host-mac", "02:00:00:00:00:01"}).code,
            kExitOk);
  ASSERT_EQ(runAt(server, {"move", "2001:DB8::A", "--to", "9"}).code, kExitOk);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].method + " " + seen[0].target, "DELETE /v1/bindings/7");
  EXPECT_EQ(seen[1].method + " " + seen[1].target, "POST /v1/bindings/7/renew");
  EXPECT_EQ(seen[1].body, "");
  EXPECT_EQ(json::parse(seen[2].body), json::parse(R"({"ttl_s":30})"));
  EXPECT_EQ(seen[3].method + " " + seen[3].target, "POST /v1/hosts/h%201/renew");
  EXPECT_EQ(seen[4].target, "/v1/bindings/7/migrate");
  EXPECT_EQ(json::parse(seen[4].body),
            json::parse(R"({"host":"h2","host_mac":"02:00:00:00:00:01"})"));
  EXPECT_EQ(seen[5].target, "/v1/addresses/2001:db8::a/move");
  EXPECT_EQ(json::parse(seen[5].body), json::parse(R"({"to":"9"})"));
}

TEST(ClientCommandsTest, WhoHasAndHistoryChooseTheSubjectByParsing) {
  FakeHttpServer server([](const SeenRequest& req) {
    if (req.target.rfind("/v1/history", 0) == 0 && req.target.find("at=") != std::string::npos) {
      return jsonResponse(200, R"({"key":"ip:192.0.2.10","at":"2026-11-21T14:00:00.000Z",
          "holder":{"seq":3,"time":"2026-11-21T13:00:00.000Z","op":"binding.allocate",
          "actor":"ci","holds":true,"binding_id":"7","instance":"vm1","interface":"eth0",
          "mac":"52:54:00:12:34:56","host":"h1","addresses":["192.0.2.10"],
          "since":"2026-11-21T13:00:00.000Z"}})");
    }
    if (req.target.rfind("/v1/history", 0) == 0) {
      return jsonResponse(200, R"({"key":"instance:vm1","entries":[
          {"seq":1,"time":"2026-11-21T13:00:00.000Z","op":"binding.allocate","actor":"ci",
           "holds":true,"binding_id":"7","instance":"vm1","interface":"eth0",
           "mac":"52:54:00:12:34:56","host":"h1","addresses":["192.0.2.10"],"since":"x"},
          {"seq":2,"time":"2026-11-21T13:05:00.000Z","op":"binding.release","actor":"admin",
           "holds":false,"binding_id":"7","instance":"vm1","interface":"eth0","mac":null,
           "host":null,"addresses":[],"since":"x"}]})");
    }
    return jsonResponse(200, kBindingJson);
  });
  ASSERT_EQ(runAt(server, {"who-has", "192.0.2.10"}).code, kExitOk);
  ASSERT_EQ(runAt(server, {"who-has", "5254.0012.3456"}).code, kExitOk);
  CliRun timeline = runAt(server, {"history", "vm1", "--from", "2026-11-21T00:00:00+02:00"});
  ASSERT_EQ(timeline.code, kExitOk) << timeline.err;
  EXPECT_EQ(timeline.out,
            "TIME                      OP                ACTOR  INSTANCE  MAC                "
            "HOST  ADDRESSES\n"
            "2026-11-21T13:00:00.000Z  binding.allocate  ci     vm1       52:54:00:12:34:56  "
            "h1    192.0.2.10\n"
            "2026-11-21T13:05:00.000Z  binding.release   admin  vm1       -                  "
            "-     -\n");
  CliRun at = runAt(server, {"history", "192.0.2.10", "--at", "2026-11-21T14:00:00Z"});
  ASSERT_EQ(at.code, kExitOk) << at.err;
  EXPECT_NE(at.out.find("instance     vm1\n"), std::string::npos) << at.out;
  EXPECT_NE(at.out.find("last_change  binding.allocate at 2026-11-21T13:00:00.000Z by ci\n"),
            std::string::npos)
      << at.out;
  ASSERT_EQ(runAt(server, {"history", "AA-BB-CC-DD-EE-FF", "--limit", "5"}).code, kExitOk);

  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].target, "/v1/addresses/192.0.2.10");
  EXPECT_EQ(seen[1].target, "/v1/macs/52:54:00:12:34:56");
  EXPECT_EQ(seen[2].target, "/v1/history?instance=vm1&from=2026-11-21T00%3A00%3A00%2B02%3A00");
  EXPECT_EQ(seen[3].target, "/v1/history?ip=192.0.2.10&at=2026-11-21T14%3A00%3A00Z");
  EXPECT_EQ(seen[4].target, "/v1/history?mac=aa%3Abb%3Acc%3Add%3Aee%3Aff&limit=5");
}

TEST(ClientCommandsTest, TokensAndDeletes) {
  FakeHttpServer server([](const SeenRequest& req) {
    if (req.method == "DELETE") return testing::httpResponse(204, "", "");
    if (req.method == "POST") {
      return jsonResponse(201, R"({"name":"ci","role":"operator","tenants":["a"],
          "created_at":"2026-11-21T14:00:00.000Z","secret":"nlt_abc"})");
    }
    return jsonResponse(200, R"({"items":[{"name":"admin","role":"admin","tenants":[],
        "created_at":"2026-11-21T14:00:00.000Z"}]})");
  });
  CliRun create = runAt(server, {"token", "create", "ci", "--role", "operator", "--tenant", "a"});
  ASSERT_EQ(create.code, kExitOk) << create.err;
  EXPECT_NE(create.out.find("shown only this once"), std::string::npos) << create.out;
  EXPECT_NE(create.out.find("\n    nlt_abc\n"), std::string::npos) << create.out;
  CliRun list = runAt(server, {"token", "list"});
  EXPECT_EQ(list.out,
            "NAME   ROLE   TENANTS  CREATED\nadmin  admin  -        "
            "2026-11-21T14:00:00.000Z\n");
  CliRun revoke = runAt(server, {"token", "revoke", "ci"});
  EXPECT_EQ(revoke.out, "token \"ci\" deleted\n");
  CliRun del = runAt(server, {"pool", "delete", "a/b", "-o", "json"});
  EXPECT_EQ(json::parse(del.out), json::parse(R"({"name":"a/b","deleted":true})"));

  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(json::parse(seen[0].body),
            json::parse(R"({"name":"ci","role":"operator","tenants":["a"]})"));
  EXPECT_EQ(seen[2].method + " " + seen[2].target, "DELETE /v1/tokens/ci");
  EXPECT_EQ(seen[3].target, "/v1/pools/a%2Fb");
}

TEST(ClientCommandsTest, ServerAndTokenFromEnvironmentAndTokenFile) {
  FakeHttpServer server([](const SeenRequest&) { return jsonResponse(200, R"({"items":[]})"); });
  ::setenv("NETLEDGER_URL", server.url().c_str(), 1);
  ::setenv("NETLEDGER_TOKEN", "from-env", 1);
  CliRun r = run({"macpool", "list"});
  auto path = std::filesystem::temp_directory_path() / "netledger-cli-test.token";
  std::ofstream(path) << "from-file\n";
  CliRun f = run({"macpool", "list", "--token-file", path.string()});
  CliRun flag = run({"macpool", "list", "--token", "from-flag"});
  ::unsetenv("NETLEDGER_URL");
  ::unsetenv("NETLEDGER_TOKEN");
  std::filesystem::remove(path);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "NAME  PREFIX  STRATEGY  SIZE  QUARANTINE_S\n");
  ASSERT_EQ(f.code, kExitOk) << f.err;
  ASSERT_EQ(flag.code, kExitOk) << flag.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].header("authorization"), "Bearer from-env");
  EXPECT_EQ(seen[1].header("authorization"), "Bearer from-file");
  EXPECT_EQ(seen[2].header("authorization"), "Bearer from-flag");
}

TEST(ClientCommandsTest, SnapshotWritesTheBody) {
  std::string bytes("SQLite format 3\0\x01\x02", 18);
  FakeHttpServer server([&bytes](const SeenRequest&) {
    return testing::httpResponse(200, "application/vnd.sqlite3", bytes);
  });
  auto path = std::filesystem::temp_directory_path() / "netledger-cli-test-snap.db";
  std::filesystem::remove(path);
  CliRun r = runAt(server, {"snapshot", "create", path.string()});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "snapshot written to " + path.string() + " (18 bytes)\n");
  std::ifstream in(path, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, bytes);
  EXPECT_EQ(runAt(server, {"snapshot", "create", path.string(), "--force"}).code, kExitOk);
  std::filesystem::remove(path);
  EXPECT_EQ(server.requests()[0].target, "/v1/snapshot");
}

TEST(ClientCommandsTest, ImportCreatesSkipsExistingAndReportsFailures) {
  // "a" is new, "b" exists, "c" overlaps another pool.
  FakeHttpServer server([](const SeenRequest& req) {
    if (req.method == "GET") {
      return req.target == "/v1/pools/b" ? jsonResponse(200, kPoolJson)
                                         : problemResponse(404, "not_found", "no such pool");
    }
    auto name = json::parse(req.body).at("name").as_string();
    if (name == "a") return jsonResponse(201, kPoolJson);
    if (name == "b") return problemResponse(409, "conflict", "name: pool b exists");
    return problemResponse(409, "conflict", "cidr overlaps pool z");
  });
  auto path = std::filesystem::temp_directory_path() / "netledger-cli-test-import.yaml";
  std::ofstream(path) << "kind: IPPool\nmetadata: {name: a}\nspec: {subnet: 192.0.2.0/26}\n"
                         "---\nkind: IPPool\nmetadata: {name: b}\nspec: {subnet: 192.0.2.64/26}\n"
                         "---\nkind: IPPool\nmetadata: {name: c}\nspec: {subnet: 192.0.2.128/26}\n";
  CliRun r = runAt(server, {"import", "ippool", path.string()});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "import: 1 created, 1 skipped, 1 failed\n");
  EXPECT_EQ(r.err,
            "netledger: pool \"b\" exists; skipped\n"
            "netledger: pool \"c\": cidr overlaps pool z (conflict)\n");
  EXPECT_EQ(server.connections(), 1);  // one kept-alive connection for the whole import

  CliRun quiet =
      runAt(server, {"import", "ippool", path.string(), "--skip-existing", "-o", "json"});
  EXPECT_EQ(quiet.code, kExitFailure);
  EXPECT_EQ(quiet.err, "netledger: pool \"c\": cidr overlaps pool z (conflict)\n");
  EXPECT_EQ(json::parse(quiet.out), json::parse(R"j({"created":["a"],"skipped":["b"],
      "failed":[{"name":"c","error":"cidr overlaps pool z (conflict)"}]})j"));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace netledger::cli
