#include "cli/import_ippool.h"

#include <exception>
#include <map>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "addr/ip_address.h"
#include "addr/ip_range.h"
#include "addr/prefix.h"
#include "common/parse.h"

namespace netledger::cli {

namespace json = boost::json;
using addr::IpAddress;
using addr::IpRange;
using addr::Prefix;

namespace {

// One document being converted: how its errors are prefixed.
struct Doc {
  std::size_t index = 0;  // 1-based
  std::string kind;       // "IPPool", "CNI config"
  std::string name;

  Status error(std::string_view field, std::string_view message) const {
    std::string where = "document " + std::to_string(index);
    if (!kind.empty()) {
      where += " (" + kind;
      if (!name.empty()) where += " \"" + name + "\"";
      where += ")";
    }
    if (!field.empty()) where += ": " + std::string(field);
    return Status::invalidArgument(where + ": " + std::string(message));
  }
};

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string indexed(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

// A scalar member of `map`, or nullopt when absent or null.
Result<std::optional<std::string>> optScalar(const Doc& doc, const YAML::Node& map,
                                             std::string_view path, const char* key) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return std::optional<std::string>();
  if (!node.IsScalar()) return doc.error(join(path, key), "must be a string");
  return std::optional<std::string>(node.Scalar());
}

Result<std::string> requiredScalar(const Doc& doc, const YAML::Node& map, std::string_view path,
                                   const char* key) {
  auto v = optScalar(doc, map, path, key);
  if (!v) return v.status();
  if (!*v || (*v)->empty()) return doc.error(join(path, key), "required");
  return **v;
}

Result<std::optional<IpAddress>> optIp(const Doc& doc, const YAML::Node& map, std::string_view path,
                                       const char* key) {
  auto text = optScalar(doc, map, path, key);
  if (!text) return text.status();
  if (!*text) return std::optional<IpAddress>();
  auto ip = IpAddress::parse(**text);
  if (!ip) return doc.error(join(path, key), ip.status().message());
  return std::optional<IpAddress>(*ip);
}

Result<Prefix> requiredPrefix(const Doc& doc, const YAML::Node& map, std::string_view path,
                              const char* key) {
  auto text = requiredScalar(doc, map, path, key);
  if (!text) return text.status();
  auto p = Prefix::parse(*text);
  if (!p) return doc.error(join(path, key), p.status().message());
  return *p;
}

bool isMap(const YAML::Node& n) { return n.IsDefined() && n.IsMap(); }
bool isPresent(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

void applyDefaults(const IppoolImportOptions& options, json::object& body) {
  if (!body.contains("network") && !options.network.empty()) body["network"] = options.network;
  if (!body.contains("tenant") && !options.tenant.empty()) body["tenant"] = options.tenant;
}

// Fields an IPPool may name for itself, overriding the command-line defaults.
Status putPlacement(const Doc& doc, const YAML::Node& spec, std::string_view path,
                    const IppoolImportOptions& options, json::object& body) {
  for (const char* key : {"network", "tenant", "cluster"}) {
    auto v = optScalar(doc, spec, path, key);
    if (!v) return v.status();
    if (*v) body[key] = **v;
  }
  applyDefaults(options, body);
  auto vlan = optScalar(doc, spec, path, "vlan");
  if (!vlan) return vlan.status();
  if (*vlan) {
    auto n = parseInteger("vlan", **vlan, 0, 4094);
    if (!n) return doc.error(join(path, "vlan"), "\"" + **vlan + "\" is not a VLAN id (0 to 4094)");
    body["vlan"] = *n;
  }
  return Status::ok();
}

Result<json::object> fromIpPool(Doc& doc, const YAML::Node& root,
                                const IppoolImportOptions& options) {
  doc.kind = "IPPool";
  const YAML::Node metadata = root["metadata"];
  if (!isMap(metadata)) return doc.error("metadata", "required: a mapping with name");
  auto name = requiredScalar(doc, metadata, "metadata", "name");
  if (!name) return name.status();
  doc.name = *name;
  const YAML::Node spec = root["spec"];
  if (!isMap(spec)) return doc.error("spec", "required: a mapping with subnet");
  if (isPresent(spec["subnet"]) && isPresent(spec["cidr"])) {
    return doc.error("spec.cidr", "give subnet or cidr, not both");
  }
  auto subnet = requiredPrefix(doc, spec, "spec", isPresent(spec["cidr"]) ? "cidr" : "subnet");
  if (!subnet) return subnet.status();

  json::object body;
  body["name"] = *name;
  body["cidr"] = subnet->toString();
  auto gateway = optIp(doc, spec, "spec", "gateway");
  if (!gateway) return gateway.status();
  if (*gateway) body["gateway"] = (*gateway)->toString();

  const YAML::Node reserved = spec["reservedIPs"];
  if (isPresent(reserved)) {
    if (!reserved.IsSequence()) {
      return doc.error("spec.reservedIPs", "must be a list of \"A-B\" ranges or addresses");
    }
    json::array items;
    for (std::size_t i = 0; i < reserved.size(); ++i) {
      std::string field = indexed("spec.reservedIPs", i);
      if (!reserved[i].IsScalar()) return doc.error(field, "must be a string");
      auto r = IpRange::parse(reserved[i].Scalar());
      if (!r) return doc.error(field, r.status().message());
      items.emplace_back(r->toString());
    }
    if (!items.empty()) body["reserved"] = std::move(items);
  }
  NL_RETURN_IF_ERROR(putPlacement(doc, spec, "spec", options, body));
  return body;
}

// One host-local range: {subnet, rangeStart?, rangeEnd?, gateway?}.
struct HostLocalRange {
  Prefix subnet;
  std::optional<IpAddress> start, end;
  IpAddress gateway;
};

Result<HostLocalRange> readRange(const Doc& doc, const YAML::Node& node, const std::string& path) {
  if (!isMap(node)) return doc.error(path, "must be a mapping with subnet");
  auto subnet = requiredPrefix(doc, node, path, "subnet");
  if (!subnet) return subnet.status();
  HostLocalRange r{*subnet, {}, {}, {}};
  auto start = optIp(doc, node, path, "rangeStart");
  if (!start) return start.status();
  auto end = optIp(doc, node, path, "rangeEnd");
  if (!end) return end.status();
  auto gateway = optIp(doc, node, path, "gateway");
  if (!gateway) return gateway.status();
  r.start = *start;
  r.end = *end;
  const std::pair<const char*, std::optional<IpAddress>> given[] = {
      {"rangeStart", *start}, {"rangeEnd", *end}, {"gateway", *gateway}};
  for (const auto& [key, ip] : given) {
    if (ip && !r.subnet.contains(*ip)) {
      return doc.error(join(path, key),
                       ip->toString() + " is outside subnet " + r.subnet.toString());
    }
  }
  if (r.start && r.end && *r.end < *r.start) {
    return doc.error(join(path, "rangeEnd"),
                     r.end->toString() + " is before rangeStart " + r.start->toString());
  }
  // host-local claims .1 as the gateway when none is given; it is never handed out.
  auto first = r.subnet.network().next();
  r.gateway = gateway->value_or(first && r.subnet.contains(*first) ? *first : r.subnet.network());
  return r;
}

// host-local's defaults: from the address after the network address to the last one before
// the IPv4 broadcast (IPv6 has none).
IpRange effectiveRange(const HostLocalRange& r) {
  IpAddress lo = r.subnet.firstUsable();
  if (auto next = r.subnet.network().next(); next && r.subnet.contains(*next)) lo = *next;
  IpAddress hi = r.subnet.lastUsable();
  IpAddress first = r.start.value_or(lo);
  IpAddress last = r.end.value_or(hi);
  if (last < first) last = first;
  return IpRange::make(first, last).valueOr(IpRange(first));
}

Result<json::object> poolFromRangeSet(const Doc& doc, const std::vector<HostLocalRange>& set,
                                      const std::string& path) {
  json::object body;
  json::array cidrs, ranges, reserved;
  bool explicit_ranges = false;
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (set[i].subnet.family() != set[0].subnet.family()) {
      return doc.error(indexed(path, i) + ".subnet", "mixes IPv4 and IPv6 in one range set");
    }
    cidrs.emplace_back(set[i].subnet.toString());
    explicit_ranges |= set[i].start || set[i].end;
    if (i > 0) reserved.emplace_back(set[i].gateway.toString());
  }
  if (cidrs.size() == 1) {
    body["cidr"] = cidrs.front();
  } else {
    body["cidrs"] = std::move(cidrs);
  }
  body["gateway"] = set[0].gateway.toString();
  if (explicit_ranges) {
    for (const auto& r : set) ranges.emplace_back(effectiveRange(r).toString());
    body["ranges"] = std::move(ranges);
  }
  if (!reserved.empty()) body["reserved"] = std::move(reserved);
  return body;
}

// A host-local range set and where it was written.
struct RangeSet {
  std::vector<HostLocalRange> ranges;
  std::string path;
};

// The range sets of one ipam block, legacy range first (as host-local orders them).
Result<std::vector<RangeSet>> rangeSets(const Doc& doc, const YAML::Node& ipam,
                                        const std::string& path) {
  std::vector<RangeSet> sets;
  if (isPresent(ipam["subnet"])) {
    auto r = readRange(doc, ipam, path);
    if (!r) return r.status();
    sets.push_back({{*r}, path});
  }
  const YAML::Node ranges = ipam["ranges"];
  if (isPresent(ranges)) {
    std::string rpath = join(path, "ranges");
    if (!ranges.IsSequence()) return doc.error(rpath, "must be a list of range sets");
    for (std::size_t s = 0; s < ranges.size(); ++s) {
      std::string spath = indexed(rpath, s);
      if (!ranges[s].IsSequence() || ranges[s].size() == 0) {
        return doc.error(spath, "must be a non-empty list of ranges");
      }
      std::vector<HostLocalRange> set;
      for (std::size_t i = 0; i < ranges[s].size(); ++i) {
        auto r = readRange(doc, ranges[s][i], indexed(spath, i));
        if (!r) return r.status();
        set.push_back(*r);
      }
      sets.push_back({std::move(set), spath});
    }
  }
  if (sets.empty()) return doc.error(path, "needs subnet or ranges");
  return sets;
}

Result<std::vector<json::object>> fromCniConfig(Doc& doc, const YAML::Node& root,
                                                const IppoolImportOptions& options) {
  doc.kind = "CNI config";
  auto config_name = optScalar(doc, root, "", "name");
  if (!config_name) return config_name.status();
  doc.name = config_name->value_or("");
  std::string base = options.name.empty() ? doc.name : options.name;
  if (base.empty()) return doc.error("name", "required (or give --name)");

  // The ipam blocks: the config's own, or each plugin's in a conflist.
  std::vector<std::pair<YAML::Node, std::string>> blocks;
  if (isPresent(root["ipam"])) blocks.emplace_back(root["ipam"], "ipam");
  const YAML::Node plugins = root["plugins"];
  if (isPresent(plugins)) {
    if (!plugins.IsSequence()) return doc.error("plugins", "must be a list");
    for (std::size_t i = 0; i < plugins.size(); ++i) {
      if (isMap(plugins[i]) && isPresent(plugins[i]["ipam"])) {
        blocks.emplace_back(plugins[i]["ipam"], indexed("plugins", i) + ".ipam");
      }
    }
  }
  if (blocks.empty()) return doc.error("ipam", "no ipam block found");

  std::vector<json::object> pools;
  for (const auto& [ipam, path] : blocks) {
    if (!isMap(ipam)) return doc.error(path, "must be a mapping");
    auto type = optScalar(doc, ipam, path, "type");
    if (!type) return type.status();
    if (type->value_or("host-local") != "host-local") {
      return doc.error(join(path, "type"), "\"" + **type + "\" is not host-local");
    }
    auto sets = rangeSets(doc, ipam, path);
    if (!sets) return sets.status();
    for (const auto& set : *sets) {
      auto body = poolFromRangeSet(doc, set.ranges, set.path);
      if (!body) return body.status();
      pools.push_back(std::move(body).value());
    }
  }
  for (std::size_t i = 0; i < pools.size(); ++i) {
    json::object named;
    named["name"] = pools.size() == 1 ? base : base + "-" + std::to_string(i);
    for (auto& kv : pools[i]) named[kv.key()] = std::move(kv.value());
    applyDefaults(options, named);
    pools[i] = std::move(named);
  }
  return pools;
}

Result<std::vector<json::object>> fromDocument(Doc& doc, const YAML::Node& root,
                                               const IppoolImportOptions& options) {
  if (!root.IsMap()) return doc.error("", "expected a mapping (an IPPool or a CNI config)");
  auto kind = optScalar(doc, root, "", "kind");
  if (!kind) return kind.status();
  if (*kind) {
    if (**kind != "IPPool") return doc.error("kind", "\"" + **kind + "\" is not IPPool");
    auto pool = fromIpPool(doc, root, options);
    if (!pool) return pool.status();
    return std::vector<json::object>{std::move(pool).value()};
  }
  if (isPresent(root["ipam"]) || isPresent(root["plugins"])) {
    return fromCniConfig(doc, root, options);
  }
  return doc.error("",
                   "neither a Kubernetes IPPool (kind: IPPool) nor a CNI config with an "
                   "ipam block");
}

}  // namespace

Result<std::vector<json::object>> poolRequestsFromYaml(std::string_view yaml,
                                                       const IppoolImportOptions& options) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::invalidArgument("YAML line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::invalidArgument(std::string("YAML: ") + e.what());
  }
  std::vector<json::object> all;
  std::map<std::string, std::size_t> name_to_document;
  try {
    for (std::size_t i = 0; i < documents.size(); ++i) {
      if (!documents[i].IsDefined() || documents[i].IsNull()) continue;  // an empty `---`
      Doc doc{i + 1, "", ""};
      auto pools = fromDocument(doc, documents[i], options);
      if (!pools) return pools.status();
      for (auto& p : *pools) {
        std::string name(p["name"].as_string());
        auto [it, inserted] = name_to_document.emplace(name, doc.index);
        if (!inserted) {
          return doc.error("name", "pool name \"" + name + "\" is also used by document " +
                                       std::to_string(it->second));
        }
        all.push_back(std::move(p));
      }
    }
  } catch (const std::exception& e) {
    // yaml-cpp reports shape surprises by throwing; the caller gets a Status, as everywhere.
    return Status::invalidArgument(std::string("YAML: ") + e.what());
  }
  if (all.empty()) return Status::invalidArgument("no pools found (the file has no documents)");
  return all;
}

}  // namespace netledger::cli
