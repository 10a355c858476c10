#pragma once
// docs/api/openapi.json, embedded at build time so one binary serves everything.

#include <string_view>

namespace netledger::server {
std::string_view openapiDocument();
}
