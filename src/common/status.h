#pragma once
// Status and Result<T>: how every module reports failure. No exception crosses a module
// boundary; parsers never throw on user input. Codes map 1:1 to the REST API's stable
// `code` strings (see codeName), so a handler never has to translate.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace netledger {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input: names the field and the value
  kNotFound,
  kConflict,  // in use, duplicate, overlapping, version mismatch
  kPoolExhausted,
  kUnauthorized,
  kForbidden,
  kPayloadTooLarge,
  kUnavailable,  // retryable: store or peer away
  kAborted,      // retryable at once: another writer of a shared store got there first
  kInternal,
};

// The API's stable code string for a status code ("invalid_argument", "pool_exhausted", ...).
std::string_view codeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status poolExhausted(std::string m) { return {StatusCode::kPoolExhausted, std::move(m)}; }
  static Status unauthorized(std::string m) { return {StatusCode::kUnauthorized, std::move(m)}; }
  static Status forbidden(std::string m) { return {StatusCode::kForbidden, std::move(m)}; }
  static Status payloadTooLarge(std::string m) {
    return {StatusCode::kPayloadTooLarge, std::move(m)};
  }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: <message>", or "ok".
  std::string toString() const;

  // Prefixes the message with context ("cidr: ..."), keeping the code.
  Status withContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Aborts with the status text: accessing the value of an error Result is a programming bug, and
// continuing with garbage would be worse than stopping (an allocator must never guess).
[[noreturn]] void dieOnBadResultAccess(const Status& status);

// A value or the Status saying why there is none. Accessing value() of an error aborts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // An OK status carries no value, so it becomes an internal error (in every build: a caller
  // that forgot its value must fail loudly, not hand on an empty Result that claims success).
  Result(Status status)  // NOLINT: implicit by design
      : status_(status.isOk() ? Status::internal("a Result was built from an OK status")
                              : std::move(status)) {}

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }

  T& value() & {
    if (!value_) dieOnBadResultAccess(status_);
    return *value_;
  }
  const T& value() const& {
    if (!value_) dieOnBadResultAccess(status_);
    return *value_;
  }
  T&& value() && {
    if (!value_) dieOnBadResultAccess(status_);
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T valueOr(T fallback) const { return value_ ? *value_ : std::move(fallback); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace netledger

// Returns early from the enclosing function when `expr` is an error Status.
#define NL_RETURN_IF_ERROR(expr)               \
  do {                                         \
    ::netledger::Status nl_status_ = (expr);   \
    if (!nl_status_.isOk()) return nl_status_; \
  } while (0)
