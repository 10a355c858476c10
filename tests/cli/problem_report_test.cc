// How server problems and transport failures become "netledger: <detail> (<code>)" and an exit
// code: the contract scripts rely on.
#include "cli/problem_report.h"

#include <gtest/gtest.h>

#include "cli/cli.h"

namespace netledger::cli {
namespace {

HttpResponse problem(unsigned status, const std::string& code, const std::string& detail) {
  HttpResponse r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/problem+json"});
  r.body = "{\"type\":\"urn:netledger:error:" + code +
           "\",\"title\":\"T\",\"status\":" + std::to_string(status) + ",\"code\":\"" + code +
           "\",\"detail\":\"" + detail + "\"}";
  return r;
}

TEST(ProblemReportTest, ExitCodeByProblemCode) {
  EXPECT_EQ(exitCodeForProblem(400, "invalid_argument"), kExitUsage);
  EXPECT_EQ(exitCodeForProblem(413, "payload_too_large"), kExitUsage);
  EXPECT_EQ(exitCodeForProblem(400, ""), kExitUsage);
  EXPECT_EQ(exitCodeForProblem(404, "not_found"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(409, "conflict"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(409, "pool_exhausted"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(401, "unauthorized"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(403, "forbidden"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(500, "internal"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(503, "unavailable"), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(502, ""), kExitFailure);
  EXPECT_EQ(exitCodeForProblem(405, ""), kExitFailure);
}

TEST(ProblemReportTest, ProblemJsonGivesDetailAndCode) {
  auto r = reportFromResponse(problem(404, "not_found", "pool \\\"blue\\\" not found"));
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.message, "pool \"blue\" not found (not_found)");

  r = reportFromResponse(problem(400, "invalid_argument", "cidr: bad prefix"));
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(r.message, "cidr: bad prefix (invalid_argument)");

  r = reportFromResponse(problem(409, "pool_exhausted", "pool blue: no free address"));
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.message, "pool blue: no free address (pool_exhausted)");
}

TEST(ProblemReportTest, NonProblemBodiesAreDescribedByStatus) {
  HttpResponse html;
  html.status = 502;
  html.headers.push_back({"Content-Type", "text/html"});
  html.body = "<html>Bad Gateway</html>\nmore";
  auto r = reportFromResponse(html);
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.message, "HTTP 502 bad gateway: <html>Bad Gateway</html> (http_502)");

  HttpResponse empty;
  empty.status = 400;
  r = reportFromResponse(empty);
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(r.message, "HTTP 400 bad request (http_400)");

  HttpResponse json_without_code;
  json_without_code.status = 500;
  json_without_code.body = R"({"title": "Internal"})";
  r = reportFromResponse(json_without_code);
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.message, "Internal (http_500)");
}

TEST(ProblemReportTest, TransportAndLocalFailures) {
  auto r =
      reportFromStatus(Status::unavailable("cannot connect to http://h:1: Connection refused"));
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.message, "cannot connect to http://h:1: Connection refused (unavailable)");
  r = reportFromStatus(Status::invalidArgument("--server: server URL \"x\": no host"));
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(r.message, "--server: server URL \"x\": no host (invalid_argument)");
}

}  // namespace
}  // namespace netledger::cli
