#pragma once
/// The one error type of symgraph: everything a user can get wrong (a type
/// mismatch, a malformed document, a wrong argument at call time) throws it,
/// with a message that names the op, the operands and what to change.
#include <stdexcept>
#include <string>

namespace symgraph {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace symgraph
