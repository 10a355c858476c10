#pragma once
// Records as JSON: the one mapping used by audit events (before/after), the REST API's
// responses and the CLI's tables, so the three can never disagree.

#include <boost/json/value.hpp>

#include "alloc/ip_allocator.h"
#include "ledger/model.h"

namespace netledger::ledger {

std::string formatTime(Millis ms);  // RFC 3339 UTC with milliseconds: 2026-11-21T14:00:00.000Z
// RFC 3339 ("2026-11-21T14:00:00Z", fractional seconds and offsets allowed) or unix seconds.
Result<Millis> parseTime(std::string_view text);

boost::json::object toJson(const PoolRecord& p);
boost::json::object toJson(const MacPoolRecord& p);
boost::json::object toJson(const BindingRecord& b);
// A token without its hash.
boost::json::object toJson(const TokenRecord& t);
boost::json::object toJson(const EventRecord& e);
boost::json::object countsToJson(const alloc::IpPoolCounts& c);

// The binding embedded in an event's before/after text, if any.
Result<BindingRecord> bindingFromJson(const boost::json::value& v);
// A pool's "dhcp" object, as the API shows it and the stores keep it. The reader takes the
// API's input too: unknown keys, wrong types and out-of-range values are kInvalidArgument
// naming "dhcp.<key>"; absent keys keep their defaults.
boost::json::value toJson(const std::optional<PoolDhcp>& dhcp);
Result<std::optional<PoolDhcp>> poolDhcpFromJson(const boost::json::value& v);

}  // namespace netledger::ledger
