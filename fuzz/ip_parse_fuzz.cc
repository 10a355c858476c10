// Fuzzes every IP text parser: never a crash, and whatever parses must print canonically and
// parse back to the same value (format is a fixed point).
#include <cstdint>
#include <string_view>

#include "addr/ip_range.h"
#include "addr/prefix.h"
#include "fuzz_check.h"

using namespace netledger::addr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto v4 = Ipv4::parse(text)) {
    FUZZ_CHECK(v4->toString() == text);  // strict: the only accepted form is the canonical one
  } else {
    FUZZ_CHECK(!v4.status().message().empty());
  }
  if (auto v6 = Ipv6::parse(text)) {
    auto again = Ipv6::parse(v6->toString());
    FUZZ_CHECK(again && *again == *v6);
    FUZZ_CHECK(again->toString() == v6->toString());
  }
  if (auto a = IpAddress::parse(text)) {
    FUZZ_CHECK(IpAddress::parse(a->toString()).value() == *a);
  }
  if (auto p = Prefix::parse(text)) {
    FUZZ_CHECK(Prefix::parse(p->toString()).value() == *p);
    FUZZ_CHECK(p->contains(p->first()) && p->contains(p->last()));
  }
  if (auto p = Prefix::parseLoose(text)) {
    FUZZ_CHECK(p->first() <= p->last());
    auto pieces = p->split(std::min(p->length() + 3, p->network().width()));
    if (pieces) {
      for (const auto& piece : *pieces) FUZZ_CHECK(p->contains(piece));
    }
  }
  if (auto r = IpRange::parse(text)) {
    FUZZ_CHECK(r->first() <= r->last());
    auto prefixes = summarizeRange(r->first(), r->last());
    FUZZ_CHECK(prefixes.isOk());
    FUZZ_CHECK(prefixes->front().first() == r->first() && prefixes->back().last() == r->last());
    FUZZ_CHECK(prefixes->size() <= 2u * static_cast<unsigned>(r->first().width()));
  }
  return 0;
}
