// The engine's threads: one process-wide pool of persistent helper threads, created on first need, and the
// cancellation token the long loops poll. A Team is one caller's claim on the pool: it runs indexed tasks on the
// calling thread plus whichever helpers are free. Results never depend on which thread ran which task: every task
// writes its own output.
//
// The pool has `concurrency_limit()` seats. A batch holds one Seat for its calling thread while it runs, and a
// helper holds one while it works on a team's tasks, so however many batches run at once (libuv threads, worker
// threads, the main thread) at most that many threads compute; a caller waiting for a seat has priority over a helper
// joining a team that already runs.
#pragma once
#include <atomic>
#include <cstddef>
#include <functional>

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

constexpr int kMaxConcurrency = 1024;

// Cores this process may run on (its CPU affinity mask where the platform has one, else the hardware
// concurrency), at least 1. The one place the engine, and through the addon zerolm's TypeScript, asks.
int available_cores();

// Threads that may compute at once, process-wide. Initially ZEROLM_CONCURRENCY when it is an integer from 1 to
// kMaxConcurrency, else available_cores(). Setting it wakes or retires helpers; running teams keep their results
// (the limit changes speed only).
int concurrency_limit();
void set_concurrency_limit(int limit);  // clamped to 1..kMaxConcurrency

// The calling thread's seat in the pool, for the scope of a batch. Waits while every seat is taken; throws Cancelled
// if `cancel` fires meanwhile.
class Seat {
 public:
  explicit Seat(const CancelToken& cancel);
  ~Seat();
  Seat(const Seat&) = delete;
  Seat& operator=(const Seat&) = delete;
};

class Team {
 public:
  // The calling thread and at most width - 1 helpers. A team of width 1 runs everything on the calling thread:
  // that is the team for work inside another team's task.
  explicit Team(int width) : width_(width < 1 ? 1 : width) {}
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int width() const { return width_; }
  // Runs body(0..tasks-1); returns when all are done. The first exception thrown by a task is rethrown here
  // after every thread has stopped; remaining tasks are skipped once one has failed.
  void run(size_t tasks, const std::function<void(size_t)>& body);

 private:
  int width_;
};

}  // namespace zerolm
