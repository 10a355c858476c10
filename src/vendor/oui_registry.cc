#include "vendor/oui_registry.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "vendor/csv_reader.h"

namespace netledger::vendor {

namespace {

// Packed table word: key << kRefBits | registry << kOrgBits | organization number.
constexpr int kRefBits = 24;
constexpr int kOrgBits = 22;
constexpr std::uint32_t kMaxOrganizations = std::uint32_t{1} << kOrgBits;

constexpr std::array<int, 3> kTableBits = {36, 28, 24};

struct RegistryKind {
  std::string_view name;
  int bits;
};
// Index = the registry code stored in a table word.
constexpr std::array<RegistryKind, 4> kRegistries = {{
    {"MA-L", 24},
    {"MA-M", 28},
    {"MA-S", 36},
    {"IAB", 36},  // the retired Individual Address Blocks: 36-bit, like MA-S
}};

int registryCode(std::string_view name) {
  for (std::size_t i = 0; i < kRegistries.size(); ++i) {
    if (kRegistries[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int tableOf(int bits) {
  for (std::size_t i = 0; i < kTableBits.size(); ++i) {
    if (kTableBits[i] == bits) return static_cast<int>(i);
  }
  return -1;
}

// The OUIs hypervisors give their virtual NICs. QEMU's 52:54:00 is locally administered, so it
// has no registry entry; the others are their makers' MA-L blocks, used for nothing else.
struct VirtualOui {
  std::uint32_t oui;
  std::string_view platform;
  std::string_view organization;  // as ieee-data names it, for builtinOnly()
};
constexpr std::array<VirtualOui, 6> kVirtualOuis = {{
    {0x525400, "QEMU/KVM", ""},
    {0x005056, "VMware", "VMware, Inc."},
    {0x000c29, "VMware", "VMware, Inc."},
    {0x000569, "VMware", "VMware, Inc."},
    {0x00155d, "Hyper-V", "Microsoft Corporation"},
    {0x00163e, "Xen", "Xensource, Inc."},
}};

std::string_view virtualPlatformOf(std::uint32_t oui) {
  for (const auto& v : kVirtualOuis) {
    if (v.oui == oui) return v.platform;
  }
  return {};
}

// Length of the valid UTF-8 sequence at s[i], 0 if it is not one (overlong forms, surrogates
// and code points past U+10FFFF are invalid).
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

// Trimmed, control characters (tabs and line breaks in the registry) as spaces, invalid UTF-8
// as U+FFFD: names go into JSON and terminals as they are. Writes into `out` (reused).
void cleanName(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size();) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out.push_back(' ');
      ++i;
    } else if (std::size_t n = utf8SequenceLength(raw, i); n > 0) {
      out.append(raw.substr(i, n));
      i += n;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  std::size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) {
    out.clear();
    return;
  }
  out.erase(out.find_last_not_of(' ') + 1);
  out.erase(0, first);
}

// Exactly `digits` hex digits, or nullopt.
std::optional<std::uint64_t> parseHex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

// Column numbers of the fields we read, from the header row.
struct Columns {
  std::size_t count = 0;
  std::size_t registry = 0;
  std::size_t assignment = 0;
  std::size_t organization = 0;
};

Result<Columns> readHeader(CsvReader& reader, std::vector<std::string>& fields) {
  auto more = reader.next(fields);
  if (!more) return more.status();
  if (!*more) return reader.errorAt("empty file: no header row");
  if (!fields.empty() && fields[0].starts_with("\xef\xbb\xbf")) fields[0].erase(0, 3);  // BOM
  Columns c;
  c.count = fields.size();
  auto find = [&](std::string_view name, std::size_t& column) -> Status {
    auto it = std::find(fields.begin(), fields.end(), name);
    if (it == fields.end()) {
      return reader.errorAt("header has no \"" + std::string(name) + "\" column");
    }
    column = static_cast<std::size_t>(it - fields.begin());
    return Status::ok();
  };
  NL_RETURN_IF_ERROR(find("Registry", c.registry));
  NL_RETURN_IF_ERROR(find("Assignment", c.assignment));
  NL_RETURN_IF_ERROR(find("Organization Name", c.organization));
  return c;
}

// The whole file, refusing anything implausibly large for a registry (the real ones are a few
// MB) rather than reading it into memory.
Result<std::string> readFile(const std::string& path) {
  constexpr std::uintmax_t kMaxBytes = 64u << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kUnavailable,
                  path + ": cannot open: " + std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::streamoff>(in.tellg());
  if (size < 0) return Status::unavailable(path + ": cannot read its size");
  if (static_cast<std::uintmax_t>(size) > kMaxBytes) {
    return Status::invalidArgument(path + ": " + std::to_string(size) +
                                   " bytes, more than a registry file can be (64 MiB)");
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), size)) return Status::unavailable(path + ": read failed");
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// OuiRegistryBuilder

std::size_t OuiRegistryBuilder::NameHash::operator()(std::string_view name) const {
  return std::hash<std::string_view>{}(name);
}

std::string_view OuiRegistryBuilder::name(std::uint32_t org) const {
  return std::string_view(pool_).substr(org_offsets_[org],
                                        org_offsets_[org + 1] - org_offsets_[org]);
}

std::uint32_t OuiRegistryBuilder::intern(std::string_view organization) {
  if (auto it = names_.find(organization); it != names_.end()) return *it;
  auto org = static_cast<std::uint32_t>(org_offsets_.size() - 1);
  pool_.append(organization);
  org_offsets_.push_back(static_cast<std::uint32_t>(pool_.size()));
  names_.insert(org);
  return org;
}

void OuiRegistryBuilder::rollback(std::size_t pending, std::size_t orgs) {
  pending_.resize(pending);
  boost::unordered::erase_if(names_, [orgs](std::uint32_t org) { return org >= orgs; });
  org_offsets_.resize(orgs + 1);
  pool_.resize(org_offsets_.back());
}

Status OuiRegistryBuilder::add(std::uint64_t prefix, int bits, std::string_view registry,
                               std::string_view organization) {
  int code = registryCode(registry);
  int table = tableOf(bits);
  if (code < 0)
    return Status::invalidArgument("registry: unknown \"" + std::string(registry) + "\"");
  if (table < 0 || kRegistries[static_cast<std::size_t>(code)].bits != bits) {
    return Status::invalidArgument("bits: " + std::to_string(bits) + " does not match registry " +
                                   std::string(registry));
  }
  if (names_.size() >= kMaxOrganizations) {
    return Status::invalidArgument("organization: more than 4 Mi distinct names");
  }
  std::uint64_t key = (prefix & addr::Mac::kMask) >> (48 - bits);
  pending_.push_back({key, static_cast<std::uint8_t>(table), static_cast<std::uint8_t>(code), 0});
  cleanName(organization, scratch_);
  pending_.back().org = intern(scratch_);
  return Status::ok();
}

Status OuiRegistryBuilder::addCsv(std::string_view source, std::string_view text) {
  const std::size_t pending_before = pending_.size();
  const std::size_t orgs_before = names_.size();
  CsvReader reader(source, text);
  std::vector<std::string> fields;
  pending_.reserve(pending_.size() + text.size() / 64);  // rows are ~90 bytes
  Status status = [&]() -> Status {
    auto columns = readHeader(reader, fields);
    if (!columns) return columns.status();
    while (true) {
      auto more = reader.next(fields);
      if (!more) return more.status();
      if (!*more) return Status::ok();
      if (fields.size() != columns->count) {
        return reader.errorAt("expected " + std::to_string(columns->count) + " fields, found " +
                              std::to_string(fields.size()));
      }
      const std::string& registry = fields[columns->registry];
      const std::string& assignment = fields[columns->assignment];
      int code = registryCode(registry);
      if (code < 0) {
        return reader.errorAt("Registry \"" + registry + "\" is not MA-L, MA-M, MA-S or IAB");
      }
      int bits = kRegistries[static_cast<std::size_t>(code)].bits;
      auto key = parseHex(assignment, static_cast<std::size_t>(bits / 4));
      if (!key) {
        return reader.errorAt("Assignment \"" + assignment + "\" is not " +
                              std::to_string(bits / 4) + " hex digits (" + registry + ")");
      }
      Status added = add(*key << (48 - bits), bits, registry, fields[columns->organization]);
      if (!added) return reader.errorAt(added.message());
    }
  }();
  if (!status) rollback(pending_before, orgs_before);
  return status;
}

OuiRegistry OuiRegistryBuilder::build() && {
  OuiRegistry r;
  // Stable: among equal keys the first added stays first, and unique() keeps it.
  std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.table != b.table ? a.table < b.table : a.key < b.key;
  });
  auto last = std::unique(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.table == b.table && a.key == b.key;
  });
  r.duplicates_dropped_ = static_cast<std::size_t>(std::distance(last, pending_.end()));
  pending_.erase(last, pending_.end());
  for (const Pending& p : pending_) {
    r.tables_[p.table].push_back(p.key << kRefBits | std::uint64_t{p.registry} << kOrgBits | p.org);
  }
  for (auto& t : r.tables_) t.shrink_to_fit();
  names_.clear();  // before the pool its hash reads goes away
  r.org_offsets_ = std::move(org_offsets_);
  r.org_offsets_.shrink_to_fit();
  r.pool_ = std::move(pool_);
  r.pool_.shrink_to_fit();
  pending_.clear();
  org_offsets_ = {0};
  pool_.clear();
  return r;
}

