// A fixed group of threads (the calling thread included) that runs indexed tasks, and the cancellation token
// the long loops poll. Results never depend on which thread ran which task: every task writes its own output.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace zerolm {

// Thrown by CancelToken::check; caught by the batch runner. Never leaves the engine.
struct Cancelled {};

class CancelToken {
 public:
  CancelToken() = default;
  explicit CancelToken(const std::atomic<bool>* flag) : flag_(flag) {}
  bool requested() const { return flag_ != nullptr && flag_->load(std::memory_order_relaxed); }
  const std::atomic<bool>* flag() const { return flag_; }
  void check() const {
    if (requested()) throw Cancelled{};
  }

 private:
  const std::atomic<bool>* flag_ = nullptr;
};

class Team {
 public:
  explicit Team(int threads);
  ~Team();
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return static_cast<int>(helpers_.size()) + 1; }
  // Runs body(0..tasks-1); returns when all are done. The first exception thrown by a task is rethrown here
  // after every thread has stopped; remaining tasks are skipped once one has failed.
  void run(size_t tasks, const std::function<void(size_t)>& body);

 private:
  void helper_loop();
  void work();

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t tasks_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  unsigned generation_ = 0;
  int busy_helpers_ = 0;
  bool stopping_ = false;
};

}  // namespace zerolm
