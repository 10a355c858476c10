#pragma once
// Parsing JSON as an API has to: RFC 8259 says an object's member names SHOULD be unique and
// leaves what happens otherwise to the parser; Boost.JSON keeps the last, so
// {"duplicate_ip":"nuke","duplicate_ip":"alert"} would be read as "alert" without the first
// value ever being validated. Here a repeated name is an error (as I-JSON, RFC 7493 §2.3,
// requires), found in the same single pass that builds the value.

#include <cstddef>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "common/status.h"

namespace netledger::strictjson {

struct Limits {
  std::size_t max_depth = 32;  // nesting of arrays and objects
};

// One JSON document, nothing after it but whitespace. kInvalidArgument with the offset:
// "malformed JSON near offset 12: <why>" or "duplicate key \"name\" near offset 40".
// `sp` holds the result (e.g. a monotonic_resource for a batch read at once and dropped).
Result<boost::json::value> parse(std::string_view text, Limits limits = {},
                                 boost::json::storage_ptr sp = {});

}  // namespace netledger::strictjson
