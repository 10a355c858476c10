#include "server/portmaps/port_map.h"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

namespace netledger::server {

namespace json = boost::json;

std::string_view protocolName(PortProtocol p) {
  switch (p) {
    case PortProtocol::kTcp:
      return "tcp";
    case PortProtocol::kUdp:
      return "udp";
    case PortProtocol::kSctp:
      return "sctp";
  }
  return "tcp";
}

Result<PortProtocol> parseProtocol(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (PortProtocol p : {PortProtocol::kTcp, PortProtocol::kUdp, PortProtocol::kSctp}) {
    if (lower == protocolName(p)) return p;
  }
  return Status::invalidArgument("protocol: must be tcp, udp or sctp (got \"" +
                                 std::string(text.substr(0, 32)) + "\")");
}

bool collide(const PortMap& a, const PortMap& b) {
  if (a.protocol != b.protocol || a.family != b.family) return false;
  if (!a.host_ports.overlaps(b.host_ports)) return false;
  const bool same_address = a.host_address && b.host_address && *a.host_address == *b.host_address;
  if (same_address) return true;  // on any node: a shared address splits its ports
  return a.node == b.node && (!a.host_address || !b.host_address);
}

const PortMap* firstCollision(const PortMap& candidate, const std::vector<PortMap>& existing) {
  for (const PortMap& m : existing) {
    if (m.id != candidate.id && collide(candidate, m)) return &m;
  }
  return nullptr;
}

std::optional<PortRun> findFreeRun(PortRun range, std::uint32_t count, PortMap candidate,
                                   const std::vector<PortMap>& existing) {
  if (count == 0 || range.size() < count) return std::nullopt;
  std::uint32_t first = range.first;
  while (first + count - 1 <= range.last) {
    candidate.host_ports = {static_cast<std::uint16_t>(first),
                            static_cast<std::uint16_t>(first + count - 1)};
    const PortMap* holder = firstCollision(candidate, existing);
    if (holder == nullptr) return candidate.host_ports;
    first = std::uint32_t{holder->host_ports.last} + 1;  // past the holder's run
  }
  return std::nullopt;
}

std::string describeHostSide(const PortMap& m) {
  std::string ports = std::to_string(m.host_ports.first);
  if (m.host_ports.last != m.host_ports.first) ports += "-" + std::to_string(m.host_ports.last);
  std::string where =
      m.host_address ? m.host_address->toString() + " (" + m.node + ")" : std::string(m.node);
  return std::string(protocolName(m.protocol)) + " " + ports + " on " + where;
}

json::object toJson(const PortMap& m) {
  json::object o;
  o["id"] = m.id;
  o["node"] = m.node;
  if (m.host_address) {
    o["host_address"] = m.host_address->toString();
  } else {
    o["host_address"] = nullptr;
  }
  o["family"] = m.family == addr::IpFamily::kV4 ? "ipv4" : "ipv6";
  o["protocol"] = protocolName(m.protocol);
  o["host_port"] = m.host_ports.first;
  o["host_port_end"] = m.host_ports.last;
  o["binding_id"] = m.binding_id;
  o["port"] = m.port;
  o["instance"] = m.instance;
  if (m.tenant.empty()) {
    o["tenant"] = nullptr;
  } else {
    o["tenant"] = m.tenant;
  }
  o["created_by"] = m.created_by;
  o["created_at"] = m.created_at;
  return o;
}

namespace {

// Reads the stored form back; every field was written by toJson, so a miss is damage.
class StoredReader {
 public:
  explicit StoredReader(const json::object& o) : o_(o) {}
  std::string str(std::string_view k) {
    const json::value* v = o_.if_contains(k);
    if (v != nullptr && v->is_string()) return std::string(v->get_string());
    ok_ = false;
    return {};
  }
  std::uint64_t num(std::string_view k, std::uint64_t max) {
    const json::value* v = o_.if_contains(k);
    if (v != nullptr && v->is_uint64() && v->get_uint64() <= max) return v->get_uint64();
    if (v != nullptr && v->is_int64() && v->get_int64() >= 0 &&
        static_cast<std::uint64_t>(v->get_int64()) <= max) {
      return static_cast<std::uint64_t>(v->get_int64());
    }
    ok_ = false;
    return 0;
  }
  bool ok() const { return ok_; }

