// Error values and Expected<T>: how everything below main reports failure.
//
// Inside the library functions return Expected<T> (a value or an Error); exceptions are caught at
// the layer boundaries (the Scraper around each collector, the HTTP handlers, main) only. C++23's
// std::expected would do, but g++ 12 in C++20 mode does not have it.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace thinpool {

// What went wrong, for callers that branch on it; the message says the rest (leveldb's
// Status::IsNotFound() and friends, rather than errno checks at every call site).
enum class ErrorKind {
  kFailed,       // anything not below
  kGone,         // the device or file is not (or no longer) there
  kPermission,   // the process lacks a privilege or the right to open something
  kParse,        // text or data that is not what it should be (a malformed line, a bad checksum)
  kIo,           // a read, write or ioctl failed
  kUnavailable,  // the facility itself is missing: no device-mapper in the kernel, no control node
};

// An error with context ("dm status vg0-pool: No such device") and its kind.
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kFailed;

  // The kind an errno stands for: ENOENT, ENXIO, ENODEV -> kGone; EACCES, EPERM -> kPermission;
  // EIO and the other errors of a failing device -> kIo; anything else kFailed.
  static Error from_errno(int errno_value, std::string message);
  // A parse error: the message quotes the input.
  static Error parse(std::string message) { return Error{std::move(message), ErrorKind::kParse}; }

  bool is(ErrorKind wanted) const { return kind == wanted; }
};

template <typename T>
class Expected {
 public:
  using value_type = T;  // as std::expected

  Expected(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Expected<void>: success or an Error.
class Status {
 public:
  Status() = default;
  Status(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace thinpool
