// The dashboard: GET / (index.html) and GET /assets/{file}, from the files embedded at build
// time (server/dashboard/assets.h). The page itself needs no token; it signs in against the API.
// Hashed asset names never change content, so they are cached for a year; index.html is
// revalidated (ETag) on every load so a new netledgerd's dashboard shows up at once.
#include <string>

#include "server/api/common.h"
#include "server/dashboard/assets.h"

namespace netledger::server {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether Accept-Encoding allows gzip (RFC 9110 §12.5.3): "gzip" or "*" with a non-zero q.
bool acceptsGzip(std::optional<std::string_view> header) {
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    if (!http::equalsIgnoreCase(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = trim(item.substr(semi + 1));
    if (params.starts_with("q=") || params.starts_with("Q=")) {
      std::string_view q = trim(params.substr(2));
      // q=0, q=0.0, q=0.00, q=0.000 refuse it.
      bool zero = !q.empty() && q.front() == '0' &&
                  q.substr(1).find_first_not_of(".0") == std::string_view::npos;
      return !zero;
    }
    return true;
  }
  return false;
}

// If-None-Match (RFC 9110 §13.1.2): "*" or a list containing our tag (weak comparison).
bool matchesEtag(std::optional<std::string_view> header, std::string_view etag) {
  if (!header) return false;
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

http::Response serveAsset(const http::Request& req, const dashboard::Asset& asset, bool immutable) {
  http::Response r;
  r.headers.set("ETag", std::string(asset.etag));
  r.headers.set("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.set("Vary", "Accept-Encoding");
  r.headers.set("X-Content-Type-Options", "nosniff");
  if (!immutable) {
    // The page talks only to this server; nothing may frame it (clickjacking of the
    // acknowledge/resolve buttons).
    r.headers.set("Content-Security-Policy",
                  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                  "form-action 'self'");
    r.headers.set("Referrer-Policy", "no-referrer");
  }
  if (matchesEtag(req.header("If-None-Match"), asset.etag)) {
    r.status = 304;
    return r;
  }
  r.contentType = std::string(asset.content_type);
  if (!asset.gzip.empty() && acceptsGzip(req.header("Accept-Encoding"))) {
    r.headers.set("Content-Encoding", "gzip");
    r.body = std::string(asset.gzip);
  } else {
    r.body = std::string(asset.body);
  }
  return r;
}

void notFound(http::Responder& res, const http::Request& req) {
  respondError(res, Status::notFound("no resource at " + req.path));
}

}  // namespace

Status registerDashboardRoutes(http::Router& router) {
  NL_RETURN_IF_ERROR(router.add("GET", "/", [](http::Request& req, http::Responder res) {
    const dashboard::Asset* index = dashboard::find("index.html");
    if (index == nullptr) return notFound(res, req);
    res(serveAsset(req, *index, false));
  }));
  return router.add("GET", "/assets/{file}", [](http::Request& req, http::Responder res) {
    // Only names of the embedded table are served: there is no file system path to escape.
    const dashboard::Asset* a = dashboard::find("assets/" + std::string(req.param("file")));
    if (a == nullptr) return notFound(res, req);
    res(serveAsset(req, *a, true));
  });
}

}  // namespace netledger::server
