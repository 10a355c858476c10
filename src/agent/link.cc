#include "agent/link.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace netledger::agent {

namespace fs = std::filesystem;

namespace {
fs::path sysNet(const std::string& name) { return fs::path("/sys/class/net") / name; }
}  // namespace

bool interfaceExists(const std::string& name) {
  std::error_code ec;
  return !name.empty() && name.find('/') == std::string::npos && fs::exists(sysNet(name), ec);
}

Result<addr::Mac> interfaceMac(const std::string& name) {
  if (!interfaceExists(name)) return Status::notFound("interface " + name + " does not exist");
  std::ifstream in(sysNet(name) / "address");
  std::string text;
  std::getline(in, text);
  auto mac = addr::Mac::parse(text);
  if (!mac) return Status::invalidArgument("interface " + name + " has no Ethernet address");
  return *mac;
}

bool isBridge(const std::string& name) {
  std::error_code ec;
  return interfaceExists(name) && fs::is_directory(sysNet(name) / "bridge", ec);
}

std::vector<std::string> bridgePorts(const std::string& bridge) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!isBridge(bridge)) return out;
  for (const auto& entry : fs::directory_iterator(sysNet(bridge) / "brif", ec)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace netledger::agent
