#pragma once
// The event types the server emits (audit events, conflicts, reports): what a webhook or an
// event-stream filter may name. A filter naming anything else could never match, so it is
// refused instead of silently subscribing to nothing.

#include <span>
#include <string_view>

#include "common/status.h"

namespace netledger::server {

// Every event type, sorted ("address.move", "binding.activate", ...).
std::span<const std::string_view> eventTypes();

// invalid_argument naming the filter unless it is "*", "family.*" for a family that has types
// ("binding.*") or one of eventTypes().
Status validateEventFilter(std::string_view filter);

}  // namespace netledger::server
