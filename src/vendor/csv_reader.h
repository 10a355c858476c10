#pragma once
// CSV records (RFC 4180) as the IEEE registry files are written: fields separated by ',',
// records ended by CRLF or LF, a field in double quotes may hold commas, line breaks and
// doubled quotes ("" is one "). Neither Boost nor the standard library reads this dialect
// (Boost.Tokenizer's escaped_list_separator knows neither doubled quotes nor line breaks in a
// field), hence this small reader; fuzz/oui_csv_fuzz.cc exercises it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace netledger::vendor {

class CsvReader {
 public:
  // `text` must outlive the reader. `source` (a file name) prefixes every error message.
  CsvReader(std::string_view source, std::string_view text) : source_(source), text_(text) {}

  // Reads the next record into `fields`, resized to the record's field count (its strings are
  // reused, so a loop over a file does not allocate per record). Returns false at the end of
  // the text. Blank lines are skipped. Errors are invalid_argument "source:line: problem"
  // (an unterminated quoted field, a quote inside an unquoted field, text after a closing
  // quote); the reader must not be used after an error.
  Result<bool> next(std::vector<std::string>& fields);

  // The 1-based line on which the record last returned by next() starts (records with quoted
  // line breaks span several lines); after the end, the line where the text ended.
  std::size_t recordLine() const { return record_line_; }

  // "source:line: message" for errors found by the caller in the current record.
  Status errorAt(std::string_view message) const;

 private:
  Status errorOnLine(std::size_t line, std::string_view message) const;

  std::string source_;
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;  // line of text_[pos_]
  std::size_t record_line_ = 0;
};

}  // namespace netledger::vendor