// ---------------------------------------------------------------------------------------------
// OuiRegistry

Result<OuiRegistry> OuiRegistry::load(const std::string& dir) {
  struct File {
    const char* name;
    bool required;
  };
  constexpr File kFiles[] = {
      {"oui.csv", true}, {"mam.csv", false}, {"oui36.csv", false}, {"iab.csv", false}};
  OuiRegistryBuilder builder;
  for (const File& f : kFiles) {
    std::string path = dir + "/" + f.name;
    auto text = readFile(path);
    if (!text) {
      if (!f.required && text.status().code() == StatusCode::kNotFound) continue;
      return text.status();
    }
    NL_RETURN_IF_ERROR(builder.addCsv(path, *text));
  }
  return std::move(builder).build();
}

OuiRegistry OuiRegistry::builtinOnly() {
  OuiRegistryBuilder builder;
  for (const auto& v : kVirtualOuis) {
    if (v.organization.empty()) continue;  // locally administered: not an assignment
    Status s = builder.add(std::uint64_t{v.oui} << 24, 24, "MA-L", v.organization);
    if (!s) dieOnBadResultAccess(s);  // the table above is wrong: a programming error
  }
  return std::move(builder).build();
}

std::string_view OuiRegistry::organization(std::uint32_t index) const {
  return std::string_view(pool_).substr(org_offsets_[index],
                                        org_offsets_[index + 1] - org_offsets_[index]);
}

