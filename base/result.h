// Error values and Expected<T>: how everything below main reports failure.
//
// Inside the library functions return Expected<T> (a value or an Error); exceptions are
// caught at the layer boundaries (HTTP handlers, main) only. C++23's std::expected would
// do, but g++ 12 in C++20 mode does not have it.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace thinpool {

// An error with context ("dm status vg0-pool: No such device") and the errno that caused it
// (0 when there was none, e.g. a parse error).
struct Error {
  std::string message;
  int errno_value = 0;
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
