// Conflicts as documents: names of kinds, severities, statuses and policies; which policy fits
// which kind; the JSON form the engine stores and reloads.
#include "engine/conflict.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace netledger::engine {
namespace {

namespace json = boost::json;

TEST(ConflictNamesTest, EveryNameParsesBack) {
  for (ConflictKind k : kAllConflictKinds) {
    auto parsed = parseConflictKind(conflictKindName(k));
    ASSERT_TRUE(parsed.isOk()) << conflictKindName(k);
    EXPECT_EQ(*parsed, k);
  }
  for (auto s : {Severity::kInfo, Severity::kWarning, Severity::kHigh, Severity::kCritical}) {
    EXPECT_EQ(parseSeverity(severityName(s)).value(), s);
  }
  for (auto s : {ConflictStatus::kOpen, ConflictStatus::kAcknowledged, ConflictStatus::kResolved}) {
    EXPECT_EQ(parseConflictStatus(conflictStatusName(s)).value(), s);
  }
  for (auto p :
       {Policy::kNone, Policy::kAlert, Policy::kQuarantineAndReassign, Policy::kRecordMigration}) {
    EXPECT_EQ(parsePolicy(policyName(p)).value(), p);
  }
  EXPECT_EQ(conflictKindName(ConflictKind::kDuplicateIp), "duplicate_ip");
  EXPECT_EQ(conflictKindName(ConflictKind::kPoolUtilization), "pool_utilization");
  EXPECT_EQ(policyName(Policy::kQuarantineAndReassign), "quarantine_and_reassign");
}

TEST(ConflictNamesTest, UnknownNamesAreRefusedNamingWhat) {
  auto k = parseConflictKind("duplicate-ip");
  ASSERT_FALSE(k.isOk());
  EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(k.status().message().rfind("kind: ", 0), 0u) << k.status().message();
  EXPECT_NE(k.status().message().find("duplicate_ip"), std::string::npos);  // lists the choices
  EXPECT_EQ(parsePolicy("reboot").status().message().rfind("policy: ", 0), 0u);
  EXPECT_EQ(parseSeverity("meh").status().message().rfind("severity: ", 0), 0u);
  EXPECT_EQ(parseConflictStatus("closed").status().message().rfind("status: ", 0), 0u);
}

TEST(ConflictPolicyTest, RepairsFitTheirKindOnly) {
  for (ConflictKind k : kAllConflictKinds) {
    const std::string name(conflictKindName(k));
    EXPECT_TRUE(checkPolicy(k, Policy::kNone).isOk()) << name;
    EXPECT_TRUE(checkPolicy(k, Policy::kAlert).isOk()) << name;
    Status q = checkPolicy(k, Policy::kQuarantineAndReassign);
    Status m = checkPolicy(k, Policy::kRecordMigration);
    EXPECT_EQ(q.isOk(), k == ConflictKind::kDuplicateIp) << name;
    EXPECT_EQ(m.isOk(), k == ConflictKind::kMacDrift) << name;
    for (const Status& s : {q, m}) {
      if (s.isOk()) continue;
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message().rfind(name + ": ", 0), 0u) << s.message();  // names the kind
    }
  }
}

TEST(ConflictPolicyTest, DefaultSeverities) {
  EXPECT_EQ(defaultSeverity(ConflictKind::kDuplicateIp), Severity::kCritical);
  EXPECT_EQ(defaultSeverity(ConflictKind::kBindingMismatch), Severity::kHigh);
  EXPECT_EQ(defaultSeverity(ConflictKind::kStaleBinding), Severity::kInfo);
  EXPECT_LT(defaultSeverity(ConflictKind::kMacDrift), defaultSeverity(ConflictKind::kDuplicateIp));
}

Conflict fullConflict() {
  Conflict c;
  c.id = 42;
  c.kind = ConflictKind::kDuplicateIp;
  c.severity = Severity::kCritical;
  c.status = ConflictStatus::kResolved;
  c.network = "blue";
  c.subject = "ip:192.0.2.7";
  c.ip = "192.0.2.7";
  c.mac = "52:54:00:00:00:01";
  c.macs = {"52:54:00:00:00:01", "52:54:00:00:00:02"};
  c.binding_id = 17;
  c.pool = "lab";
  c.message = "192.0.2.7 is claimed by 2 MACs";
  c.first_seen = 1'700'000'000'123;
  c.last_seen = 1'700'000'042'456;
  c.count = 9;
  c.evidence.push_back(json::object{{"ip", "192.0.2.7"}, {"mac", "52:54:00:00:00:02"}});
  c.details = json::object{{"reassigned_to", "192.0.2.8"}, {"ratio", 0.25}};
  c.policy = Policy::kQuarantineAndReassign;
  c.remediation = {"quarantine_and_reassign", "binding 17 moved", 1'700'000'001'000, true};
  c.acknowledged_by = "alice";
  c.acknowledged_at = 1'700'000'002'000;
  c.resolved_by = "engine";
  c.resolved_at = 1'700'000'003'000;
  c.resolution = "no new evidence for 300 s";
  return c;
}

