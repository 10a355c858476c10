// Probe before use and active scans over the wire, with the test playing the node agent: an
// allocation with probe waits while "the agent" reports over HTTP from another connection;
// scans are created, read from the event stream, completed and compared with the ledger.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "integration/harness.h"

namespace netledger::it {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class ProbeTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    createPool(obj({{"name", "lab"}, {"cidr", "192.0.2.0/24"}, {"gateway", "192.0.2.1"}}));
    agent_ = server_.client();
  }

  static json::value probeRequest(const std::string& instance, int timeout_s = 30) {
    return obj({{"instance", instance},
                {"pool", "lab"},
                {"host", "node-1"},
                {"probe", true},
                {"probe_timeout_s", timeout_s}});
  }

  // Starts a probed allocation on its own connection; the future is its response.
  std::future<HttpResponse> allocateAsync(json::value body) {
    return std::async(std::launch::async, [this, body = std::move(body)] {
      auto client = server_.client();
      return client->post("/v1/bindings", body);
    });
  }

  // What the agent sees: the reserved binding of `instance` (polls until it exists).
  json::value waitReserved(const std::string& instance) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto page = agent_->get("/v1/bindings?instance=" + urlEncode(instance));
      if (page.status == 200 && !items(page.json()).empty()) return items(page.json())[0];
      std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("no binding for " + instance);
  }

  HttpResponse report(const std::string& id, const std::string& address, const std::string& result,
                      const std::string& mac = "") {
    json::object o{{"address", address}, {"result", result}, {"interface", "br0"}};
    if (!mac.empty()) o["mac"] = mac;
    return agent_->post("/v1/bindings/" + id + "/probe", o);
  }

  json::array waitConflicts(const std::string& query) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      auto page = mustGet("/v1/conflicts?" + query);
      if (!items(page).empty() || std::chrono::steady_clock::now() > deadline) return items(page);
      std::this_thread::sleep_for(20ms);
    }
  }

  // Audit events of `op` (memory may show a change a moment before its event is durable).
  json::array waitAudit(const std::string& op, std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      auto page = mustGet("/v1/audit?op=" + op);
      if (items(page).size() >= n || std::chrono::steady_clock::now() > deadline) {
        return items(page);
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  std::unique_ptr<HttpClient> agent_;
};

TEST_F(ProbeTest, AllFreeAnswersTheWaitingAllocationWithTheActiveBinding) {
  auto pending = allocateAsync(probeRequest("vm-1"));
  auto seen = waitReserved("vm-1");
  EXPECT_EQ(str(seen, "state"), "reserved");
  EXPECT_EQ(pending.wait_for(200ms), std::future_status::timeout) << "answered before the probe";
  // The allocation event says reserved: that is what the agent acts on.
  auto allocated = waitAudit("binding.allocate", 1);
  ASSERT_EQ(allocated.size(), 1u);
  EXPECT_EQ(str(allocated[0].at("after"), "state"), "reserved");
  // A repeat of the same (instance, interface) does not wait.
  auto repeat = api_->post("/v1/bindings", probeRequest("vm-1"));
  ASSERT_EQ(repeat.status, 200u) << repeat.describe();
  EXPECT_EQ(str(repeat.json(), "state"), "reserved");

  const std::string id = str(seen, "id");
  const std::string address = strings(seen, "addresses").at(0);
  auto r = report(id, address, "free");
  ASSERT_EQ(r.status, 200u) << r.describe();
  EXPECT_EQ(str(r.json(), "state"), "active");

  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto answer = pending.get();
  ASSERT_EQ(answer.status, 201u) << answer.describe();
  EXPECT_EQ(str(answer.json(), "state"), "active");
  EXPECT_EQ(strings(answer.json(), "addresses"), std::vector<std::string>{address});
  EXPECT_EQ(answer.header("Location"), "/v1/bindings/" + id);
  auto activated = waitAudit("binding.activate", 1);
  ASSERT_EQ(activated.size(), 1u);
  EXPECT_EQ(str(activated[0].at("after"), "state"), "active");
  // Done probing: another report is refused, naming the state.
  EXPECT_TRUE(isProblem(report(id, address, "free"), 409, "conflict",
                        "binding " + id + " is active, not awaiting a probe"));
}

TEST_F(ProbeTest, AnAddressInUseIsReassignedQuarantinedAndBecomesAnUnknownStation) {
  auto pending = allocateAsync(probeRequest("vm-1"));
  auto seen = waitReserved("vm-1");
  const std::string id = str(seen, "id");
  const std::string taken = strings(seen, "addresses").at(0);
  auto moved = report(id, taken, "in_use", "02-00-00-00-00-99");
  ASSERT_EQ(moved.status, 200u) << moved.describe();
  EXPECT_EQ(str(moved.json(), "state"), "reserved");
  const std::string fresh = strings(moved.json(), "addresses").at(0);
  EXPECT_NE(fresh, taken);
  EXPECT_EQ(pending.wait_for(100ms), std::future_status::timeout);

  // The agent learns of the new address from binding.reassign, still reserved.
  auto reassigned = waitAudit("binding.reassign", 1);
  ASSERT_EQ(reassigned.size(), 1u);
  EXPECT_EQ(str(reassigned[0].at("after"), "state"), "reserved");
  EXPECT_EQ(strings(reassigned[0].at("after"), "addresses"), std::vector<std::string>{fresh});
  // The station that answered is an unknown_station conflict naming its MAC.
  auto conflicts = waitConflicts("kind=unknown_station&ip=" + taken);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(str(conflicts[0], "mac"), "02:00:00:00:00:99");
  // The address is held back.
  EXPECT_TRUE(isProblem(
      api_->post("/v1/bindings", obj({{"instance", "other"}, {"pool", "lab"}, {"address", taken}})),
      409, "conflict", "quarantine"));

  auto r = report(id, fresh, "free");
  ASSERT_EQ(r.status, 200u) << r.describe();
  auto answer = pending.get();
  ASSERT_EQ(answer.status, 201u) << answer.describe();
  EXPECT_EQ(str(answer.json(), "state"), "active");
  EXPECT_EQ(strings(answer.json(), "addresses"), std::vector<std::string>{fresh});
}

TEST_F(ProbeTest, ThreeAddressesInUseReleaseTheBindingAndAnswerConflict) {
  auto pending = allocateAsync(probeRequest("vm-1"));
  auto seen = waitReserved("vm-1");
  const std::string id = str(seen, "id");
  std::string current = strings(seen, "addresses").at(0);
  std::vector<std::string> tried;
  for (int i = 1; i <= 3; ++i) {
    tried.push_back(current);
    auto r = report(id, current, "in_use", "02:00:00:00:00:0" + std::to_string(i));
    ASSERT_EQ(r.status, 200u) << r.describe();
    if (i < 3) {
      EXPECT_EQ(str(r.json(), "state"), "reserved");
      current = strings(r.json(), "addresses").at(0);
    } else {
      EXPECT_EQ(str(r.json(), "state"), "released");
    }
  }
  auto answer = pending.get();
  EXPECT_TRUE(isProblem(answer, 409, "conflict", "address: " + tried.back()));
  auto problem = answer.json();
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(answer.body.find("02:00:00:00:00:0" + std::to_string(i)), std::string::npos)
        << answer.body;
  }
  EXPECT_EQ(str(problem, "binding_id"), id);
  ASSERT_EQ(problem.at("in_use").as_array().size(), 3u);
  EXPECT_EQ(str(problem.at("in_use").as_array()[0], "address"), tried[0]);
  EXPECT_TRUE(isProblem(api_->get("/v1/bindings/" + id), 404, "not_found"));
  // Every address that answered is quarantined.
  auto pool = mustGet("/v1/pools/lab");
  EXPECT_EQ(num(pool.at("utilization"), "quarantined"), 3);
}

