#include "cli/problem_report.h"

#include <boost/json.hpp>

#include "cli/cli.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

std::string reasonPhrase(unsigned status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload too large";
    case 500:
      return "internal server error";
    case 502:
      return "bad gateway";
    case 503:
      return "service unavailable";
    case 504:
      return "gateway timeout";
    default:
      return "error";
  }
}

// A printable excerpt of a non-JSON body: first line, control characters dropped.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) {
    if (c == '\n' || c == '\r') break;
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

std::string stringMember(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

}  // namespace

int exitCodeForProblem(unsigned http_status, std::string_view code) {
  if (code == "invalid_argument" || code == "payload_too_large") return kExitUsage;
  if (code.empty() && (http_status == 400 || http_status == 413)) return kExitUsage;
  return kExitFailure;
}

FailureReport reportFromResponse(const HttpResponse& response) {
  std::string code;
  std::string detail;
  boost::system::error_code ec;
  json::value v = json::parse(response.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    code = stringMember(o, "code");
    detail = stringMember(o, "detail");
    if (detail.empty()) detail = stringMember(o, "title");
  }
  std::string fallback =
      "HTTP " + std::to_string(response.status) + " " + reasonPhrase(response.status);
  if (detail.empty()) {
    detail = fallback;
    std::string text = excerpt(response.body);
    if (!text.empty() && (ec || !v.is_object())) detail += ": " + text;
  }
  std::string shown_code = code.empty() ? "http_" + std::to_string(response.status) : code;
  return {exitCodeForProblem(response.status, code), detail + " (" + shown_code + ")"};
}

FailureReport reportFromStatus(const Status& status) {
  int exit_code = status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  return {exit_code, status.message() + " (" + std::string(codeName(status.code())) + ")"};
}

}  // namespace netledger::cli
