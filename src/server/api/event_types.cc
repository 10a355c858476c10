#include "server/api/event_types.h"

#include <algorithm>
#include <array>
#include <string>

#include "webhooks/dispatcher.h"

namespace netledger::server {
namespace {

constexpr std::array<std::string_view, 35> kEventTypes = {
    "address.move",      "binding.activate",      "binding.allocate",     "binding.expire",
    "binding.migrate",   "binding.reassign",      "binding.release",      "binding.renew",
    "binding.update",    "conflict.acknowledged", "conflict.opened",      "conflict.remediated",
    "conflict.resolved", "enforcement.failed",    "enforcement.restored", "host.renew",
    "macpool.create",    "macpool.delete",        "policy.update",        "pool.create",
    "pool.delete",       "pool.expand",           "pool.update",          "pool.utilization",
    "portmap.create",    "portmap.delete",        "portrange.delete",     "portrange.set",
    "report.health",     "scan.completed",        "scan.requested",       "token.create",
    "token.revoke",      "webhook.create",        "webhook.delete"};

}  // namespace

std::span<const std::string_view> eventTypes() { return kEventTypes; }

Status validateEventFilter(std::string_view filter) {
  NL_RETURN_IF_ERROR(webhooks::validateFilter(filter));
  if (filter == "*") return Status::ok();
  const bool family = filter.ends_with(".*");
  std::string_view name = family ? filter.substr(0, filter.size() - 1) : filter;  // "binding."
  const bool known = std::any_of(kEventTypes.begin(), kEventTypes.end(), [&](std::string_view t) {
    return family ? t.starts_with(name) : t == name;
  });
  if (known) return Status::ok();
  std::string families;  // the list is sorted, so each family's types are adjacent
  std::string_view previous;
  for (std::string_view t : kEventTypes) {
    std::string_view f = t.substr(0, t.find('.'));
    if (f == previous) continue;
    families += (families.empty() ? "" : ", ") + std::string(f) + ".*";
    previous = f;
  }
  return Status::invalidArgument("events: \"" + std::string(filter.substr(0, 100)) +
                                 "\" is not an event type this server emits (families: " +
                                 families + "; GET the OpenAPI document for every type)");
}

}  // namespace netledger::server
