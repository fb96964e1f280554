#pragma once
/// The error for input beyond a configured cap: LoadLimits (graph/json.hpp)
/// when reading JSON documents and values, ParseLimits (graph/parse.hpp)
/// when parsing expressions. Both exist so that a program can read untrusted
/// input in bounded memory and time; their defaults accept everything the
/// library is documented to handle (1,000,000-node graphs).
#include <cstddef>
#include <string>

#include "symgraph/core/error.hpp"

namespace symgraph {

/// Input larger than a cap allows. The message says what was too large and
/// which cap refused it:
///
///   nodes[2]: more than 2 nodes (LoadLimits::max_nodes is 2; raise it to accept larger input)
///
/// limit() and problem() let a program name its own way to raise the cap
/// instead (the symgraph command names its option, --max-nodes).
class LimitError : public Error {
 public:
  LimitError(std::string problem, std::string limit, std::size_t value)
      : Error(problem + " (" + limit + " is " + std::to_string(value) + "; raise it to accept larger input)"),
        problem_(std::move(problem)),
        limit_(std::move(limit)),
        value_(value) {}

  /// What was too large, and where: "nodes[2]: more than 2 nodes".
  const std::string& problem() const { return problem_; }
  /// The cap, as its C++ name: "LoadLimits::max_nodes".
  const std::string& limit() const { return limit_; }
  /// The cap's value.
  std::size_t value() const { return value_; }

 private:
  std::string problem_, limit_;
  std::size_t value_;
};

}  // namespace symgraph
