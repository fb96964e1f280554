#pragma once
/// A process-wide pool of worker threads for data-parallel loops (internal).
#include <cstdint>
#include <functional>

namespace symgraph::detail {

/// Hardware threads (at least 1).
int hardware_threads();

/// Runs body(task) for every task in [0, num_tasks) on up to `participants`
/// threads, the calling thread included, and returns when all have run.
/// Tasks are claimed one at a time from a shared counter, so a thread that a
/// busy machine slows down takes fewer. Several callers may run loops at
/// once; workers help whichever loop is waiting. body must not throw.
void parallel_for(std::int64_t num_tasks, int participants, const std::function<void(std::int64_t)>& body);

}  // namespace symgraph::detail
