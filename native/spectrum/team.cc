#include "team.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace zerolm {
namespace {

// One Team::run call: its tasks, and the helpers that joined it.
struct ParallelFor {
  const std::function<void(size_t)>* body = nullptr;
  size_t tasks = 0;
  int max_helpers = 0;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  // Guarded by the pool's mutex.
  std::exception_ptr error;
  int joined = 0;
  int active = 0;
};

// ZEROLM_CONCURRENCY as a limit, or 0 when unset or not an integer from 1 to kMaxConcurrency (src/native.ts reports
// a bad value to the caller).
int limit_from_environment() {
  const char* text = std::getenv("ZEROLM_CONCURRENCY");
  if (text == nullptr || *text == 0) return 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == nullptr || *end != 0 || value < 1 || value > kMaxConcurrency) return 0;
  return static_cast<int>(value);
}

class Pool {
 public:
  // Never destroyed: helpers are detached and may still be waiting when the process exits.
  static Pool& instance() {
    static Pool* pool = new Pool();
    return *pool;
  }

  int limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }

  void set_limit(int limit) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = std::max(1, std::min(limit, kMaxConcurrency));
    }
    wake_.notify_all();  // helpers over the new limit retire; freed seats may be taken
    idle_.notify_all();
  }

  void take_seat(const CancelToken& cancel) {
    std::unique_lock<std::mutex> lock(mutex_);
    waiting_callers_.fetch_add(1, std::memory_order_relaxed);
    while (seats_taken_ >= limit_) {
      if (cancel.requested()) {
        waiting_callers_.fetch_sub(1, std::memory_order_relaxed);
        lock.unlock();
        wake_.notify_all();
        throw Cancelled{};
      }
      // Bounded wait: cancellation is a flag, not a notification.
      idle_.wait_for(lock, std::chrono::milliseconds(10));
    }
    const bool last_waiting = waiting_callers_.fetch_sub(1, std::memory_order_relaxed) == 1;
    ++seats_taken_;
    const bool helpers_may_join = last_waiting && !open_.empty() && seats_taken_ < limit_;
    lock.unlock();
    if (helpers_may_join) wake_.notify_all();  // no caller waits any more: helpers may use the seats left
  }

  void give_seat() {
    std::unique_lock<std::mutex> lock(mutex_);
    --seats_taken_;
    const bool callers_wait = waiting_callers_.load(std::memory_order_relaxed) > 0;
    const bool teams_open = !open_.empty();
    lock.unlock();
    // Only wake who can use the seat (a notification is a system call when anyone waits).
    if (callers_wait)
      idle_.notify_all();
    else if (teams_open)
      wake_.notify_all();
  }

  void run(size_t tasks, const std::function<void(size_t)>& body, int width) {
    ParallelFor job;
    job.body = &body;
    job.tasks = tasks;
    job.max_helpers = static_cast<int>(std::min<size_t>(static_cast<size_t>(width - 1), tasks - 1));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // No seat free for a helper now: run on this thread alone rather than publish a team nobody can join (a seat
      // freed meanwhile serves this caller's next run).
      if (seats_taken_ >= limit_ || waiting_callers_.load(std::memory_order_relaxed) > 0) {
        job.max_helpers = 0;
      } else {
        start_helpers(std::min(job.max_helpers, limit_ - 1));
        open_.push_back(&job);
      }
    }
    if (job.max_helpers == 0) {
      for (size_t task = 0; task < tasks; ++task) body(task);
      return;
    }
    wake_.notify_all();
    work(job, false);
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      open_.erase(std::find(open_.begin(), open_.end(), &job));  // no helper joins from now on
      idle_.wait(lock, [&] { return job.active == 0; });
      error = job.error;
    }
    if (error) std::rethrow_exception(error);
  }

 private:
  Pool() {
    const int from_environment = limit_from_environment();
    limit_ = from_environment > 0 ? from_environment : std::min(available_cores(), kMaxConcurrency);
  }

  // Under mutex_. Starts helpers until `wanted` exist (fewer if the system refuses threads: the callers then do
  // more of the work themselves).
  void start_helpers(int wanted) {
    while (helpers_ < wanted) {
      try {
        std::thread([this] { helper_loop(); }).detach();
      } catch (...) {
        return;
      }
      ++helpers_;
    }
  }

  // Under mutex_: a team that still has tasks and room for a helper.
  ParallelFor* open_team() {
    for (ParallelFor* job : open_)
      if (job->joined < job->max_helpers && !job->failed.load(std::memory_order_relaxed) &&
          job->next.load(std::memory_order_relaxed) < job->tasks)
        return job;
    return nullptr;
  }

  void helper_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (helpers_ > limit_ - 1) {  // the limit was lowered: retire
        --helpers_;
        return;
      }
      ParallelFor* job = nullptr;
      if (waiting_callers_.load(std::memory_order_relaxed) == 0 && seats_taken_ < limit_) job = open_team();
      if (job == nullptr) {
        wake_.wait(lock);
        continue;
      }
      ++seats_taken_;
      ++job->joined;
      ++job->active;
      lock.unlock();
      work(*job, true);
      lock.lock();
      --job->active;
      --seats_taken_;
      idle_.notify_all();
    }
  }

  // Claims and runs tasks until none are left or one has failed. A helper also leaves, giving its seat back, when a
  // caller is waiting for one: the calling thread of its team finishes the remaining tasks.
  void work(ParallelFor& job, bool helper) {
    for (;;) {
      if (job.failed.load(std::memory_order_relaxed)) return;
      if (helper && waiting_callers_.load(std::memory_order_relaxed) > 0) return;
      const size_t task = job.next.fetch_add(1, std::memory_order_relaxed);
      if (task >= job.tasks) return;
      try {
        (*job.body)(task);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!job.error) job.error = std::current_exception();
        job.failed.store(true, std::memory_order_relaxed);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // helpers: work, a seat or a new limit
  std::condition_variable idle_;  // callers: a free seat, or their team's helpers done
  std::vector<ParallelFor*> open_;
  int limit_ = 1;
  int seats_taken_ = 0;
  int helpers_ = 0;
  std::atomic<int> waiting_callers_{0};  // changed under mutex_, read by working helpers without it
};

}  // namespace

int available_cores() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  const unsigned count = std::thread::hardware_concurrency();
  return count == 0 ? 1 : static_cast<int>(count);
}

int concurrency_limit() { return Pool::instance().limit(); }

void set_concurrency_limit(int limit) { Pool::instance().set_limit(limit); }

Seat::Seat(const CancelToken& cancel) { Pool::instance().take_seat(cancel); }

Seat::~Seat() { Pool::instance().give_seat(); }

void Team::run(size_t tasks, const std::function<void(size_t)>& body) {
  if (tasks == 0) return;
  if (width_ <= 1 || tasks == 1) {
    for (size_t task = 0; task < tasks; ++task) body(task);
    return;
  }
  Pool::instance().run(tasks, body, width_);
}

}  // namespace zerolm