TEST(ConflictJsonTest, FullConflictRoundTrips) {
  const Conflict c = fullConflict();
  json::object j = toJson(c);
  // Through text, as the engine stores it.
  auto back = conflictFromJson(json::parse(json::serialize(j)));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(back->kind, c.kind);
  EXPECT_EQ(back->severity, c.severity);
  EXPECT_EQ(back->status, c.status);
  EXPECT_EQ(back->network, c.network);
  EXPECT_EQ(back->subject, c.subject);
  EXPECT_EQ(back->ip, c.ip);
  EXPECT_EQ(back->mac, c.mac);
  EXPECT_EQ(back->macs, c.macs);
  EXPECT_EQ(back->binding_id, c.binding_id);
  EXPECT_EQ(back->pool, c.pool);
  EXPECT_EQ(back->message, c.message);
  EXPECT_EQ(back->first_seen, c.first_seen);
  EXPECT_EQ(back->last_seen, c.last_seen);
  EXPECT_EQ(back->count, c.count);
  EXPECT_EQ(back->evidence, c.evidence);
  EXPECT_EQ(back->details, c.details);
  EXPECT_EQ(back->policy, c.policy);
  EXPECT_EQ(back->remediation.action, c.remediation.action);
  EXPECT_EQ(back->remediation.result, c.remediation.result);
  EXPECT_EQ(back->remediation.at, c.remediation.at);
  EXPECT_EQ(back->remediation.ok, c.remediation.ok);
  EXPECT_EQ(back->acknowledged_by, c.acknowledged_by);
  EXPECT_EQ(back->acknowledged_at, c.acknowledged_at);
  EXPECT_EQ(back->resolved_by, c.resolved_by);
  EXPECT_EQ(back->resolved_at, c.resolved_at);
  EXPECT_EQ(back->resolution, c.resolution);
  EXPECT_EQ(toJson(*back), j);  // and nothing else was lost or invented
}

TEST(ConflictJsonTest, MinimalConflictRoundTrips) {
  Conflict c;
  c.id = 1;
  c.kind = ConflictKind::kPoolUtilization;
  c.severity = Severity::kWarning;
  c.subject = "pool:lab";
  c.first_seen = c.last_seen = 1'700'000'000'000;
  c.count = 1;
  c.policy = Policy::kNone;
  json::object j = toJson(c);
  EXPECT_FALSE(j.contains("binding_id"));
  EXPECT_FALSE(j.contains("acknowledged_by"));
  EXPECT_FALSE(j.at("remediation").as_object().contains("action"));
  auto back = conflictFromJson(j);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_FALSE(back->binding_id.has_value());
  EXPECT_TRUE(back->macs.empty());
  EXPECT_EQ(back->policy, Policy::kNone);
  EXPECT_EQ(back->network, "default");
  EXPECT_EQ(toJson(*back), j);
}

TEST(ConflictJsonTest, BrokenDocumentsAreRefused) {
  const json::object good = toJson(fullConflict());
  EXPECT_FALSE(conflictFromJson(json::value(5)).isOk());
  auto without = [&](const char* key) {
    json::object o = good;
    o.erase(key);
    return o;
  };
  auto with = [&](const char* key, json::value v) {
    json::object o = good;
    o[key] = std::move(v);
    return o;
  };
  EXPECT_FALSE(conflictFromJson(without("id")).isOk());
  EXPECT_FALSE(conflictFromJson(with("id", "42")).isOk());
  auto kind = conflictFromJson(with("kind", "gremlins"));
  ASSERT_FALSE(kind.isOk());
  EXPECT_EQ(kind.status().message().rfind("kind: ", 0), 0u);
  EXPECT_FALSE(conflictFromJson(with("severity", "apocalyptic")).isOk());
  EXPECT_FALSE(conflictFromJson(with("status", "closed")).isOk());
  json::object bad_policy = good;
  bad_policy["remediation"].as_object()["policy"] = "pray";
  EXPECT_FALSE(conflictFromJson(bad_policy).isOk());
}

}  // namespace
}  // namespace netledger::engine
