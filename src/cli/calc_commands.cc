#include "cli/calc_commands.h"

#include <boost/json.hpp>

#include "addr/ip_range.h"
#include "addr/mac.h"
#include "addr/prefix.h"
#include "cli/cli.h"
#include "vendor/oui_registry.h"

namespace netledger::cli {

namespace json = boost::json;
using addr::IpAddress;
using addr::Mac;
using addr::Prefix;

namespace {

// Turns a computation that may fail into an action: prints the result, or the error on
// stderr with exit code 2 (every failure here is bad input).
CommandAction reportOrFail(const OutputFormat& format,
                           std::function<Result<json::value>()> compute) {
  return [&format, compute = std::move(compute)](std::ostream& out, std::ostream& err) {
    auto result = compute();
    if (!result) {
      err << "netledger: " << result.status().message() << '\n';
      return kExitUsage;
    }
    printResult(out, format, *result);
    return kExitOk;
  };
}

json::array prefixList(const std::vector<Prefix>& prefixes) {
  json::array a;
  for (const auto& p : prefixes) a.emplace_back(p.toString());
  return a;
}

Result<json::value> describePrefix(const std::string& text) {
  auto p = Prefix::parseLoose(text);
  if (!p) return p.status();
  json::object o;
  auto address = IpAddress::parse(text.substr(0, text.find('/')));
  if (address && *address != p->network()) o["address"] = address->toString();
  o["network"] = p->network().toString();
  o["prefix_length"] = p->length();
  o["family"] = std::string(addr::familyName(p->family()));
  if (p->family() == addr::IpFamily::kV4) {
    o["netmask"] = p->netmask().toString();
    o["broadcast"] = p->last().toString();
  } else {
    o["last"] = p->last().toString();
  }
  o["first_usable"] = p->firstUsable().toString();
  o["last_usable"] = p->lastUsable().toString();
  o["size"] = p->size().toString();
  o["usable"] = p->usableCount().toString();
  return json::value(std::move(o));
}

Result<json::value> describeMac(const std::string& text) {
  auto m = Mac::parse(text);
  if (!m) return m.status();
  json::object o;
  o["mac"] = m->toString();
  o["oui"] = m->ouiString();
  o["cast"] = m->isMulticast() ? (m->isBroadcast() ? "broadcast" : "multicast") : "unicast";
  o["administration"] = m->isLocallyAdministered() ? "local" : "universal";
  o["eui64_interface_id"] = m->modifiedEui64String();
  auto link_local = addr::slaacAddress(Prefix::parse("fe80::/64").value(), *m);
  o["ipv6_link_local"] = link_local->toString();
  // From Debian's ieee-data (built-in hypervisor OUIs only when it is missing); null when the
  // registry has nothing to say, so the table shows "-".
  vendor::MacVendor v = vendor::defaultRegistry().lookup(*m);
  auto orNull = [](std::string_view s) { return s.empty() ? json::value() : json::value(s); };
  o["vendor"] = orNull(v.organization);
  o["registry"] = orNull(v.registry);
  o["virtual_platform"] = orNull(v.virtual_platform);
  o["locally_administered"] = v.locally_administered;
  return json::value(std::move(o));
}

Result<json::value> eui64(const std::string& mac_text, const std::string& prefix_text) {
  auto m = Mac::parse(mac_text);
  if (!m) return m.status();
  auto p = Prefix::parse(prefix_text);
  if (!p) return p.status().withContext("--prefix");
  auto a = addr::slaacAddress(*p, *m);
  if (!a) return a.status();
  json::object o;
  o["address"] = a->toString();
  o["interface_id"] = m->modifiedEui64String();
  return json::value(std::move(o));
}

Result<json::value> overlap(const std::string& a_text, const std::string& b_text) {
  auto a = Prefix::parse(a_text);
  if (!a) return a.status();
  auto b = Prefix::parse(b_text);
  if (!b) return b.status();
  std::string relation = "disjoint";
  if (*a == *b) {
    relation = "equal";
  } else if (a->contains(*b)) {
    relation = a->toString() + " contains " + b->toString();
  } else if (b->contains(*a)) {
    relation = b->toString() + " contains " + a->toString();
  }
  json::object o;
  o["overlap"] = a->overlaps(*b);
  o["relation"] = relation;
  return json::value(std::move(o));
}

Result<json::value> split(const std::string& text, int into) {
  auto p = Prefix::parse(text);
  if (!p) return p.status();
  auto parts = p->split(into);
  if (!parts) return parts.status();
  return json::value(prefixList(*parts));
}

Result<json::value> summarize(const std::string& first_text, const std::string& last_text) {
  auto first = IpAddress::parse(first_text);
  if (!first) return first.status();
  auto last = IpAddress::parse(last_text);
  if (!last) return last.status();
  auto prefixes = addr::summarizeRange(*first, *last);
  if (!prefixes) return prefixes.status();
  return json::value(prefixList(*prefixes));
}

}  // namespace

void addCalcCommands(CLI::App& app, const OutputFormat& format, CommandAction& action) {
  auto* calc = app.add_subcommand("calc", "Offline address arithmetic (no server needed)");
  calc->require_subcommand(1);

  // The strings live as long as the App, which outlives the actions run from it.
  auto args = std::make_shared<std::array<std::string, 2>>();
  auto into = std::make_shared<int>(0);

  auto* prefix = calc->add_subcommand("prefix", "Network, broadcast, netmask and usable range");
  prefix->add_option("prefix", (*args)[0], "e.g. 198.51.100.0/24 or 2001:db8::/48")->required();
  prefix->callback(
      [&, args] { action = reportOrFail(format, [args] { return describePrefix((*args)[0]); }); });

  auto* mac = calc->add_subcommand("mac", "Canonical form, vendor, flags and EUI-64 of a MAC");
  mac->add_option("mac", (*args)[0], "aa:bb:cc:dd:ee:ff, aa-bb-.., aabb.ccdd.eeff, aabbccddeeff")
      ->required();
  mac->callback(
      [&, args] { action = reportOrFail(format, [args] { return describeMac((*args)[0]); }); });

  auto* e64 = calc->add_subcommand("eui64", "SLAAC address of a MAC in an IPv6 /64");
  e64->add_option("mac", (*args)[0], "the MAC")->required();
  e64->add_option("--prefix", (*args)[1], "the /64, e.g. 2001:db8::/64")->required();
  e64->callback([&, args] {
    action = reportOrFail(format, [args] { return eui64((*args)[0], (*args)[1]); });
  });

  auto* ov = calc->add_subcommand("overlap", "Whether two prefixes overlap");
  ov->add_option("a", (*args)[0], "first prefix")->required();
  ov->add_option("b", (*args)[1], "second prefix")->required();
  ov->callback([&, args] {
    action = reportOrFail(format, [args] { return overlap((*args)[0], (*args)[1]); });
  });

  auto* sp = calc->add_subcommand("split", "Split a prefix into sub-prefixes");
  sp->add_option("prefix", (*args)[0], "the prefix to split")->required();
  sp->add_option("--into", *into, "new prefix length")->required();
  sp->callback([&, args, into] {
    action = reportOrFail(format, [args, into] { return split((*args)[0], *into); });
  });

  auto* sum = calc->add_subcommand("summarize", "Smallest list of CIDRs covering a range");
  sum->add_option("first", (*args)[0], "first address")->required();
  sum->add_option("last", (*args)[1], "last address")->required();
  sum->callback([&, args] {
    action = reportOrFail(format, [args] { return summarize((*args)[0], (*args)[1]); });
  });
}

}  // namespace netledger::cli
