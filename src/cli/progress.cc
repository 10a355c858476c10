#include "cli/progress.h"

#include <unistd.h>

#include <iostream>
#include <string>

namespace netledger::cli {

namespace {
constexpr std::size_t kBarWidth = 30;
constexpr std::size_t kLabelWidth = 32;
}  // namespace

bool isTerminal(const std::ostream& err) { return &err == &std::cerr && ::isatty(2) == 1; }

ProgressBar::ProgressBar(std::ostream& err, std::size_t total, bool enabled)
    : err_(err), total_(total), enabled_(enabled && total > 0) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::update(std::size_t done, std::string_view label) {
  if (!enabled_) return;
  if (done > total_) done = total_;
  std::size_t filled = done * kBarWidth / total_;
  std::string line = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] " +
                     std::to_string(done) + "/" + std::to_string(total_) + " " +
                     std::to_string(done * 100 / total_) + "% " +
                     std::string(label.substr(0, kLabelWidth));
  std::size_t width = line.size();
  if (width < drawn_width_) line += std::string(drawn_width_ - width, ' ');
  err_ << '\r' << line << std::flush;
  drawn_width_ = width;
}

void ProgressBar::clear() {
  if (!enabled_ || drawn_width_ == 0) return;
  err_ << '\r' << std::string(drawn_width_, ' ') << '\r' << std::flush;
  drawn_width_ = 0;
}

}  // namespace netledger::cli
