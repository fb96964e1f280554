#pragma once
/// Where a declaration is, for messages about it (RegisterOp, RegisterPass).
/// std::source_location needs a compiler builtin that clang before 15 lacks
/// with GCC's standard library; __builtin_FILE and __builtin_LINE as default
/// arguments give the caller's position on GCC and clang alike, also when
/// SourceLocation::current() is itself a default argument.

namespace symgraph {

struct SourceLocation {
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          unsigned line = __builtin_LINE()) noexcept {
    return SourceLocation{file, line};
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr unsigned line() const noexcept { return line_; }

  const char* file_ = "";
  unsigned line_ = 0;
};

}  // namespace symgraph
