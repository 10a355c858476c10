// docs/api/openapi.json against the code: the Router built exactly as netledgerd builds it
// (registerApi) must route every documented operation and nothing else, the document embedded
// in the binary must be the file on disk, and the operations marked `security: []` must be
// exactly those that answer without a bearer token.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "common/clock.h"
#include "engine/ledger_adapter.h"
#include "http/message.h"
#include "http/responder.h"
#include "http/router.h"
#include "ledger/ledger.h"
#include "ledger/store.h"
#include "metrics/registry.h"
#include "server/api/api.h"
#include "server/api/event_types.h"
#include "server/events/activity_rates.h"
#include "server/events/event_hub.h"
#include "server/openapi_document.h"
#include "server/probe/probe_coordinator.h"
#include "server/scans/scan_service.h"
#include "store/register.h"
#include "webhooks/dispatcher.h"

#ifndef NETLEDGER_SOURCE_DIR
#error "NETLEDGER_SOURCE_DIR must be defined (tests/CMakeLists.txt)"
#endif

namespace netledger::server {
namespace {

namespace json = boost::json;

using Operation = std::pair<std::string, std::string>;  // (METHOD, /path/{template})

const std::string kDocumentPath = std::string(NETLEDGER_SOURCE_DIR) + "/docs/api/openapi.json";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The HTTP methods a Path Item may hold (OpenAPI 3.0.3 §4.7.9); its other members
// (parameters, summary, description, servers, $ref) are not operations.
bool isOperationKey(std::string_view key) {
  static const std::set<std::string_view> kMethods = {"get",     "put",  "post",  "delete",
                                                      "options", "head", "patch", "trace"};
  return kMethods.contains(key);
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) segments.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return segments;
}

// The names of the {name} segments of a path template.
std::set<std::string> templateParams(const std::string& path) {
  std::set<std::string> names;
  for (const auto& seg : splitPath(path)) {
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      names.insert(seg.substr(1, seg.size() - 2));
    }
  }
  return names;
}

void collectPathParams(const json::object& holder, std::set<std::string>& out) {
  auto it = holder.find("parameters");
  if (it == holder.end()) return;
  for (const auto& p : it->value().as_array()) {
    const auto& po = p.as_object();
    if (po.at("in").as_string() == "path") out.insert(std::string(po.at("name").as_string()));
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::registerBuiltinStores();
    auto opened = ledger::openStore("memory:");
    ASSERT_TRUE(opened.isOk()) << opened.status().message();
    store_ = std::move(opened).value();
    ledger_ = std::make_unique<ledger::Ledger>(*store_, clock_);
    engine_ledger_ = std::make_unique<engine::LedgerAdapter>(*ledger_);
    engine_ = std::make_unique<engine::Engine>(*engine_ledger_, clock_);
    hub_ = std::make_unique<EventHub>(*ledger_, 0);
    webhooks_ = std::make_unique<webhooks::Dispatcher>();  // never started: no deliveries
    probe_ledger_ = std::make_unique<ProbeLedgerAdapter>(*ledger_);
    probes_ = std::make_unique<ProbeCoordinator>(*probe_ledger_, engine_.get(), clock_);
    scans_ = std::make_unique<ScanService>(*ledger_, engine_.get(), clock_);
    ctx_ = std::make_unique<ApiContext>(
        ApiContext{*ledger_, metrics_, ready_, std::string(openapiDocument()), engine_.get(),
                   hub_.get(), webhooks_.get(), probes_.get(), scans_.get(), &rates_, &clock_});
    Status s = registerApi(router_, *ctx_);
    ASSERT_TRUE(s.isOk()) << s.message();

    text_ = readFile(kDocumentPath);
    ASSERT_FALSE(text_.empty()) << "cannot read " << kDocumentPath;
    boost::system::error_code ec;
    json::value v = json::parse(text_, ec);
    ASSERT_FALSE(ec) << kDocumentPath << ": " << ec.message();
    ASSERT_TRUE(v.is_object());
    doc_ = std::move(v.as_object());
    ASSERT_TRUE(doc_.contains("paths"));
  }

  std::set<Operation> routed() const {
    std::set<Operation> out;
    for (const auto& r : router_.routes()) out.insert({r.method, r.pattern});
    return out;
  }

  std::set<Operation> documented() const {
    std::set<Operation> out;
    for (const auto& [path, item] : doc_.at("paths").as_object()) {
      for (const auto& [key, op] : item.as_object()) {
        if (isOperationKey(key)) out.insert({upper(std::string(key)), std::string(path)});
      }
    }
    return out;
  }

  // Routes a request without credentials and returns the status it was answered with.
  unsigned statusWithoutToken(const Operation& op) {
    http::Request req;
    req.method = op.first;
    std::string path;
    for (auto seg : splitPath(op.second)) {
      if (seg.front() == '{') {
        // A value every parameter parser accepts: a binding id, an address, a MAC, a name.
        std::string name = seg.substr(1, seg.size() - 2);
        seg = name == "ip" ? "192.0.2.1" : name == "mac" ? "02:00:00:00:00:01" : "1";
      }
      req.segments.push_back(seg);
      path += "/" + seg;
    }
    req.path = path;
    req.target = path;
    unsigned status = 0;
    router_.handle(
        req, http::Responder::fromCallback([&status](http::Response r) { status = r.status; }));
    return status;
  }

  FakeClock clock_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<engine::LedgerAdapter> engine_ledger_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<EventHub> hub_;
  std::unique_ptr<webhooks::Dispatcher> webhooks_;
  std::unique_ptr<ProbeLedgerAdapter> probe_ledger_;
  std::unique_ptr<ProbeCoordinator> probes_;
  std::unique_ptr<ScanService> scans_;
  ActivityRates rates_{0};
  metrics::Registry metrics_;
  std::atomic<bool> ready_{true};
  std::unique_ptr<ApiContext> ctx_;
  http::Router router_;
  std::string text_;
  json::object doc_;
};

