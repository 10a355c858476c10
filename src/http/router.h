#pragma once
// Router: method + path pattern -> handler. Patterns are literal segments and whole-segment
// parameters: "/v1/pools/{name}", "/v1/conflicts/{id}/ack". Matching walks a segment trie (no
// regex per request): cost is one short literal scan per path segment, independent of the number
// of routes. Literal segments win over parameters ("/v1/pools/stats" before "/v1/pools/{name}").
//
// An unknown path answers 404 not_found; a known path with another method answers 405
// method_not_allowed with `Allow` listing the methods the path accepts. HEAD matches a path's GET
// route unless the path registers HEAD itself (the server then sends the headers only).
//
// Thread safety: build it on one thread, then hand it to the Server; matching is const and
// safe from any number of threads.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"
#include "http/responder.h"

namespace netledger::http {

// Handlers answer through the Responder, now or later (see responder.h). The Request stays
// valid until the Responder is called or destroyed.
using Handler = std::function<void(Request&, Responder)>;

struct RouteInfo {
  std::string method;
  std::string pattern;

  friend bool operator==(const RouteInfo&, const RouteInfo&) = default;
};

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    // (segment index, parameter name) for each {name} segment.
    std::vector<std::pair<std::size_t, std::string>> params;
    Handler handler;
  };

  struct Match {
    const Route* route = nullptr;  // null: no route for this method and path
    // When route is null but the path exists with other methods: "DELETE, GET". Empty: 404.
    std::string allow;
  };

  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers a route. Errors (invalid_argument): a pattern not starting with '/', an empty or
  // partial parameter ("{}", "a{b}"), a repeated parameter name, an empty method, or a
  // (method, pattern) pair that is already registered, including one that differs only in
  // parameter names.
  Status add(std::string_view method, std::string_view pattern, Handler handler);

  // Every route in registration order, e.g. to compare with the OpenAPI document.
  std::vector<RouteInfo> routes() const;

  // Finds the route for percent-decoded path segments. A parameter never matches an empty
  // segment, so "/v1/pools/" is not "/v1/pools/{name}" with an empty name.
  Match match(std::string_view method, const std::vector<std::string>& segments) const;

  // Fills request.params from the route's parameter segments.
  static void bindParams(const Route& route, Request& request);

  // Routes the request: calls the handler, or answers 404/405 itself.
  void handle(Request& request, Responder responder) const;

  struct Node;  // the segment trie; defined in router.cc

 private:
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

// The 404 / 405 problem for a failed match.
Response noRouteResponse(const Router::Match& match, const Request& request);

}  // namespace netledger::http
