#pragma once
// Column encodings of the SQLite backend: compact text for a binding's addresses, JSON (Boost)
// for labels, string lists and a pool's structured fields. Decoders never throw: a malformed
// stored value is a Status naming the field, so one bad row cannot crash start-up.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ledger/model.h"

namespace netledger::store::sqlite {

// "pool|ip,pool|ip"; '%', '|' and ',' in pool names are percent-escaped so any name survives.
std::string encodeAddresses(const std::vector<ledger::BoundAddress>& addresses);
Status decodeAddresses(std::string_view text, std::vector<ledger::BoundAddress>& out);

// A JSON object of strings; "" when there are no labels (the common case costs nothing).
std::string encodeLabels(const ledger::Labels& labels);
Status decodeLabels(std::string_view text, ledger::Labels& out);

// A JSON array of strings.
std::string encodeStringList(const std::vector<std::string>& list);
Status decodeStringList(std::string_view text, std::vector<std::string>& out);

// The stored state code: fixed numbers, independent of the C++ enum's order.
std::int64_t bindingStateCode(ledger::BindingState state);
Result<ledger::BindingState> bindingStateFromCode(std::int64_t code);

// The fields of a pool other than name, version and times, as a JSON object. Decoding keeps
// the record's defaults for absent members, so a later version may add fields.
std::string encodePoolData(const ledger::PoolRecord& pool);
Status decodePoolData(std::string_view text, ledger::PoolRecord& pool);

}  // namespace netledger::store::sqlite
