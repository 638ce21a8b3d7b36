// core/check.h: the one family of check macros and the two exception types.
//
//   GPTCU_CHECK(cond, "message ", value, ...)    internal invariant  -> gptcu::Error
//   GPTCU_USER_CHECK(cond, "message ", ...)      bad config/data/path -> gptcu::UserError
//   GPTCU_CUDA_CHECK(expr), GPTCU_CUBLAS_CHECK(expr), GPTCU_NCCL_CHECK(expr): kernels/cuda/cuda_check.h
//   (header-only and free of core/, so that the CUDA kernels below core/ can use it too)
//
// Error messages name the failing expression, file and line. UserError carries only the
// message meant for a person; the CLI prints it on one line and exits non-zero. Nothing in
// the library calls exit().
#pragma once
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gptcu {

// An internal invariant was violated (a bug, or a shape mismatch between ops).
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The user gave us something we cannot use: a bad config, a missing file, bad data.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An allocation failed (host or GPU); the message names the bytes asked for and what was free.
// A std::bad_alloc, so that the CLI's "out of memory" path (exit code 3) catches it.
struct OutOfMemory : std::bad_alloc {
  explicit OutOfMemory(std::string msg) : msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

template <typename... Args>
[[noreturn]] void user_error(const Args&... args) {
  throw UserError(detail::concat(args...));
}

}  // namespace gptcu

#define GPTCU_CHECK(cond, ...)                                                         \
  do {                                                                                 \
    if (!(cond))                                                                       \
      throw ::gptcu::Error(::gptcu::detail::concat("check failed: ", #cond, " at ",    \
                                                   __FILE__, ":", __LINE__, ": ",      \
                                                   ##__VA_ARGS__));                    \
  } while (0)

#define GPTCU_USER_CHECK(cond, ...)                                        \
  do {                                                                     \
    if (!(cond)) throw ::gptcu::UserError(::gptcu::detail::concat(__VA_ARGS__)); \
  } while (0)
