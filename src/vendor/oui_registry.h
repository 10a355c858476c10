#pragma once
// MAC vendors from the IEEE registry as Debian's ieee-data ships it (/usr/share/ieee-data:
// oui.csv MA-L 24-bit, mam.csv MA-M 28-bit, oui36.csv MA-S 36-bit, iab.csv IAB 36-bit), plus a
// built-in table of the OUIs hypervisors use for virtual NICs.
//
// Layout: one sorted vector of packed 64-bit words per assignment length (the prefix in the
// high bits, the registry and an organization number in the low 24), and one string pool of
// deduplicated organization names. The ~46k assignments of ieee-data 2022 take ~0.4 MB of
// entries and ~0.6 MB of names; a lookup is three binary searches and allocates nothing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

#include "addr/mac.h"
#include "common/status.h"

namespace netledger::vendor {

// What the registry says about one MAC. The views point into the OuiRegistry that answered
// (or at static strings) and stay valid as long as that registry is alive and not moved from.
struct MacVendor {
  std::string_view organization;      // "" when unknown (e.g. locally administered)
  std::string_view registry;          // "MA-L" | "MA-M" | "MA-S" | "IAB" | ""
  std::string_view virtual_platform;  // "QEMU/KVM", "VMware", "Hyper-V", "Xen", ""
  bool locally_administered = false;
  bool multicast = false;
};

// One assignment of a registry (diagnostics and tests).
struct OuiAssignment {
  std::uint64_t prefix = 0;  // the assigned bits, as the leading bits of a 48-bit MAC value
  int bits = 0;              // 24, 28 or 36
  std::string_view registry;
  std::string_view organization;
};

class OuiRegistry {
 public:
  // Loads the ieee-data CSVs from `dir`: oui.csv is required; mam.csv, oui36.csv and iab.csv
  // are read when present. Errors: not_found naming a missing oui.csv, invalid_argument
  // "path:line: problem" for malformed content (the first one found). Duplicate assignments
  // keep the first one in file order (oui, mam, oui36, iab), so the answer is deterministic.
  static Result<OuiRegistry> load(const std::string& dir = "/usr/share/ieee-data");

  // A registry with only the built-in virtual-platform table (no ieee-data present): the
  // organizations of the hypervisor OUIs, so lookups still name VMware, Microsoft and Xen.
  static OuiRegistry builtinOnly();

  // The most specific assignment holding `mac` (36, then 28, then 24 bits). The virtual
  // platform, locally_administered and multicast fields are always set. A locally administered
  // MAC gets no organization: the registry does not assign those, and the few historical
  // assignments in that half (02:60:8c 3Com, aa:00:04 DEC) would wrongly name the maker of a
  // randomly generated MAC. A group (multicast) MAC is looked up with its I/G bit cleared:
  // IEEE 802 gives the OUI holder its group addresses too (01:80:c2:00:00:00 -> IEEE 802.1).
  // Thread-safe (const), allocates nothing.
  MacVendor lookup(addr::Mac mac) const;

  // Assignments held, after dropping duplicates.
  std::size_t size() const;
  // Assignments dropped because an earlier one had the same prefix and length.
  std::size_t duplicatesDropped() const { return duplicates_dropped_; }
  // Heap bytes of the tables and the name pool.
  std::size_t memoryBytes() const;
  // Every assignment, 36-bit ones first, each length in prefix order. Allocates: not for the
  // lookup path.
  std::vector<OuiAssignment> assignments() const;

 private:
  friend class OuiRegistryBuilder;
  static constexpr int kTables = 3;  // 36, 28, 24 bits: the lookup order

  OuiRegistry() = default;  // empty; made by OuiRegistryBuilder::build

  std::string_view organization(std::uint32_t index) const;

  std::vector<std::uint64_t> tables_[kTables];
  std::vector<std::uint32_t> org_offsets_{0};  // name i is pool_[offsets[i], offsets[i + 1])
  std::string pool_;
  std::size_t duplicates_dropped_ = 0;
};

// Collects assignments from CSV texts, then builds the registry. OuiRegistry::load is this over
// the ieee-data files; the fuzzer and the tests feed it text directly. Not copyable or movable
// (its name set refers back to it).
class OuiRegistryBuilder {
 public:
  OuiRegistryBuilder() = default;
  OuiRegistryBuilder(const OuiRegistryBuilder&) = delete;
  OuiRegistryBuilder& operator=(const OuiRegistryBuilder&) = delete;

  // Parses one ieee-data CSV text. The header row names the columns ("Registry", "Assignment",
  // "Organization Name" are required, in any order; others are ignored). Every row must have
  // the header's field count, a Registry of MA-L, MA-M, MA-S or IAB and an Assignment of
  // exactly 6, 7, 9 or 9 hex digits to match. Organization names are trimmed, control
  // characters become spaces and invalid UTF-8 becomes U+FFFD, so any name is safe to emit as
  // JSON. On error (invalid_argument "source:line: problem") nothing of `text` is kept.
  Status addCsv(std::string_view source, std::string_view text);

  // Adds one assignment: `prefix` holds the assigned bits as the leading bits of a 48-bit MAC
  // value (bits past `bits` are ignored). `bits` must be 24, 28 or 36 and `registry` one of
  // "MA-L", "MA-M", "MA-S", "IAB"; invalid_argument otherwise.
  Status add(std::uint64_t prefix, int bits, std::string_view registry,
             std::string_view organization);

  // Sorts and deduplicates (first added wins) into an immutable registry. The builder is left
  // empty.
  OuiRegistry build() &&;

 private:
  struct Pending {
    std::uint64_t key;  // the prefix's `bits` leading bits as an integer
    std::uint8_t table;
    std::uint8_t registry;
    std::uint32_t org;
  };
  // The set of organization numbers is hashed and compared by the names in pool_, so it holds
  // 4-byte numbers instead of a string per name (this halved the load time).
  struct NameHash {
    using is_transparent = void;
    const OuiRegistryBuilder* builder;
    std::size_t operator()(std::string_view name) const;
    std::size_t operator()(std::uint32_t org) const { return (*this)(builder->name(org)); }
  };
  struct NameEqual {
    using is_transparent = void;
    const OuiRegistryBuilder* builder;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a) == view(b);
    }
    std::string_view view(std::string_view s) const { return s; }
    std::string_view view(std::uint32_t org) const { return builder->name(org); }
  };

  std::string_view name(std::uint32_t org) const;
  std::uint32_t intern(std::string_view organization);
  void rollback(std::size_t pending, std::size_t orgs);

  std::vector<Pending> pending_;
  std::vector<std::uint32_t> org_offsets_{0};
  std::string pool_;
  boost::unordered_flat_set<std::uint32_t, NameHash, NameEqual> names_{0, NameHash{this},
                                                                       NameEqual{this}};
  std::string scratch_;  // the cleaned name being added
};

// The vendor as a JSON object text, to splice into a response being written:
// {"organization":"VMware, Inc.","registry":"MA-L","virtual":"VMware",
//  "locally_administered":false}. Unknown values are "". Correctly escaped (names are valid
// UTF-8, see OuiRegistryBuilder::addCsv).
std::string vendorJson(const MacVendor& v);

// The process-wide registry, loaded from /usr/share/ieee-data on first use; if that fails it
// warns once on stderr and falls back to builtinOnly(). Thread-safe; the reference lives until
// exit.
const OuiRegistry& defaultRegistry();

}  // namespace netledger::vendor
