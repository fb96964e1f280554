#pragma once
/// The optimizer: named passes, pipelines of passes, optimize(), compact().
///
///   std::vector<Expr> out = optimize({y});                      // Pipeline::standard()
///   std::vector<Expr> out = optimize({y}, Pipeline::strict());  // exact rules only
///   RewriteTrace trace;
///   optimize({y}, Pipeline::from_names({"canonicalize", "relu-to-abs"}), &trace);
///
/// Optimized outputs live in the caller's graph store (rewriting only adds
/// nodes; nodes are immutable), so the caller's expressions never change and
/// the results compile together with the caller's input expressions.
/// Differentiate first, then optimize: rewrites keep values (within each
/// rule's contract) but may change the slope at a kink (docs/optimizer.md).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "symgraph/core/source_location.hpp"
#include "symgraph/graph/rewrite.hpp"

namespace symgraph {

/// A named pass: its rules (none for dead-node-removal) and what it does.
struct Pass {
  std::string name;
  std::string summary;
  const std::vector<Rule>* rules;
};

/// Every pass: the built-in ones in the order the standard pipeline runs
/// them (constant-folding, canonicalize, relu-to-abs, cse,
/// dead-node-removal), then registered ones in registration order.
std::vector<Pass> passes();
/// The pass named `name`; throws Error naming the passes there are.
const Pass& pass_named(std::string_view name);

/// Registers a pass of the user's own rules (for instance rules that
/// recognise the hand-written form of an extension op). Its name then works
/// wherever a built-in pass name does: Pipeline::from_names, Pipeline::with,
/// the symgraph command's --passes. With `standard`, Pipeline::standard() and
/// Pipeline::strict() (its exact rules only) run it too, in their rewrite
/// stage after the built-in passes, so optimize() and compile() apply it by
/// default. Throws Error for a name that is taken, empty or contains '+',
/// ',' or a space, or a rule name that a built-in or registered pass already
/// uses, or two rules of one name (the trace names rules, and a stage runs a
/// rule name once). Call it at run time; from a static initialiser, use
/// RegisterPass.
void register_pass(std::string name, std::string summary, std::vector<Rule> rules, bool standard = false);

/// The rules of a pass, built when the pass is registered.
using RuleBuilder = std::function<std::vector<Rule>()>;

/// register_pass at static-initialisation time, next to a RegisterOp. It
/// takes the function that builds the rules, not the rules:
///   std::vector<Rule> softplus_rules() { return {...}; }
///   const symgraph::RegisterPass softplus_pass{"softplus", "...", softplus_rules, true};
/// The registration is deferred until every static initialiser of its
/// program (at the first use of passes or optimize) or extension module (at
/// the end of load_extension) has run, so the order of RegisterOp and
/// RegisterPass in a file does not matter. A failure (a name taken, a rule
/// that does not build) never ends the program: load_extension reports it,
/// and in a program the first use of a registry throws it, naming this
/// declaration's file and line (detail::static_registration).
struct RegisterPass {
  RegisterPass(std::string name, std::string summary, RuleBuilder rules, bool standard = false,
               SourceLocation where = SourceLocation::current());
};

class Pipeline {
 public:
  /// Passes run together to one joint fixed point (one engine run).
  using Stage = std::vector<std::string>;

  /// constant-folding+canonicalize+relu-to-abs+cse, then dead-node-removal:
  /// exact rules and the documented non-exact ones (relu-to-abs, add-zero,
  /// scale-scale, ...; docs/optimizer.md).
  static Pipeline standard();
  /// The standard passes with exact rules only: the optimized graph computes
  /// the same bits as the original on every input.
  static Pipeline strict();
  /// No passes: optimize() returns its outputs.
  static Pipeline none();
  /// One stage per name, in order; "a+b" runs passes a and b together to one
  /// fixed point. Throws Error for an unknown pass, naming the known ones.
  static Pipeline from_names(const std::vector<std::string>& names);

  /// The same stages with exact rules only.
  Pipeline exact_only() const;
  /// The same stages with pass `name` added to the first one (the rewrite
  /// stage of standard() and strict(); a new stage if there is none), after
  /// its passes: Pipeline::standard().with("softplus"). Throws Error for an
  /// unknown pass.
  Pipeline with(std::string_view name) const;

  const std::vector<Stage>& stages() const { return stages_; }
  bool is_exact_only() const { return exact_only_; }
  /// The from_names spelling, e.g. "constant-folding+canonicalize, cse",
  /// followed by " (exact rules only)" for a strict pipeline.
  std::string str() const;

 private:
  std::vector<Stage> stages_;
  bool exact_only_ = false;
};

/// Runs `pipeline` on the graph `outputs` reach and returns the optimized
/// outputs, in the same order and the same store. Each stage rewrites to a
/// fixed point (graph/rewrite.hpp); with `trace`, every rewrite that fired is
/// appended to it. Throws Error if outputs belong to different graphs or a
/// rewrite fails; the caller's expressions are unchanged either way.
std::vector<Expr> optimize(const std::vector<Expr>& outputs, const Pipeline& pipeline = Pipeline::standard(),
                           RewriteTrace* trace = nullptr);

/// The graph `outputs` reach, copied into a fresh store: what is left of a
/// store after dead-node removal, for when memory matters (a store only
/// grows). Inputs keep their names and types.
struct Compacted {
  Graph graph;
  /// The graph inputs the outputs depend on, in id order.
  std::vector<Expr> inputs;
  std::vector<Expr> outputs;
};
Compacted compact(const std::vector<Expr>& outputs);

}  // namespace symgraph
