#pragma once
// How the CLI prints results: a table (aligned "key  value" rows, or one item per line for
// lists) by default, or JSON with `-o json`. Commands build a boost::json value and hand it
// here, so both forms always carry the same data.

#include <ostream>
#include <string>

#include <boost/json/value.hpp>

namespace netledger::cli {

enum class OutputFormat { kTable, kJson };

void printResult(std::ostream& out, OutputFormat format, const boost::json::value& result);

}  // namespace netledger::cli