 private:
  const json::object& o_;
  bool ok_ = true;
};

Result<json::object> parseObject(std::string_view body, std::string_view what) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Status::internal(std::string(what) + ": stored body is bad");
  return std::move(v.get_object());
}

}  // namespace

Result<PortMap> portMapFromJson(const json::object& o) {
  StoredReader r(o);
  PortMap m;
  m.id = r.str("id");
  m.node = r.str("node");
  if (const json::value* h = o.if_contains("host_address"); h != nullptr && h->is_string()) {
    auto ip = addr::IpAddress::parse(h->get_string());
    if (!ip) return Status::internal("portmap " + m.id + ": bad host_address");
    m.host_address = *ip;
  }
  m.family = r.str("family") == "ipv6" ? addr::IpFamily::kV6 : addr::IpFamily::kV4;
  auto protocol = parseProtocol(r.str("protocol"));
  m.host_ports.first = static_cast<std::uint16_t>(r.num("host_port", 65535));
  m.host_ports.last = static_cast<std::uint16_t>(r.num("host_port_end", 65535));
  m.binding_id = r.num("binding_id", UINT64_MAX);
  m.port = static_cast<std::uint16_t>(r.num("port", 65535));
  m.instance = r.str("instance");
  if (const json::value* t = o.if_contains("tenant"); t != nullptr && t->is_string()) {
    m.tenant = std::string(t->get_string());
  }
  m.created_by = r.str("created_by");
  m.created_at = r.str("created_at");
  if (!r.ok() || !protocol || m.host_ports.first == 0 || m.host_ports.last < m.host_ports.first) {
    return Status::internal("portmap " + m.id + ": stored body is bad");
  }
  m.protocol = *protocol;
  return m;
}

Result<PortMap> portMapFromDocument(std::string_view body) {
  auto o = parseObject(body, "portmap");
  if (!o) return o.status();
  return portMapFromJson(*o);
}

std::optional<PortRun> parsePortRun(std::string_view text) {
  auto number = [](std::string_view t) -> std::optional<std::uint16_t> {
    std::uint32_t v = 0;
    if (t.empty() || t.size() > 5) return std::nullopt;
    for (char c : t) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v < 1 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  };
  const auto dash = text.find('-');
  auto first = number(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : number(text.substr(dash + 1));
  if (!first || !last || *last < *first) return std::nullopt;
  return PortRun{*first, *last};
}

std::string portRunText(PortRun r) {
  std::string t = std::to_string(r.first);
  if (r.last != r.first) t += "-" + std::to_string(r.last);
  return t;
}

std::vector<PortMap> reservedHolders(const PortMap& candidate,
                                     const std::vector<PortRun>& reserved) {
  std::vector<PortMap> out;
  for (const PortRun& r : reserved) {
    PortMap holder = candidate;  // same node, protocol and family; every address of the node
    holder.id = kReservedHolder;
    holder.host_address.reset();
    holder.host_ports = r;
    holder.binding_id = 0;
    holder.instance = "reserved by the node's range";
    out.push_back(std::move(holder));
  }
  return out;
}

json::object toJson(const NodePortRange& r) {
  json::array reserved;
  for (const PortRun& p : r.reserved) reserved.emplace_back(portRunText(p));
  return json::object{{"node", r.node},
                      {"first", r.range.first},
                      {"last", r.range.last},
                      {"reserved", std::move(reserved)}};
}

Result<NodePortRange> portRangeFromDocument(std::string_view body) {
  auto o = parseObject(body, "portrange");
  if (!o) return o.status();
  StoredReader r(*o);
  NodePortRange out;
  out.node = r.str("node");
  out.range.first = static_cast<std::uint16_t>(r.num("first", 65535));
  out.range.last = static_cast<std::uint16_t>(r.num("last", 65535));
  if (const json::value* list = o->if_contains("reserved"); list != nullptr && list->is_array()) {
    for (const json::value& v : list->get_array()) {
      auto run = v.is_string() ? parsePortRun(v.get_string()) : std::nullopt;
      if (!run) return Status::internal("portrange " + out.node + ": stored body is bad");
      out.reserved.push_back(*run);
    }
  }
  if (!r.ok() || out.range.first == 0 || out.range.last < out.range.first) {
    return Status::internal("portrange " + out.node + ": stored body is bad");
  }
  return out;
}

}  // namespace netledger::server
