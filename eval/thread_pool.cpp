#include "symgraph/eval/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace symgraph::detail {
namespace {

/// One parallel loop: tasks are claimed from `next`; `helpers` is how many
/// more workers may still join it.
struct Loop {
  const std::function<void(std::int64_t)>* body = nullptr;
  std::int64_t num_tasks = 0;
  std::atomic<std::int64_t> next{0};
  int helpers = 0;  // guarded by the pool mutex
  std::mutex mutex;
  std::condition_variable finished;
  std::int64_t done = 0;  // guarded by mutex

  /// Runs tasks until none is left; returns how many this thread ran.
  std::int64_t work() {
    std::int64_t ran = 0;
    for (std::int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < num_tasks; ++ran) (*body)(t);
    return ran;
  }
  void report(std::int64_t ran) {
    if (ran == 0) return;
    std::lock_guard lock(mutex);
    done += ran;
    if (done == num_tasks) finished.notify_all();
  }
};

class Pool {
 public:
  static Pool& instance() {
    // Never destroyed: workers may still be parked in wait() at exit.
    static Pool* pool = new Pool(hardware_threads() - 1);
    return *pool;
  }

  void run(std::int64_t num_tasks, int participants, const std::function<void(std::int64_t)>& body) {
    auto loop = std::make_shared<Loop>();
    loop->body = &body;
    loop->num_tasks = num_tasks;
    const int helpers = std::min<std::int64_t>({participants - 1, static_cast<std::int64_t>(workers_.size()), num_tasks - 1});
    if (helpers > 0) {
      std::lock_guard lock(mutex_);
      loop->helpers = helpers;
      queue_.push_back(loop);
    }
    if (helpers > 0) wake_.notify_all();
    loop->report(loop->work());
    if (helpers > 0) {
      // Unclaimed helper slots are withdrawn, so no worker joins late.
      std::lock_guard lock(mutex_);
      std::erase(queue_, loop);
    }
    std::unique_lock lock(loop->mutex);
    loop->finished.wait(lock, [&] { return loop->done == loop->num_tasks; });
  }

 private:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { serve(); });
    for (auto& w : workers_) w.detach();
  }

  void serve() {
    for (;;) {
      std::shared_ptr<Loop> loop;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        loop = queue_.front();
        if (--loop->helpers == 0) queue_.pop_front();
      }
      loop->report(loop->work());
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Loop>> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void parallel_for(std::int64_t num_tasks, int participants, const std::function<void(std::int64_t)>& body) {
  if (num_tasks <= 0) return;
  if (participants <= 1 || num_tasks == 1 || hardware_threads() == 1) {
    for (std::int64_t t = 0; t < num_tasks; ++t) body(t);
    return;
  }
  Pool::instance().run(num_tasks, participants, body);
}

}  // namespace symgraph::detail
