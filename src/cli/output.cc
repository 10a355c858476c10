#include "cli/output.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>

namespace netledger::cli {

namespace {

std::string scalarText(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  if (v.is_null()) return "-";
  return boost::json::serialize(v);
}

}  // namespace

std::string cellText(const boost::json::value& v) {
  std::string out;
  if (v.is_array()) {
    for (const auto& item : v.as_array()) out += (out.empty() ? "" : ",") + scalarText(item);
    return out.empty() ? "-" : out;
  }
  if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      out += (out.empty() ? "" : ",") + std::string(kv.key()) + "=" + scalarText(kv.value());
    }
    return out.empty() ? "-" : out;
  }
  std::string s = scalarText(v);
  return s.empty() ? "-" : s;
}

void printTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size(), ' ');
    }
    out << line << '\n';
  };
  print(header);
  for (const auto& row : rows) print(row);
}

void writeJson(std::ostream& out, const boost::json::value& v) {
  boost::json::serializer serializer;
  serializer.reset(&v);
  std::array<char, 65536> buffer;
  while (!serializer.done()) {
    std::string_view piece = serializer.read(buffer.data(), buffer.size());
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  }
  out << '\n';
}

void printResult(std::ostream& out, OutputFormat format, const boost::json::value& result) {
  if (format == OutputFormat::kJson) {
    writeJson(out, result);
    return;
  }
  if (result.is_object()) {
    std::size_t width = 0;
    for (const auto& kv : result.as_object()) width = std::max(width, kv.key().size());
    for (const auto& kv : result.as_object()) {
      std::string key(kv.key());
      out << key << std::string(width - key.size() + 2, ' ');
      if (kv.value().is_array()) {
        bool first = true;
        for (const auto& item : kv.value().as_array()) {
          out << (first ? "" : ", ") << scalarText(item);
          first = false;
        }
        out << '\n';
      } else {
        out << scalarText(kv.value()) << '\n';
      }
    }
  } else if (result.is_array()) {
    for (const auto& item : result.as_array()) out << scalarText(item) << '\n';
  } else {
    out << scalarText(result) << '\n';
  }
}

}  // namespace netledger::cli
