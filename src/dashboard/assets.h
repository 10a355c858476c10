#pragma once
// The dashboard's files (web/, built by Vite into web/dist), compiled into the binary so one
// netledgerd serves everything: no asset directory to install, version or get out of sync.
// The table is generated at build time by cmake/embed_assets.cmake.

#include <span>
#include <string_view>

namespace netledger::dashboard {

struct Asset {
  std::string_view path;          // relative to dist: "index.html", "assets/index-3f2a.js"
  std::string_view content_type;  // from the extension
  std::string_view body;
  std::string_view gzip;  // the same bytes gzip-compressed at build time ("" when not worth it)
  std::string_view etag;  // a quoted strong validator: "\"<sha256 prefix>\""
};

// Every embedded file. When web/dist was not built, a single index.html that says so.
std::span<const Asset> assets();

// The asset with this path, or nullptr.
const Asset* find(std::string_view path);

// True when the real dashboard was embedded (not the placeholder).
bool built();

}  // namespace netledger::dashboard
