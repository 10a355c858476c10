#pragma once
// `netledger import host-local DIR`: reads a CNI host-local store without a server, so the
// parsing is testable on its own (the requests are import_commands.cc's).
//
// host-local keeps one directory per network (/var/lib/cni/networks/NET) with one file per
// allocated address, named by the address, holding "CONTAINERID\r\nIFNAME" (before CNI
// plugins 0.8: the container id alone, the interface then being eth0), plus bookkeeping files
// that are not allocations: `last_reserved_ip.N` (one per range set) and `lock`.

#include <string>
#include <vector>

#include "addr/ip_address.h"
#include "common/status.h"

namespace netledger::cli {

// One allocation of the store: `address` held by (container id, interface).
struct HostLocalEntry {
  std::string file;  // the file name, as found
  addr::IpAddress address;
  std::string instance;   // the container id
  std::string interface;  // the ifname, eth0 when the file has none
};

// A file that is neither an allocation nor bookkeeping (a stray name, binary content, ...).
struct HostLocalProblem {
  std::string file;
  std::string reason;
};

struct HostLocalStore {
  std::vector<HostLocalEntry> entries;  // in file-name order
  std::vector<HostLocalProblem> problems;
};

// Reads every file of `dir`. A bad file is a problem, never fatal; invalid_argument only when
// `dir` is not a readable directory.
Result<HostLocalStore> readHostLocalStore(const std::string& dir);

// One file's content as host-local writes it. invalid_argument naming what is wrong.
Status parseHostLocalContent(std::string_view content, HostLocalEntry& entry);

}  // namespace netledger::cli
