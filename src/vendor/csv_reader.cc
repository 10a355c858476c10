#include "vendor/csv_reader.h"

#include <algorithm>

namespace netledger::vendor {

namespace {

constexpr std::size_t kNone = std::string_view::npos;

}  // namespace

Status CsvReader::errorOnLine(std::size_t line, std::string_view message) const {
  return Status::invalidArgument(source_ + ":" + std::to_string(line) + ": " +
                                 std::string(message));
}

Status CsvReader::errorAt(std::string_view message) const {
  return errorOnLine(record_line_, message);
}

Result<bool> CsvReader::next(std::vector<std::string>& fields) {
  const std::size_t size = text_.size();
  // Length of the record terminator at `p` (LF or CRLF), 0 if there is none.
  auto endOfLine = [&](std::size_t p) -> std::size_t {
    if (p < size && text_[p] == '\n') return 1;
    if (p + 1 < size && text_[p] == '\r' && text_[p + 1] == '\n') return 2;
    return 0;
  };
  for (std::size_t eol; (eol = endOfLine(pos_)) != 0; pos_ += eol) ++line_;
  if (pos_ >= size) {
    record_line_ = line_;
    return false;
  }

  record_line_ = line_;
  std::size_t count = 0;
  while (true) {
    if (count == fields.size()) fields.emplace_back();
    std::string& field = fields[count++];
    field.clear();
    if (pos_ < size && text_[pos_] == '"') {
      const std::size_t opened_on = line_;
      ++pos_;
      while (true) {
        std::size_t quote = text_.find('"', pos_);
        if (quote == kNone) {
          return errorOnLine(opened_on,
                             "field " + std::to_string(count) + ": quoted field is never closed");
        }
        std::string_view chunk = text_.substr(pos_, quote - pos_);
        line_ += static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
        field.append(chunk);
        pos_ = quote + 1;
        if (pos_ < size && text_[pos_] == '"') {  // "" stands for one quote
          field.push_back('"');
          ++pos_;
          continue;
        }
        break;
      }
      if (pos_ < size && text_[pos_] != ',' && endOfLine(pos_) == 0) {
        return errorOnLine(line_,
                           "field " + std::to_string(count) + ": text after the closing quote");
      }
    } else {
      // A plain loop: find_first_of runs memchr over the three stop characters per byte.
      std::size_t end = pos_;
      while (end < size && text_[end] != ',' && text_[end] != '\n' && text_[end] != '"') ++end;
      if (end < size && text_[end] == '"') {
        return errorOnLine(line_, "field " + std::to_string(count) +
                                      ": a quote inside an unquoted field (quote the whole "
                                      "field and double the quote)");
      }
      std::size_t stop = end;
      if (stop < size && text_[stop] == '\n' && stop > pos_ && text_[stop - 1] == '\r') --stop;
      field.append(text_.substr(pos_, stop - pos_));
      pos_ = stop;
    }
    if (pos_ < size && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    if (std::size_t eol = endOfLine(pos_); eol != 0) {
      pos_ += eol;
      ++line_;
    }
    break;
  }
  fields.resize(count);
  return true;
}

}  // namespace netledger::vendor
