#include "httpclient/sse.h"

namespace netledger::httpclient {

bool SseParser::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (!ok_) return false;
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      line(partial_);
      partial_.clear();
      continue;
    }
    if (partial_.size() >= max_line_) {
      ok_ = false;
      return false;
    }
    partial_.push_back(c);
  }
  return ok_;
}

void SseParser::line(std::string_view text) {
  if (text.empty()) {  // dispatch
    if (has_data_) {
      last_id_ = id_;
      SseEvent e{id_, event_.empty() ? "message" : event_, data_};
      handler_(e);
    }
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (text.front() == ':') return;  // comment (keep-alive)
  std::string_view field = text, value;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    field = text.substr(0, colon);
    value = text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    if (data_.size() + value.size() > max_line_) {
      ok_ = false;
      return;
    }
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
}

}  // namespace netledger::httpclient
