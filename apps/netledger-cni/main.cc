// netledger-cni: the CNI plugin (IPAM and chained). The runtime passes CNI_* variables and the
// network configuration on stdin; the result or error JSON goes to stdout (CNI spec 1.0.0).
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "cni/plugin.h"
#include "cni/sandbox_mac.h"

int main() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto hostname = [] {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof(name) - 1) != 0) return std::string("localhost");
    return std::string(name);
  };
  auto out = netledger::cni::run([](const char* n) { return std::getenv(n); }, input, hostname,
                                 netledger::cni::sandboxInterfaceMac);
  std::cout << out.stdout_text << std::flush;
  return out.exit_code;
}
