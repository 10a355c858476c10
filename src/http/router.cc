#include "http/router.h"

#include <algorithm>
#include <set>

#include "http/problem.h"

namespace netledger::http {

struct Router::Node {
  // A handful of children per level (~15 under /v1 for the whole API): a linear scan over
  // contiguous strings is faster than hashing the segment.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> parameter;
  std::vector<const Route*> routes;  // routes ending here, one per method
};

namespace {

struct PatternSegment {
  std::string text;  // literal text, or the parameter name
  bool isParameter = false;
};

Result<std::vector<PatternSegment>> parsePattern(std::string_view pattern) {
  if (pattern.empty() || pattern[0] != '/') {
    return Status::invalidArgument("route pattern must start with '/': " + std::string(pattern));
  }
  std::vector<PatternSegment> out;
  if (pattern == "/") return out;
  std::size_t pos = 1;
  while (true) {
    std::size_t slash = pattern.find('/', pos);
    std::string_view seg =
        pattern.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    bool opens = seg.find('{') != std::string_view::npos;
    bool closes = seg.find('}') != std::string_view::npos;
    if (seg.empty()) {
      return Status::invalidArgument("route pattern has an empty segment: " + std::string(pattern));
    }
    if (opens || closes) {
      if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}' ||
          seg.substr(1, seg.size() - 2).find_first_of("{}") != std::string_view::npos) {
        return Status::invalidArgument("route parameter must be a whole segment '{name}': " +
                                       std::string(pattern));
      }
      std::string name(seg.substr(1, seg.size() - 2));
      for (const auto& s : out) {
        if (s.isParameter && s.text == name) {
          return Status::invalidArgument("route parameter repeated: " + std::string(pattern));
        }
      }
      out.push_back({std::move(name), true});
    } else {
      out.push_back({std::string(seg), false});
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

// Depth-first, literals before the parameter, so a literal wins but a dead-end literal branch
// still falls back to the parameter ("/a/x/y" with routes "/a/x" and "/a/{p}/y").
const Router::Route* walk(const Router::Node& node, const std::vector<std::string>& segments,
                          std::size_t i, std::string_view method,
                          std::vector<const Router::Node*>& pathEnds) {
  if (i == segments.size()) {
    for (const Router::Route* r : node.routes) {
      if (r->method == method) return r;
    }
    if (!node.routes.empty()) pathEnds.push_back(&node);
    return nullptr;
  }
  const std::string& seg = segments[i];
  for (const auto& [text, child] : node.literals) {
    if (text == seg) {
      if (const Router::Route* r = walk(*child, segments, i + 1, method, pathEnds)) return r;
      break;
    }
  }
  if (node.parameter && !seg.empty()) {
    return walk(*node.parameter, segments, i + 1, method, pathEnds);
  }
  return nullptr;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Status Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  if (method.empty()) return Status::invalidArgument("route method is empty");
  auto parsed = parsePattern(pattern);
  if (!parsed) return parsed.status();
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = pattern;
  route->handler = std::move(handler);
  Node* node = root_.get();
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    const PatternSegment& seg = (*parsed)[i];
    if (seg.isParameter) {
      route->params.emplace_back(i, seg.text);
      if (!node->parameter) node->parameter = std::make_unique<Node>();
      node = node->parameter.get();
      continue;
    }
    auto it = std::find_if(node->literals.begin(), node->literals.end(),
                           [&](const auto& c) { return c.first == seg.text; });
    if (it == node->literals.end()) {
      node->literals.emplace_back(seg.text, std::make_unique<Node>());
      it = std::prev(node->literals.end());
    }
    node = it->second.get();
  }
  for (const Route* existing : node->routes) {
    if (existing->method == method) {
      return Status::invalidArgument("route registered twice: " + std::string(method) + " " +
                                     std::string(pattern) + " (as " + existing->pattern + ")");
    }
  }
  node->routes.push_back(route.get());
  routes_.push_back(std::move(route));
  return Status::ok();
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back({r->method, r->pattern});
  return out;
}

Router::Match Router::match(std::string_view method,
                            const std::vector<std::string>& segments) const {
  Match m;
  std::vector<const Node*> pathEnds;
  m.route = walk(*root_, segments, 0, method, pathEnds);
  // HEAD is GET without the body (RFC 9110 §9.3.2): wherever GET is answered, so is HEAD.
  if (m.route == nullptr && method == "HEAD") {
    pathEnds.clear();
    m.route = walk(*root_, segments, 0, "GET", pathEnds);
  }
  if (m.route == nullptr && !pathEnds.empty()) {
    std::set<std::string> methods;
    for (const Node* n : pathEnds) {
      for (const Route* r : n->routes) {
        methods.insert(r->method);
        if (r->method == "GET") methods.insert("HEAD");
      }
    }
    for (const std::string& name : methods) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += name;
    }
  }
  return m;
}

void Router::bindParams(const Route& route, Request& request) {
  for (const auto& [index, name] : route.params) {
    if (index < request.segments.size()) request.params[name] = request.segments[index];
  }
}

void Router::handle(Request& request, Responder responder) const {
  Match m = match(request.method, request.segments);
  if (m.route == nullptr) {
    responder(noRouteResponse(m, request));
    return;
  }
  bindParams(*m.route, request);
  m.route->handler(request, std::move(responder));
}

Response noRouteResponse(const Router::Match& match, const Request& request) {
  if (match.allow.empty()) {
    return problem(404, codeName(StatusCode::kNotFound), "no resource at " + request.path);
  }
  Response r =
      problem(405, "method_not_allowed",
              request.method + " is not allowed on " + request.path + "; allowed: " + match.allow);
  r.headers.set("Allow", match.allow);
  return r;
}

}  // namespace netledger::http
