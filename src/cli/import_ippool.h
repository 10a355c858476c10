#pragma once
// `netledger import ippool FILE.yaml`: turns pool definitions written for other IPAMs into
// POST /v1/pools bodies, without a server, so the conversion is testable on its own.
//
// The file holds one or more YAML documents (separated by `---`; JSON is YAML too, so a CNI
// .conf/.conflist imports as is). Each document is one of:
//
//   * A Kubernetes-style IPPool: `kind: IPPool`, `metadata.name`, `spec.subnet` (or
//     `spec.cidr`, as Calico writes it), optional `spec.gateway`, `spec.reservedIPs` (a list of
//     "A-B" ranges, single addresses or CIDRs), `spec.network`, `spec.tenant`, `spec.cluster`,
//     `spec.vlan`. Other spec fields (blockSize, natOutgoing, ...) are ignored.
//   * A CNI network config (or conflist: every plugin with an `ipam` block) whose ipam is
//     `type: host-local`: the legacy single range (`subnet`, `rangeStart`, `rangeEnd`,
//     `gateway`) and/or `ranges: [[{subnet, rangeStart, rangeEnd, gateway}, ...], ...]`. Each
//     range set becomes one pool (a set of several subnets is one pool with several CIDRs),
//     mirroring host-local: the legacy range comes first, the gateway defaults to the subnet's
//     first address (.1) as host-local claims it, the gateways of a set's further subnets are
//     reserved, and a set with any rangeStart/rangeEnd gets explicit ranges (defaults: .1 to
//     the last address before broadcast). The pool is named after the config's `name` (or
//     --name); when a document yields several pools they are NAME-0, NAME-1, ...
//
// Errors name the document (1-based), its kind and name, and the field path, e.g.
//   document 2 (IPPool "blue"): spec.reservedIPs[1]: ...

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/status.h"

namespace netledger::cli {

struct IppoolImportOptions {
  // Base name for pools from CNI configs, instead of the config's `name`.
  std::string name;
  // Network and tenant for pools whose document does not name one.
  std::string network;
  std::string tenant;
};

// The POST /v1/pools bodies for every pool in `yaml`, in document order. invalid_argument for
// malformed YAML, an unknown document, a missing or malformed field, or two pools with one name.
Result<std::vector<boost::json::object>> poolRequestsFromYaml(
    std::string_view yaml, const IppoolImportOptions& options = {});

}  // namespace netledger::cli
