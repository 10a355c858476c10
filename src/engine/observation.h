#pragma once
// The engine's intake: observations (src/observation/observation.h, the vocabulary the wire,
// the agent and the CLI share) parsed from POST /v1/observations bodies. The engine speaks that
// vocabulary: the names below are those types and functions, not copies.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/status.h"
#include "ledger/model.h"
#include "observation/observation.h"

namespace netledger::engine {

using ledger::Millis;
using observation::claimsAddress;
using observation::FrameKind;
using observation::frameKindName;
using observation::Observation;
using observation::parseFrameKind;
using observation::parseSource;
using observation::probesAddress;
using observation::Source;
using observation::sourceName;
using observation::toJson;

// Parses one observation of a POST /v1/observations body. Errors name the field with `where`
// as its prefix ("observations[3].mac: ..."). `now` fills a missing time.
Result<Observation> observationFromJson(const boost::json::value& v, const std::string& where,
                                        Millis now);

// A POST /v1/observations body: {"observations": [...]} or a bare array of at most `max`.
// Errors name the field ("observations[3].mac: ...").
Result<std::vector<Observation>> observationsFromJson(std::string_view body, Millis now,
                                                      std::size_t max);

}  // namespace netledger::engine
