#pragma once
// How the CLI prints results: a table (aligned "key  value" rows, or one item per line for
// lists) by default, or JSON with `-o json`. Commands build a boost::json value and hand it
// here, so both forms always carry the same data.

#include <ostream>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace netledger::cli {

// kHtml: only `netledger report` writes it (runCli refuses it for the others).
enum class OutputFormat { kTable, kJson, kHtml };

void printResult(std::ostream& out, OutputFormat format, const boost::json::value& result);
// Writes `v` and a newline to `out` in 64 KiB pieces, never as one string: a report listing
// every station of a capture runs to megabytes.
void writeJson(std::ostream& out, const boost::json::value& v);

// Aligned columns under an upper-case header row, two spaces apart, no trailing blanks: how
// list commands print in table mode (`pool list`, `token list`, `history`).
void printTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// How one JSON value reads in a table cell: strings bare, null "-", booleans yes/no, arrays
// comma-joined, objects as "k=v" pairs.
std::string cellText(const boost::json::value& v);

}  // namespace netledger::cli