TEST_F(ProbeTest, NoOutcomeInTimeAnswers202AndHeartbeatsKeepItReserved) {
  auto started = std::chrono::steady_clock::now();
  auto r = api_->post("/v1/bindings", probeRequest("vm-1", 1));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 202u) << r.describe();
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  const std::string id = str(r.json(), "id");
  EXPECT_EQ(str(r.json(), "state"), "reserved");
  EXPECT_EQ(r.header("Location"), "/v1/bindings/" + id);

  // The agent's heartbeats (bulk and one) extend the lease but never activate.
  auto bulk = agent_->post("/v1/hosts/node-1/renew", obj({}));
  ASSERT_EQ(bulk.status, 200u) << bulk.describe();
  EXPECT_EQ(num(bulk.json(), "renewed"), 1);
  EXPECT_EQ(str(mustGet("/v1/bindings/" + id), "state"), "reserved");
  auto one = agent_->post("/v1/bindings/" + id + "/renew", obj({}));
  ASSERT_EQ(one.status, 200u) << one.describe();
  EXPECT_EQ(str(one.json(), "state"), "reserved");

  // The probe's late report still activates it; the client polls and sees it.
  auto late = report(id, strings(r.json(), "addresses").at(0), "free");
  ASSERT_EQ(late.status, 200u) << late.describe();
  EXPECT_EQ(str(mustGet("/v1/bindings/" + id), "state"), "active");
}

