// Fuzzes what the webhook API accepts from users: URLs and event filters. Never a crash; an
// accepted URL yields a connectable target; an accepted filter matches what it promises.
// Input: "<url>\n<filter>\n<event type>".
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "webhooks/dispatcher.h"
#include "webhooks/http_post.h"

using namespace netledger::webhooks;

namespace {

std::string_view nextLine(std::string_view& rest) {
  auto end = rest.find('\n');
  std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return line;
}

void checkUrl(std::string_view url) {
  auto target = parsePostUrl(url);
  FUZZ_CHECK(validateUrl(url).isOk() == target.isOk());
  if (!target) {
    FUZZ_CHECK(target.status().message().find("url") != std::string::npos);
    return;
  }
  FUZZ_CHECK(!target->host.empty());
  FUZZ_CHECK(!target->target.empty() && target->target.front() == '/');
  FUZZ_CHECK(target->hostHeader.find(target->host) != std::string::npos);
  unsigned long port = std::stoul(target->port);
  FUZZ_CHECK(port >= 1 && port <= 65535);
  // Nothing that would split the request line or a header gets through.
  for (const std::string* s : {&target->host, &target->target, &target->hostHeader}) {
    FUZZ_CHECK(s->find_first_of("\r\n ") == std::string::npos);
  }
}

void checkFilter(std::string_view filter, std::string_view type) {
  bool matches = eventMatches(filter, type);
  if (!validateFilter(filter).isOk()) return;
  if (filter == "*") {
    FUZZ_CHECK(matches);
  } else if (filter.ends_with(".*")) {
    std::string prefix(filter.substr(0, filter.size() - 1));
    FUZZ_CHECK(eventMatches(filter, prefix + "x"));
    FUZZ_CHECK(!eventMatches(filter, prefix));
    FUZZ_CHECK(matches == (type.size() > prefix.size() && type.starts_with(prefix)));
  } else {
    FUZZ_CHECK(eventMatches(filter, filter));
    FUZZ_CHECK(matches == (type == filter));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view url = nextLine(rest);
  std::string_view filter = nextLine(rest);
  std::string_view type = nextLine(rest);
  checkUrl(url);
  checkFilter(filter, type);
  std::string signature = signatureHeader(filter, url);
  FUZZ_CHECK(signature.size() == 7 + 64 && signature.starts_with("sha256="));
  return 0;
}
