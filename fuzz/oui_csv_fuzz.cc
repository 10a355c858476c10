// Fuzzes the IEEE registry CSV reader and OuiRegistryBuilder: never a crash; an error names the
// source and a line; a built registry answers like a linear scan over its assignments, and every
// answer's vendorJson is valid JSON that gives the organization back unchanged.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>

#include "fuzz_check.h"
#include "vendor/csv_reader.h"
#include "vendor/oui_registry.h"

using namespace netledger;
using namespace netledger::vendor;

namespace {

// Longest assignment holding `m` under lookup()'s rules, by brute force.
const OuiAssignment* naive(const std::vector<OuiAssignment>& all, addr::Mac m) {
  if (m.isLocallyAdministered()) return nullptr;
  std::uint64_t value = m.value() & ~(std::uint64_t{1} << 40);
  const OuiAssignment* best = nullptr;
  for (const auto& a : all) {
    if ((value >> (48 - a.bits)) != (a.prefix >> (48 - a.bits))) continue;
    if (!best || a.bits > best->bits) best = &a;
  }
  return best;
}

void checkAnswer(const OuiRegistry& r, const std::vector<OuiAssignment>& all, addr::Mac m) {
  MacVendor v = r.lookup(m);
  const OuiAssignment* want = naive(all, m);
  FUZZ_CHECK(v.organization == (want ? want->organization : ""));
  FUZZ_CHECK(v.registry == (want ? want->registry : ""));
  FUZZ_CHECK(v.multicast == m.isMulticast());
  FUZZ_CHECK(v.locally_administered == m.isLocallyAdministered());
  boost::system::error_code ec;
  auto json = boost::json::parse(vendorJson(v), ec);
  FUZZ_CHECK(!ec);
  FUZZ_CHECK(json.at("organization").as_string() == v.organization);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  CsvReader reader("fuzz.csv", text);
  std::vector<std::string> fields;
  std::size_t last_line = 0;
  while (true) {
    auto more = reader.next(fields);
    if (!more) {
      FUZZ_CHECK(more.status().message().starts_with("fuzz.csv:"));
      break;
    }
    if (!*more) break;
    FUZZ_CHECK(!fields.empty());
    FUZZ_CHECK(reader.recordLine() > last_line);
    last_line = reader.recordLine();
  }

  OuiRegistryBuilder builder;
  Status s = builder.addCsv("fuzz.csv", text);
  if (!s) {
    FUZZ_CHECK(s.code() == StatusCode::kInvalidArgument);
    FUZZ_CHECK(s.message().starts_with("fuzz.csv:"));
  }
  OuiRegistry r = std::move(builder).build();
  FUZZ_CHECK(s.isOk() || r.size() == 0);  // a failed text leaves nothing behind
  std::vector<OuiAssignment> all = r.assignments();
  FUZZ_CHECK(all.size() == r.size());
  for (const auto& a : all) {
    checkAnswer(r, all, addr::Mac(a.prefix));
    checkAnswer(r, all, addr::Mac(a.prefix | ((std::uint64_t{1} << (48 - a.bits)) - 1)));
  }
  // And a few MACs taken from the input bytes.
  for (std::size_t i = 0; i + 6 <= size && i < 64; i += 6) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < 6; ++k) v = v << 8 | data[i + k];
    checkAnswer(r, all, addr::Mac(v));
  }
  return 0;
}