MacVendor OuiRegistry::lookup(addr::Mac mac) const {
  MacVendor v;
  v.multicast = mac.isMulticast();
  v.locally_administered = mac.isLocallyAdministered();
  v.virtual_platform = virtualPlatformOf(mac.oui());
  if (v.locally_administered) return v;
  const std::uint64_t value = mac.value() & ~(std::uint64_t{1} << 40);  // I/G bit cleared
  for (int t = 0; t < kTables; ++t) {
    const auto& table = tables_[t];
    const std::uint64_t key = value >> (48 - kTableBits[static_cast<std::size_t>(t)]);
    auto it = std::lower_bound(table.begin(), table.end(), key << kRefBits);
    if (it == table.end() || (*it >> kRefBits) != key) continue;
    std::uint64_t ref = *it & ((std::uint64_t{1} << kRefBits) - 1);
    v.registry = kRegistries[ref >> kOrgBits].name;
    v.organization = organization(static_cast<std::uint32_t>(ref & (kMaxOrganizations - 1)));
    break;
  }
  return v;
}

std::size_t OuiRegistry::size() const {
  std::size_t n = 0;
  for (const auto& t : tables_) n += t.size();
  return n;
}

std::size_t OuiRegistry::memoryBytes() const {
  std::size_t bytes = pool_.capacity() + org_offsets_.capacity() * sizeof(std::uint32_t);
  for (const auto& t : tables_) bytes += t.capacity() * sizeof(std::uint64_t);
  return bytes;
}

std::vector<OuiAssignment> OuiRegistry::assignments() const {
  std::vector<OuiAssignment> out;
  out.reserve(size());
  for (int t = 0; t < kTables; ++t) {
    const int bits = kTableBits[static_cast<std::size_t>(t)];
    for (std::uint64_t word : tables_[t]) {
      std::uint64_t ref = word & ((std::uint64_t{1} << kRefBits) - 1);
      out.push_back({(word >> kRefBits) << (48 - bits), bits, kRegistries[ref >> kOrgBits].name,
                     organization(static_cast<std::uint32_t>(ref & (kMaxOrganizations - 1)))});
    }
  }
  return out;
}

std::string vendorJson(const MacVendor& v) {
  boost::json::object o;
  o["organization"] = v.organization;
  o["registry"] = v.registry;
  o["virtual"] = v.virtual_platform;
  o["locally_administered"] = v.locally_administered;
  return boost::json::serialize(o);
}

const OuiRegistry& defaultRegistry() {
  static const OuiRegistry registry = [] {
    auto loaded = OuiRegistry::load();
    if (loaded) return std::move(loaded).value();
    std::fprintf(stderr,
                 "netledger: warning: MAC vendors unavailable (%s); only the built-in "
                 "virtual-platform OUIs are known (install the ieee-data package)\n",
                 loaded.status().message().c_str());
    return OuiRegistry::builtinOnly();
  }();
  return registry;
}

}  // namespace netledger::vendor
