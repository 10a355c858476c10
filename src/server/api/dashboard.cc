// The dashboard: GET / (index.html) and GET /assets/{file}, from the files embedded at build
// time (dashboard/assets.h). The page itself needs no token; it signs in against the API.
// Hashed asset names never change content, so they are cached for a year; index.html is
// revalidated (ETag) on every load so a new netledgerd's dashboard shows up at once.
#include <string>

#include "dashboard/assets.h"
#include "http/negotiation.h"
#include "server/api/common.h"

namespace netledger::server {

namespace {

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
  if (http::etagMatches(req.header("If-None-Match"), asset.etag)) {
    r.status = 304;
    return r;
  }
  r.contentType = std::string(asset.content_type);
  if (!asset.gzip.empty() && http::acceptsEncoding(req.header("Accept-Encoding"), "gzip")) {
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

void handleIndex(http::Request& req, http::Responder res) {
  const dashboard::Asset* index = dashboard::find("index.html");
  if (index == nullptr) return notFound(res, req);
  res(serveAsset(req, *index, false));
}

// Only names of the embedded table are served: there is no file system path to escape.
void handleAsset(http::Request& req, http::Responder res) {
  const dashboard::Asset* a = dashboard::find("assets/" + std::string(req.param("file")));
  if (a == nullptr) return notFound(res, req);
  res(serveAsset(req, *a, true));
}

}  // namespace

Status registerDashboardRoutes(http::Router& router) {
  NL_RETURN_IF_ERROR(router.add("GET", "/", handleIndex));
  return router.add("GET", "/assets/{file}", handleAsset);
}

}  // namespace netledger::server
