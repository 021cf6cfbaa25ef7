// Status and Result<T>: errors as values at every module edge.
//
// A Status is either OK or carries a Kind and a message written for the user:
// what went wrong and what to do about it. errno, NVML return codes and
// libtorch exceptions are translated into a Status once, at the boundary where
// they arise, so code above never inspects raw error numbers.
//
// Thread-safety: plain values; copy freely across threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace wattlab {

class Status {
 public:
  enum class Kind {
    kOk = 0,
    kNotFound,
    kPermissionDenied,
    kNotSupported,
    kInvalidArgument,
    kCorruption,
    kIOError,
    kFailedPrecondition,
    kInterrupted,
    kInternal,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Kind::kNotFound, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Kind::kPermissionDenied, std::move(m)); }
  static Status NotSupported(std::string m) { return Status(Kind::kNotSupported, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Kind::kInvalidArgument, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Kind::kCorruption, std::move(m)); }
  static Status IOError(std::string m) { return Status(Kind::kIOError, std::move(m)); }
  static Status FailedPrecondition(std::string m) { return Status(Kind::kFailedPrecondition, std::move(m)); }
  static Status Interrupted(std::string m) { return Status(Kind::kInterrupted, std::move(m)); }
  static Status Internal(std::string m) { return Status(Kind::kInternal, std::move(m)); }

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // "PermissionDenied: energy_uj is root-only ..." — for logs and the CLI.
  std::string ToString() const {
    if (ok()) return "OK";
    return std::string(KindName(kind_)) + ": " + message_;
  }

  // Adds context in front of the message, keeping the kind.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(kind_, context + ": " + message_);
  }

  static const char* KindName(Kind k) {
    switch (k) {
      case Kind::kOk:
        return "OK";
      case Kind::kNotFound:
        return "NotFound";
      case Kind::kPermissionDenied:
        return "PermissionDenied";
      case Kind::kNotSupported:
        return "NotSupported";
      case Kind::kInvalidArgument:
        return "InvalidArgument";
      case Kind::kCorruption:
        return "Corruption";
      case Kind::kIOError:
        return "IOError";
      case Kind::kFailedPrecondition:
        return "FailedPrecondition";
      case Kind::kInterrupted:
        return "Interrupted";
      case Kind::kInternal:
        return "Internal";
    }
    return "Unknown";
  }

 private:
  Status(Kind k, std::string m) : kind_(k), message_(std::move(m)) {}
  Kind kind_ = Kind::kOk;
  std::string message_;
};

// Result<T>: a T or a non-OK Status.
// REQUIRES: a Result is never built from an OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(implicit)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace wattlab

#define WATTLAB_CONCAT_INNER(a, b) a##b
#define WATTLAB_CONCAT(a, b) WATTLAB_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define WATTLAB_RETURN_IF_ERROR(expr) \
  do {                                \
    ::wattlab::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

// WATTLAB_ASSIGN_OR_RETURN(auto x, MaybeX());
#define WATTLAB_ASSIGN_OR_RETURN(lhs, expr)                                                   \
  auto WATTLAB_CONCAT(_res_, __LINE__) = (expr);                                              \
  if (!WATTLAB_CONCAT(_res_, __LINE__).ok()) return WATTLAB_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(WATTLAB_CONCAT(_res_, __LINE__)).value()
