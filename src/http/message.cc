#include "http/message.h"

#include <algorithm>
#include <cctype>

namespace netledger::http {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const Field& f) { return equalsIgnoreCase(f.first, name); });
  fields_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (equalsIgnoreCase(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::string Endpoint::toString() const {
  std::string out;
  if (address.find(':') != std::string::npos) {
    out = "[" + address + "]";
  } else {
    out = address;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<std::string_view> Request::queryParam(std::string_view name) const {
  for (auto it = query.begin(); it != query.end(); ++it) {
    if (it->first == name) return std::string_view(it->second);
  }
  return std::nullopt;
}

std::string_view Request::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

Response Response::json(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::text(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.contentType = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::noContent() {
  Response r;
  r.status = 204;
  r.contentType.clear();
  return r;
}

Response Response::eventStream(std::function<void(std::shared_ptr<StreamWriter>)> onStream) {
  Response r;
  r.status = 200;
  r.contentType = "text/event-stream";
  r.onStream = std::move(onStream);
  return r;
}

}  // namespace netledger::http
