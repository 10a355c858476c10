#include "cli/api_client.h"

#include <cstdlib>
#include <fstream>

#include <boost/json.hpp>

#include "cli/cli.h"
#include "common/crypto.h"

namespace netledger::cli {

namespace json = boost::json;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(std::string s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && blank(s[i])) ++i;
  return s.substr(i);
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("--token-file: cannot read \"" + path + "\"");
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty()) return Status::invalidArgument("--token-file: \"" + path + "\" is empty");
  return line;
}

bool isJson(const HttpResponse& r) {
  auto type = r.header("Content-Type");
  return !type || type->find("json") != std::string_view::npos;
}

}  // namespace

Result<ResolvedServer> resolveServer(const ServerOptions& options) {
  ResolvedServer r;
  r.url = !options.server.empty() ? options.server : env("NETLEDGER_URL");
  if (r.url.empty()) r.url = std::string(kDefaultServer);
  if (!options.token.empty() && !options.token_file.empty()) {
    return Status::invalidArgument("--token and --token-file: give one, not both");
  }
  if (!options.token.empty()) {
    r.token = options.token;
  } else if (!options.token_file.empty()) {
    auto t = readTokenFile(options.token_file);
    if (!t) return t.status();
    r.token = *t;
  } else {
    r.token = trim(env("NETLEDGER_TOKEN"));
  }
  return r;
}

Result<std::unique_ptr<ApiClient>> ApiClient::open(const ServerOptions& options) {
  auto resolved = resolveServer(options);
  if (!resolved) return resolved.status();
  HttpClientOptions http_options;
  http_options.insecure = options.insecure;
  http_options.request_timeout = options.request_timeout;
  auto http = HttpClient::create(resolved->url, http_options);
  if (!http) return http.status().withContext("--server");
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(http).value(), resolved->token));
}

ApiReply ApiClient::call(std::string_view method, std::string target, const json::value* body) {
  if (!body) return send(method, std::move(target), nullptr);
  std::string text = json::serialize(*body);
  return send(method, std::move(target), &text);
}

ApiReply ApiClient::callWithJsonText(std::string_view method, std::string target,
                                     std::string json_body) {
  return send(method, std::move(target), &json_body);
}

std::optional<ApiClient::StreamFailure> ApiClient::stream(
    std::string target, const std::string& last_event_id,
    const std::function<bool(std::string_view)>& on_data, std::chrono::milliseconds idle_timeout) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::move(target);
  request.headers.push_back({"Accept", "text/event-stream"});
  if (!token_.empty()) request.headers.push_back({"Authorization", "Bearer " + token_});
  if (!last_event_id.empty()) request.headers.push_back({"Last-Event-ID", last_event_id});
  bool ended_by_caller = false;
  std::string error_body;
  auto status = http_->stream(
      request,
      [&](std::string_view bytes) {
        ended_by_caller = !on_data(bytes);
        return !ended_by_caller;
      },
      idle_timeout, &error_body);
  if (ended_by_caller) return std::nullopt;
  if (!status) return StreamFailure{reportFromStatus(status.status()), true};
  if (*status == 200) return std::nullopt;
  HttpResponse response;
  response.status = *status;
  response.body = std::move(error_body);
  return StreamFailure{reportFromResponse(response), *status >= 500};
}

ApiReply ApiClient::send(std::string_view method, std::string target, std::string* json_body) {
  HttpRequest request;
  request.method = std::string(method);
  request.target = std::move(target);
  request.headers.push_back({"Accept", "application/json"});
  if (!token_.empty()) request.headers.push_back({"Authorization", "Bearer " + token_});
  if (method == "POST") request.headers.push_back({"Idempotency-Key", newIdempotencyKey()});
  if (json_body) {
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = std::move(*json_body);
  }
  ApiReply reply;
  auto response = http_->send(request);
  if (!response && method == "POST") {
    // The connection broke under the request: send it once more with the same key, so the
    // server answers what it did the first time instead of doing it twice.
    response = http_->send(request);
  }
  if (!response) {
    reply.failure = reportFromStatus(response.status());
    return reply;
  }
  reply.status = response->status;
  reply.raw = std::move(response->body);
  if (reply.status < 200 || reply.status > 299) {
    response->body = reply.raw;
    reply.failure = reportFromResponse(*response);
    return reply;
  }
  if (!reply.raw.empty() && isJson(*response)) {
    boost::system::error_code ec;
    reply.body = json::parse(reply.raw, ec);
    if (ec) {
      reply.failure = FailureReport{kExitFailure, "malformed JSON from " + http_->origin() + ": " +
                                                      ec.message() + " (internal)"};
    }
  }
  return reply;
}

}  // namespace netledger::cli
