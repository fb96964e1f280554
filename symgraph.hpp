#pragma once
/// symgraph: symbolic tensor expression graphs. One include for the whole
/// public API.
#include "symgraph/autodiff/check.hpp"
#include "symgraph/autodiff/grad.hpp"
#include "symgraph/core/error.hpp"
#include "symgraph/core/graph.hpp"
#include "symgraph/core/registry.hpp"
#include "symgraph/core/tensor.hpp"
#include "symgraph/core/types.hpp"
#include "symgraph/eval/function.hpp"
#include "symgraph/graph/dot.hpp"
#include "symgraph/graph/json.hpp"
#include "symgraph/graph/optimize.hpp"
#include "symgraph/graph/parse.hpp"
#include "symgraph/graph/print.hpp"
#include "symgraph/ops/elementwise.hpp"
#include "symgraph/ops/ops.hpp"
#include "symgraph/ops/relu.hpp"
