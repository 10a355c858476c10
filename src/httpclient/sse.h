#pragma once
// An incremental parser for text/event-stream (the HTML Living Standard's server-sent events):
// the agent and `netledger events` read the server's /v1/events stream through it. Bytes go in as
// they arrive, in pieces of any size; complete events come out.
//
// Only what the server sends is interpreted: `id`, `event`, `data` (several data lines are
// joined with "\n"), comments (": keep-alive") and blank-line dispatch; `retry` and unknown
// fields are ignored, as the standard says. A line longer than `max_line` bytes is a protocol
// error: the parser stops (ok() turns false) instead of buffering without bound.
//
// Not thread-safe; never throws on input.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace netledger::httpclient {

struct SseEvent {
  std::string id;     // the last `id:` seen (it persists across events, as specified)
  std::string event;  // "message" when the event named none
  std::string data;
};

class SseParser {
 public:
  using Handler = std::function<void(const SseEvent&)>;
  explicit SseParser(Handler handler, std::size_t max_line = 1 << 20)
      : handler_(std::move(handler)), max_line_(max_line) {}

  // Consumes bytes; calls the handler for every event completed by them. Returns ok().
  bool feed(std::string_view bytes);
  bool ok() const { return ok_; }
  // The id of the last dispatched event ("" before the first): what Last-Event-ID resumes from.
  const std::string& lastEventId() const { return last_id_; }

 private:
  void line(std::string_view text);

  Handler handler_;
  std::size_t max_line_;
  bool ok_ = true;
  bool after_cr_ = false;  // a '\r' ended the previous line: a following '\n' belongs to it
  std::string partial_;
  std::string id_, last_id_, event_, data_;
  bool has_data_ = false;
};

}  // namespace netledger::httpclient
