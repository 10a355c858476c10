#include "cli/import_hostlocal.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace netledger::cli {

namespace fs = std::filesystem;

namespace {

// An allocation file holds two short lines; anything bigger is not one.
constexpr std::uintmax_t kMaxFileSize = 4096;
// The API's limits for instance and interface.
constexpr std::size_t kMaxInstance = 253;
constexpr std::size_t kMaxInterface = 64;

bool isBookkeeping(const std::string& name) {
  return name == "lock" || name.rfind("last_reserved_ip", 0) == 0;
}

std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// Printable ASCII only: container ids are hex, ifnames are short names; anything else is a file
// that is not host-local's.
Status checkText(std::string_view what, std::string_view text, std::size_t max) {
  if (text.empty()) return Status::invalidArgument(std::string(what) + " is empty");
  if (text.size() > max) {
    return Status::invalidArgument(std::string(what) + " is longer than " + std::to_string(max) +
                                   " characters");
  }
  for (unsigned char c : text) {
    if (c < 0x21 || c > 0x7e) {
      return Status::invalidArgument(std::string(what) +
                                     " has a character that is not printable ASCII");
    }
  }
  return Status::ok();
}

std::string showName(const std::string& name) {
  std::string shown;
  for (unsigned char c : name.substr(0, 64)) shown += (c < 0x20 || c > 0x7e) ? '?' : char(c);
  return shown;
}

}  // namespace

Status parseHostLocalContent(std::string_view content, HostLocalEntry& entry) {
  std::string_view id = content, ifname;
  if (auto eol = content.find('\n'); eol != std::string_view::npos) {
    id = content.substr(0, eol);
    ifname = content.substr(eol + 1);
    if (trim(ifname).find('\n') != std::string_view::npos) {
      return Status::invalidArgument("content: more than two lines");
    }
  }
  id = trim(id);
  ifname = trim(ifname);
  NL_RETURN_IF_ERROR(checkText("container id", id, kMaxInstance).withContext("content"));
  if (!ifname.empty()) {
    NL_RETURN_IF_ERROR(checkText("interface", ifname, kMaxInterface).withContext("content"));
  }
  entry.instance = std::string(id);
  entry.interface = ifname.empty() ? "eth0" : std::string(ifname);
  return Status::ok();
}

Result<HostLocalStore> readHostLocalStore(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::invalidArgument("\"" + dir + "\" is not a directory");
  }
  std::vector<fs::directory_entry> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    files.push_back(*it);
  }
  if (ec) return Status::invalidArgument("cannot read \"" + dir + "\": " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });

  HostLocalStore store;
  for (const auto& f : files) {
    const std::string name = f.path().filename().string();
    if (isBookkeeping(name)) continue;
    auto problem = [&](std::string reason) {
      store.problems.push_back({showName(name), std::move(reason)});
    };
    if (!f.is_regular_file(ec)) {
      problem("not a regular file");
      continue;
    }
    auto address = addr::IpAddress::parse(name);
    if (!address) {
      problem("the name is not an IP address");
      continue;
    }
    if (f.file_size(ec) > kMaxFileSize || ec) {
      problem(ec ? "cannot read: " + ec.message() : "too large for an allocation file");
      continue;
    }
    std::ifstream in(f.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
      problem("cannot read");
      continue;
    }
    HostLocalEntry entry;
    entry.file = name;
    entry.address = *address;
    if (Status s = parseHostLocalContent(content, entry); !s.isOk()) {
      problem(s.message());
      continue;
    }
    store.entries.push_back(std::move(entry));
  }
  return store;
}

}  // namespace netledger::cli
