#include "cli/output.h"

#include <algorithm>

#include <boost/json/serialize.hpp>

namespace netledger::cli {

namespace {

std::string scalarText(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  if (v.is_null()) return "-";
  return boost::json::serialize(v);
}

}  // namespace

void printResult(std::ostream& out, OutputFormat format, const boost::json::value& result) {
  if (format == OutputFormat::kJson) {
    out << boost::json::serialize(result) << '\n';
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
