#pragma once
// CniError and CniResult<T>: how the plugin reports failure. The CNI spec (SPEC.md "Error")
// needs a numeric code the runtime acts on (11 = try again later), which Status does not carry,
// so the plugin keeps its own small error type and prints it as the spec's error JSON.

#include <optional>
#include <string>
#include <utility>

#include "common/status.h"

namespace netledger::cni {

// Well-known codes from the CNI spec; 100 and above are ours.
enum CniCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kLedgerRefused = 100,    // the server answered with a 4xx other than a config problem
  kBindingMismatch = 101,  // CHECK: the ledger disagrees with the runtime's result
  kNoBinding = 102,        // chained ADD without a binding from the IPAM step
};

struct CniError {
  int code = kInvalidNetworkConfig;
  std::string msg;
  std::string details;
};

// A value or the CniError saying why there is none (value() of an error aborts, like Result).
template <typename T>
class [[nodiscard]] CniResult {
 public:
  CniResult(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  CniResult(CniError error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const CniError& error() const { return error_; }
  T& value() & {
    if (!value_) dieOnBadResultAccess(Status::internal(error_.msg));
    return *value_;
  }
  const T& value() const& {
    if (!value_) dieOnBadResultAccess(Status::internal(error_.msg));
    return *value_;
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  CniError error_;
};

}  // namespace netledger::cni
