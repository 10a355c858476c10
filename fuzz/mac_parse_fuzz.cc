// Fuzzes the MAC and MAC-prefix parsers: never a crash; a parsed MAC prints canonically and
// parses back; the modified EUI-64 round-trips the MAC bits.
#include <cstdint>
#include <string_view>

#include "addr/mac.h"
#include "fuzz_check.h"

using namespace netledger::addr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = Mac::parse(text)) {
    auto again = Mac::parse(m->toString());
    FUZZ_CHECK(again && *again == *m);
    std::uint64_t id = m->modifiedEui64();
    FUZZ_CHECK(((id >> 24) & 0xffff) == 0xfffe);
    std::uint64_t back = (((id >> 40) << 24) | (id & 0xffffff)) ^ (std::uint64_t{0x02} << 40);
    FUZZ_CHECK(back == m->value());
  } else {
    FUZZ_CHECK(!m.status().message().empty());
  }
  if (auto p = MacPrefix::parse(text)) {
    FUZZ_CHECK(p->bits() >= MacPrefix::kMinBits && p->bits() <= MacPrefix::kMaxBits);
    FUZZ_CHECK(p->base().isUnicast());
    auto again = MacPrefix::parse(p->toString());
    FUZZ_CHECK(again && *again == *p);
  }
  return 0;
}
