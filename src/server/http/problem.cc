#include "server/http/problem.h"

#include <boost/json/serialize.hpp>

namespace netledger::http {

unsigned httpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
    case StatusCode::kPoolExhausted:
      return 409;
    case StatusCode::kUnauthorized:
      return 401;
    case StatusCode::kForbidden:
      return 403;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kOk:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string titleForCode(std::string_view code) {
  std::string title(code);
  for (char& c : title) {
    if (c == '_') c = ' ';
  }
  if (!title.empty() && title[0] >= 'a' && title[0] <= 'z') title[0] = char(title[0] - 'a' + 'A');
  return title;
}

Response problem(unsigned status, std::string_view code, std::string_view detail,
                 const boost::json::object& extra) {
  boost::json::object body;
  body.reserve(5 + extra.size());
  std::string type = "urn:netledger:error:";
  type += code;
  body["type"] = type;
  body["title"] = titleForCode(code);
  body["status"] = status;
  body["code"] = code;
  body["detail"] = detail;
  for (const auto& member : extra) {
    if (!body.contains(member.key())) body.emplace(member.key(), member.value());
  }
  Response r;
  r.status = status;
  r.contentType = kProblemContentType;
  r.body = boost::json::serialize(body);
  return r;
}

Response problemFromStatus(const Status& status, const boost::json::object& extra) {
  if (status.isOk()) {
    return problem(500, codeName(StatusCode::kInternal), "an OK status was reported as an error",
                   extra);
  }
  Response r =
      problem(httpStatusFor(status.code()), codeName(status.code()), status.message(), extra);
  if (status.code() == StatusCode::kUnauthorized) r.headers.set("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace netledger::http
