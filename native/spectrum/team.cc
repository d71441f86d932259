#include "team.h"

namespace zerolm {

Team::Team(int threads) {
  try {
    for (int i = 1; i < threads; ++i) helpers_.emplace_back([this] { helper_loop(); });
  } catch (...) {
    // Could not start them all (resource limits): stop the ones that did start, then report.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& helper : helpers_) helper.join();
    throw;
  }
}

Team::~Team() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& helper : helpers_) helper.join();
}

void Team::work() {
  for (;;) {
    if (failed_.load(std::memory_order_relaxed)) return;
    const size_t task = next_.fetch_add(1, std::memory_order_relaxed);
    if (task >= tasks_) return;
    try {
      (*body_)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true, std::memory_order_relaxed);
    }
  }
}

void Team::helper_loop() {
  unsigned seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    work();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --busy_helpers_;
    }
    done_.notify_one();
  }
}

void Team::run(size_t tasks, const std::function<void(size_t)>& body) {
  if (tasks == 0) return;
  if (helpers_.empty() || tasks == 1) {
    for (size_t task = 0; task < tasks; ++task) body(task);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    tasks_ = tasks;
    next_.store(0);
    failed_.store(false);
    error_ = nullptr;
    busy_helpers_ = static_cast<int>(helpers_.size());
    ++generation_;
  }
  wake_.notify_all();
  work();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_helpers_ == 0; });
    error = error_;
    error_ = nullptr;
    body_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace zerolm
