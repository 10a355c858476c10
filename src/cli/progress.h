#pragma once
// A one-line progress bar for long CLI operations (`import ippool`), redrawn in place with '\r'.
// It draws only when told to (stderr is a terminal and the job is long), so pipes and logs
// never see control characters.

#include <cstddef>
#include <ostream>
#include <string_view>

namespace netledger::cli {

// Whether `err` is the process's stderr and that is a terminal.
bool isTerminal(const std::ostream& err);

class ProgressBar {
 public:
  ProgressBar(std::ostream& err, std::size_t total, bool enabled);
  ~ProgressBar();

  // Shows `done` of `total`, with `label` (e.g. the item being worked on).
  void update(std::size_t done, std::string_view label);
  // Clears the bar so that following messages start on a clean line. Idempotent.
  void clear();

 private:
  std::ostream& err_;
  std::size_t total_;
  bool enabled_;
  std::size_t drawn_width_ = 0;
};

}  // namespace netledger::cli