TEST_F(ProbeTest, ShutdownAnswersAWaitingAllocation) {
  auto pending = allocateAsync(probeRequest("vm-1", 60));
  waitReserved("vm-1");
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(server_.stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto answer = pending.get();
  EXPECT_EQ(answer.status, 202u) << answer.describe();
  EXPECT_EQ(str(answer.json(), "state"), "reserved");
}

TEST_F(ProbeTest, BadProbeInputIsRefusedNamingTheFieldAndChangesNothing) {
  auto active = allocate(obj({{"instance", "vm-active"}, {"pool", "lab"}, {"host", "node-1"}}));
  auto reserved = api_->post("/v1/bindings", probeRequest("vm-probing", 1));
  ASSERT_EQ(reserved.status, 202u) << reserved.describe();
  const std::string id = str(reserved.json(), "id");
  const std::string address = strings(reserved.json(), "addresses").at(0);
  std::string before = fingerprint();

  auto post = [&](const json::value& body) { return api_->post("/v1/bindings", body); };
  auto with = [](json::value v, std::string_view key, json::value x) {
    v.as_object()[key] = std::move(x);
    return v;
  };
  const json::value base = probeRequest("vm-new");
  EXPECT_TRUE(isProblem(post(with(base, "probe", "yes")), 400, "invalid_argument", "probe"));
  auto no_host = base;
  no_host.as_object().erase("host");
  EXPECT_TRUE(isProblem(post(no_host), 400, "invalid_argument", "host"));
  EXPECT_TRUE(isProblem(post(with(base, "probe_timeout_s", 0)), 400, "invalid_argument",
                        "probe_timeout_s"));
  EXPECT_TRUE(isProblem(post(with(base, "probe_timeout_s", 121)), 400, "invalid_argument",
                        "probe_timeout_s"));
  EXPECT_TRUE(isProblem(post(with(base, "probe_timeout_s", "5")), 400, "invalid_argument",
                        "probe_timeout_s"));
  EXPECT_TRUE(
      isProblem(post(with(base, "probe", false)), 400, "invalid_argument", "probe_timeout_s"));
  EXPECT_TRUE(isProblem(post(obj({{"instance", "vm-new"},
                                  {"mac", "02:00:00:00:00:42"},
                                  {"host", "node-1"},
                                  {"probe", true}})),
                        400, "invalid_argument", "probe"));

  auto bad_report = [&](const std::string& target, const json::value& body) {
    return agent_->post(target, body);
  };
  const std::string target = "/v1/bindings/" + id + "/probe";
  EXPECT_TRUE(
      isProblem(bad_report(target, obj({{"result", "free"}})), 400, "invalid_argument", "address"));
  EXPECT_TRUE(isProblem(bad_report(target, obj({{"address", "192.0.2.300"}, {"result", "free"}})),
                        400, "invalid_argument", "address"));
  EXPECT_TRUE(isProblem(bad_report(target, obj({{"address", "192.0.2.250"}, {"result", "free"}})),
                        400, "invalid_argument", "address: binding " + id + " does not hold"));
  EXPECT_TRUE(isProblem(bad_report(target, obj({{"address", address}})), 400, "invalid_argument",
                        "result"));
  EXPECT_TRUE(isProblem(bad_report(target, obj({{"address", address}, {"result", "maybe"}})), 400,
                        "invalid_argument", "result"));
  EXPECT_TRUE(isProblem(bad_report(target, obj({{"address", address}, {"result", "in_use"}})), 400,
                        "invalid_argument", "mac"));
  EXPECT_TRUE(isProblem(
      bad_report(target, obj({{"address", address}, {"result", "in_use"}, {"mac", "zz"}})), 400,
      "invalid_argument", "mac"));
  EXPECT_TRUE(isProblem(
      bad_report(target,
                 obj({{"address", address}, {"result", "in_use"}, {"mac", "01:00:5e:00:00:01"}})),
      400, "invalid_argument", "mac"));
  EXPECT_TRUE(
      isProblem(bad_report(target, obj({{"address", address}, {"result", "free"}, {"extra", 1}})),
                400, "invalid_argument", "extra"));
  EXPECT_TRUE(isProblem(
      bad_report("/v1/bindings/abc/probe", obj({{"address", address}, {"result", "free"}})), 400,
      "invalid_argument", "id"));
  EXPECT_TRUE(isProblem(
      bad_report("/v1/bindings/9999/probe", obj({{"address", address}, {"result", "free"}})), 404,
      "not_found"));
  EXPECT_TRUE(isProblem(
      bad_report("/v1/bindings/" + str(active, "id") + "/probe",
                 obj({{"address", strings(active, "addresses").at(0)}, {"result", "free"}})),
      409, "conflict", "state"));
  auto viewer = server_.client(createToken("eyes", "viewer"));
  before = fingerprint();  // the token is new state; nothing after it may change anything
  EXPECT_TRUE(isProblem(viewer->post(target, obj({{"address", address}, {"result", "free"}})), 403,
                        "forbidden"));
  EXPECT_EQ(fingerprint(), before);
  EXPECT_EQ(str(mustGet("/v1/bindings/" + id), "state"), "reserved");
}

// ---------------------------------------------------------------------------------------------
// Scans

class ScanTest : public ProbeTest {
 protected:
  void SetUp() override {
    ProbeTest::SetUp();
    // Addresses to scan: 192.0.2.2-.199 and .211-.254 (no network, broadcast, gateway or the
    // reserved range).
    auto r =
        api_->patch("/v1/pools/lab", obj({{"reserved", json::array{"192.0.2.200-192.0.2.210"}}}));
    ASSERT_EQ(r.status, 200u) << r.describe();
  }
  json::value scanBody(const std::string& pool = "lab") {
    return obj({{"pool", pool}, {"via", "node-1"}, {"rate_per_s", 50}});
  }
};

TEST_F(ScanTest, AScanIsRequestedOnTheEventStreamAndItsResultComparedWithTheLedger) {
  auto quiet = allocate(obj({{"instance", "vm-quiet"},
                             {"pool", "lab"},
                             {"address", "192.0.2.11"},
                             {"mac", "52:54:00:00:00:11"}}));
  allocate(obj({{"instance", "vm-loud"},
                {"pool", "lab"},
                {"address", "192.0.2.10"},
                {"mac", "52:54:00:00:00:10"}}));
  auto probing = api_->post("/v1/bindings", obj({{"instance", "vm-probing"},
                                                 {"pool", "lab"},
                                                 {"address", "192.0.2.12"},
                                                 {"host", "node-1"},
                                                 {"probe", true},
                                                 {"probe_timeout_s", 1}}));
  ASSERT_EQ(probing.status, 202u) << probing.describe();
  const std::string start = std::to_string(num(items(mustGet("/v1/audit?limit=1")).at(0), "seq"));

  auto scan = mustPost("/v1/scans", scanBody());
  const std::string id = str(scan, "id");
  EXPECT_EQ(id.rfind("scan-", 0), 0u);
  EXPECT_EQ(str(scan, "state"), "pending");
  EXPECT_EQ(str(scan, "pool"), "lab");
  EXPECT_EQ(str(scan, "network"), "default");
  EXPECT_EQ(str(scan, "via"), "node-1");
  EXPECT_EQ(num(scan, "rate_per_s"), 50);
  EXPECT_EQ(num(scan, "address_count"), 198 + 44);
  EXPECT_EQ(json::serialize(scan.at("addresses")),
            R"([{"start":"192.0.2.2","end":"192.0.2.199"},)"
            R"({"start":"192.0.2.211","end":"192.0.2.254"}])");

  // The agent learns of it from the event stream: scan.requested carrying the scan.
  auto events = readSseEvents(server_.port(), server_.adminToken(), "scan.*", start, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "scan.requested");
  const json::value data = parseJson(events[0].data);
  EXPECT_EQ(str(data.at("after"), "id"), id);
  EXPECT_EQ(data.at("after").at("addresses"), scan.at("addresses"));

  auto done = api_->post(
      "/v1/scans/" + id + "/result",
      obj({{"answered", json::array{obj({{"ip", "192.0.2.10"}, {"mac", "52:54:00:00:00:10"}}),
                                    obj({{"ip", "192.0.2.12"}, {"mac", "02:00:00:00:00:12"}}),
                                    obj({{"ip", "192.0.2.50"}, {"mac", "02-00-00-00-00-50"}})}},
           {"probed", 242}}));
  ASSERT_EQ(done.status, 200u) << done.describe();
  auto result = done.json();
  EXPECT_EQ(str(result, "state"), "done");
  EXPECT_EQ(num(result, "probed"), 242);
  EXPECT_EQ(num(result, "answered_count"), 3);
  // .12 is held by the reserved binding: not unknown.
  EXPECT_EQ(json::serialize(result.at("unknown_stations")),
            R"([{"ip":"192.0.2.50","mac":"02:00:00:00:00:50"}])");
  auto silent = result.at("silent_bindings").as_array();
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(str(silent[0], "id"), str(quiet, "id"));
  EXPECT_EQ(str(silent[0], "instance"), "vm-quiet");
  EXPECT_EQ(str(silent[0], "ip"), "192.0.2.11");
  EXPECT_EQ(str(silent[0], "mac"), "52:54:00:00:00:11");
  EXPECT_FALSE(str(result, "completed_at").empty());
  EXPECT_EQ(mustGet("/v1/scans/" + id), result);
  auto completed = waitAudit("scan.completed", 1);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(str(completed[0].at("after"), "state"), "done");

  // The answers reached the engine: the stranger at .50 is an unknown_station conflict.
  auto conflicts = waitConflicts("kind=unknown_station&ip=192.0.2.50");
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(str(conflicts[0], "mac"), "02:00:00:00:00:50");

  // A result is reported once.
  EXPECT_TRUE(
      isProblem(api_->post("/v1/scans/" + id + "/result", obj({{"answered", json::array{}}})), 409,
                "conflict", "already done"));
  // Newest first.
  auto second = mustPost("/v1/scans", scanBody());
  auto list = items(mustGet("/v1/scans"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(str(list[0], "id"), str(second, "id"));
  EXPECT_EQ(str(list[1], "id"), id);
  EXPECT_EQ(items(mustGet("/v1/scans?limit=1")).size(), 1u);
  // Scans survive a restart (they are ledger documents).
  server_.restart();
  api_ = server_.client();
  EXPECT_EQ(str(mustGet("/v1/scans/" + id), "state"), "done");
  EXPECT_EQ(str(mustGet("/v1/scans/" + str(second, "id")), "state"), "pending");
}

TEST_F(ScanTest, BadScanInputIsRefusedNamingTheFieldAndChangesNothing) {
  createPool(obj({{"name", "big"}, {"cidr", "10.0.0.0/15"}}));
  auto scan = mustPost("/v1/scans", scanBody());
  const std::string id = str(scan, "id");
  auto viewer = server_.client(createToken("eyes", "viewer"));
  const std::string before = fingerprint() + json::serialize(mustGet("/v1/scans"));

  auto create = [&](const json::value& body) { return api_->post("/v1/scans", body); };
  EXPECT_TRUE(isProblem(create(scanBody("nope")), 404, "not_found", "pool"));
  EXPECT_TRUE(isProblem(create(scanBody("big")), 400, "invalid_argument", "pool"));
  EXPECT_TRUE(isProblem(create(obj({{"pool", "lab"}})), 400, "invalid_argument", "via"));
  EXPECT_TRUE(isProblem(create(obj({{"via", "node-1"}})), 400, "invalid_argument", "pool"));
  EXPECT_TRUE(
      isProblem(create(obj({{"pool", "lab"}, {"via", ""}})), 400, "invalid_argument", "via"));
  EXPECT_TRUE(isProblem(create(obj({{"pool", "lab"}, {"via", "node-1"}, {"rate_per_s", 0}})), 400,
                        "invalid_argument", "rate_per_s"));
  EXPECT_TRUE(isProblem(create(obj({{"pool", "lab"}, {"via", "node-1"}, {"rate_per_s", 10001}})),
                        400, "invalid_argument", "rate_per_s"));
  EXPECT_TRUE(isProblem(create(obj({{"pool", "lab"}, {"via", "node-1"}, {"speed", 1}})), 400,
                        "invalid_argument", "speed"));
  EXPECT_TRUE(isProblem(viewer->post("/v1/scans", scanBody()), 403, "forbidden"));

  auto result = [&](const json::value& body) {
    return api_->post("/v1/scans/" + id + "/result", body);
  };
  auto answer = [](const char* ip, const char* mac) { return obj({{"ip", ip}, {"mac", mac}}); };
  EXPECT_TRUE(
      isProblem(result(obj({{"answered", json::array{answer("192.0.2.5", "02:00:00:00:00:05"),
                                                     answer("192.0.2.x", "02:00:00:00:00:06")}}})),
                400, "invalid_argument", "answered[1].ip"));
  EXPECT_TRUE(isProblem(
      result(obj({{"answered", json::array{answer("198.51.100.7", "02:00:00:00:00:05")}}})), 400,
      "invalid_argument", "answered[0].ip"));
  EXPECT_TRUE(
      isProblem(result(obj({{"answered", json::array{answer("192.0.2.1", "02:00:00:00:00:05")}}})),
                400, "invalid_argument", "answered[0].ip"));
  EXPECT_TRUE(isProblem(result(obj({{"answered", json::array{answer("192.0.2.5", "nope")}}})), 400,
                        "invalid_argument", "answered[0].mac"));
  EXPECT_TRUE(
      isProblem(result(obj({{"answered", json::array{answer("192.0.2.5", "ff:ff:ff:ff:ff:ff")}}})),
                400, "invalid_argument", "answered[0].mac"));
  EXPECT_TRUE(isProblem(result(obj({{"answered", json::array{obj({{"ip", "192.0.2.5"}})}}})), 400,
                        "invalid_argument", "answered[0].mac"));
  EXPECT_TRUE(isProblem(
      result(obj(
          {{"answered",
            json::array{obj({{"ip", "192.0.2.5"}, {"mac", "02:00:00:00:00:05"}, {"vlan", 3}})}}})),
      400, "invalid_argument", "answered[0].vlan"));
  EXPECT_TRUE(
      isProblem(result(obj({{"answered", "192.0.2.5"}})), 400, "invalid_argument", "answered"));
  EXPECT_TRUE(isProblem(result(obj({{"answered", json::array{}}, {"probed", -1}})), 400,
                        "invalid_argument", "probed"));
  EXPECT_TRUE(isProblem(result(obj({{"found", json::array{}}})), 400, "invalid_argument", "found"));
  EXPECT_TRUE(isProblem(api_->request("POST", "/v1/scans/" + id + "/result", "{not json"), 400,
                        "invalid_argument"));
  EXPECT_TRUE(isProblem(api_->post("/v1/scans/scan-999/result", obj({})), 404, "not_found"));
  EXPECT_TRUE(isProblem(api_->get("/v1/scans/scan-999"), 404, "not_found"));
  EXPECT_TRUE(isProblem(api_->get("/v1/scans?limit=0"), 400, "invalid_argument", "limit"));
  EXPECT_TRUE(isProblem(viewer->post("/v1/scans/" + id + "/result", obj({})), 403, "forbidden"));
  // A viewer may read them.
  EXPECT_EQ(viewer->get("/v1/scans/" + id).status, 200u);

  EXPECT_EQ(fingerprint() + json::serialize(mustGet("/v1/scans")), before);
  EXPECT_EQ(str(mustGet("/v1/scans/" + id), "state"), "pending");
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(items(mustGet("/v1/conflicts")).empty());
}

}  // namespace
}  // namespace netledger::it
