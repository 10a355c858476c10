#include "httpclient/sse.h"

#include <random>

#include <gtest/gtest.h>

namespace netledger::httpclient {
namespace {

std::vector<SseEvent> parseAll(std::string_view text, std::size_t piece = 0) {
  std::vector<SseEvent> out;
  SseParser p([&](const SseEvent& e) { out.push_back(e); });
  if (piece == 0) {
    p.feed(text);
  } else {
    for (std::size_t i = 0; i < text.size(); i += piece) p.feed(text.substr(i, piece));
  }
  return out;
}

const char* kStream =
    "retry: 2000\n\n"
    ": keep-alive\n\n"
    "id: 7\nevent: binding.allocate\ndata: {\"a\":1}\n\n"
    "id: 8\r\nevent: scan.requested\r\ndata: line1\r\ndata:line2\r\n\r\n"
    "data: no id or name\n\n";

TEST(SseParserTest, ParsesEventsCommentsAndLineEndings) {
  auto events = parseAll(kStream);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].event, "binding.allocate");
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].id, "8");
  EXPECT_EQ(events[1].event, "scan.requested");
  EXPECT_EQ(events[1].data, "line1\nline2");
  // The id persists; the name resets to "message".
  EXPECT_EQ(events[2].id, "8");
  EXPECT_EQ(events[2].event, "message");
}

TEST(SseParserTest, AnySplitOfTheBytesGivesTheSameEvents) {
  auto whole = parseAll(kStream);
  std::string text = kStream;
  for (std::size_t piece = 1; piece <= text.size(); ++piece) {
    auto split = parseAll(text, piece);
    ASSERT_EQ(split.size(), whole.size()) << "piece " << piece;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(split[i].id, whole[i].id);
      EXPECT_EQ(split[i].event, whole[i].event);
      EXPECT_EQ(split[i].data, whole[i].data);
    }
  }
}

TEST(SseParserTest, IncompleteEventIsNotDispatched) {
  auto events = parseAll("id: 1\nevent: x\ndata: partial");
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, OverlongLineStopsTheParser) {
  std::vector<SseEvent> out;
  SseParser p([&](const SseEvent& e) { out.push_back(e); }, 64);
  EXPECT_FALSE(p.feed("data: " + std::string(100, 'x') + "\n\n"));
  EXPECT_FALSE(p.ok());
  EXPECT_TRUE(out.empty());
}

TEST(SseParserTest, LastEventIdFollowsDispatchedEvents) {
  SseParser p([](const SseEvent&) {});
  p.feed("id: 41\ndata: x\n\nid: 42\n");
  EXPECT_EQ(p.lastEventId(), "41");  // 42 has not been dispatched yet
  p.feed("data: y\n\n");
  EXPECT_EQ(p.lastEventId(), "42");
}

TEST(SseParserTest, RandomBytesNeverCrash) {
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    std::string junk(static_cast<std::size_t>(rng() % 512), '\0');
    for (auto& c : junk) c = static_cast<char>("id:data\nevent \r:x"[rng() % 17]);
    std::size_t n = 0;
    SseParser p([&](const SseEvent&) { ++n; }, 128);
    p.feed(junk);
    EXPECT_LE(n, junk.size());
  }
}

}  // namespace
}  // namespace netledger::httpclient