TEST_F(OpenApiTest, EveryRouteIsDocumented) {
  auto docs = documented();
  for (const auto& op : routed()) {
    EXPECT_TRUE(docs.contains(op))
        << op.first << " " << op.second << " is routed but missing from docs/api/openapi.json";
  }
}

TEST_F(OpenApiTest, EveryDocumentedOperationIsRouted) {
  auto routes = routed();
  for (const auto& op : documented()) {
    EXPECT_TRUE(routes.contains(op))
        << op.first << " " << op.second << " is in docs/api/openapi.json but not routed";
  }
  EXPECT_EQ(routes.size(), router_.routes().size()) << "a route is registered twice";
}

TEST_F(OpenApiTest, EmbeddedDocumentIsTheFileOnDisk) {
  // The CMake step that embeds the file must have run after the last edit of the file.
  EXPECT_TRUE(openapiDocument() == text_)
      << "the openapiDocument() built into the binary differs from " << kDocumentPath
      << "; rebuild";
}

TEST_F(OpenApiTest, ServedDocumentIsTheEmbeddedOne) {
  http::Request req;
  req.method = "GET";
  req.path = req.target = "/v1/openapi.json";
  req.segments = {"v1", "openapi.json"};
  http::Response got;
  router_.handle(req, http::Responder::fromCallback([&got](http::Response r) { got = r; }));
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.contentType, "application/json");
  EXPECT_TRUE(got.body == openapiDocument());
}

TEST_F(OpenApiTest, DocumentBasics) {
  EXPECT_EQ(doc_.at("openapi").as_string(), "3.0.3");
  EXPECT_EQ(doc_.at("info").as_object().at("title").as_string(), "netledger");
  EXPECT_LT(text_.size(), 256u * 1024) << "keep the embedded document small";
  // The file is embedded in a C++ raw string delimited by NLOPENAPI.
  EXPECT_EQ(text_.find(")NLOPENAPI\""), std::string::npos);
  const auto& schemes = doc_.at("components").as_object().at("securitySchemes").as_object();
  const auto& bearer = schemes.at("bearerAuth").as_object();
  EXPECT_EQ(bearer.at("type").as_string(), "http");
  EXPECT_EQ(bearer.at("scheme").as_string(), "bearer");
  EXPECT_EQ(json::serialize(doc_.at("security")), R"([{"bearerAuth":[]}])");
}

TEST_F(OpenApiTest, PathParametersAreDeclared) {
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    const auto& item_obj = item.as_object();
    std::set<std::string> shared;
    collectPathParams(item_obj, shared);
    for (const auto& [key, op] : item_obj) {
      if (!isOperationKey(key)) continue;
      std::set<std::string> declared = shared;
      collectPathParams(op.as_object(), declared);
      EXPECT_EQ(declared, templateParams(std::string(path)))
          << upper(std::string(key)) << " " << std::string(path);
    }
  }
}

TEST_F(OpenApiTest, PublicOperationsAreExactlyThoseWithoutAuth) {
  auto routes = routed();
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    for (const auto& [key, op] : item.as_object()) {
      if (!isOperationKey(key)) continue;
      Operation operation{upper(std::string(key)), std::string(path)};
      if (!routes.contains(operation)) continue;  // EveryDocumentedOperationIsRouted reports it
      const auto& o = op.as_object();
      auto security = o.find("security");
      bool is_public = security != o.end() && security->value().is_array() &&
                       security->value().as_array().empty();
      unsigned status = statusWithoutToken(operation);
      if (is_public) {
        EXPECT_NE(status, 401u) << operation.first << " " << operation.second
                                << " is documented with security: [] but needs a token";
      } else {
        EXPECT_EQ(status, 401u) << operation.first << " " << operation.second
                                << " answers without a token; document it with security: []";
      }
    }
  }
}

// The event types filters may name (server/api/event_types.h) are the document's EventType
// enum, which also types every audit event's op: a new type must be added to both.
TEST(OpenApiEventTypesTest, TheCatalogueIsTheDocumentsEnum) {
  json::value doc = json::parse(readFile(kDocumentPath));
  std::vector<std::string> documented;
  for (const auto& t : doc.at("components").at("schemas").at("EventType").at("enum").as_array()) {
    documented.emplace_back(t.as_string());
  }
  std::vector<std::string> served(eventTypes().begin(), eventTypes().end());
  EXPECT_EQ(served, documented);
  EXPECT_TRUE(std::is_sorted(served.begin(), served.end()));
  EXPECT_TRUE(validateEventFilter("binding.*").isOk());
  EXPECT_TRUE(validateEventFilter("*").isOk());
  EXPECT_FALSE(validateEventFilter("binding.nuked").isOk());
  EXPECT_FALSE(validateEventFilter("bind.*").isOk());
}

}  // namespace
}  // namespace netledger::server
