#include "base/single_flight.h"

#include <pthread.h>

#include <thread>

namespace thinpool {

struct BlockingCallPool::State {
  State(size_t max_idle_threads, Clock::duration linger_for)
      : max_idle(max_idle_threads), linger(linger_for) {}

  std::mutex mutex;
  std::condition_variable work;
  std::vector<std::function<void()>> queue;
  size_t max_idle;
  Clock::duration linger;
  size_t idle = 0;
  size_t returning = 0;  // threads whose task said it is done blocking (see returning())
  size_t threads = 0;
  bool stopping = false;
};

namespace {

void work(const std::shared_ptr<BlockingCallPool::State>& state);

// The pool whose task this thread runs, and whether that task called returning().
thread_local BlockingCallPool::State* current_pool = nullptr;
thread_local bool current_task_returning = false;

}  // namespace

BlockingCallPool::BlockingCallPool(size_t max_idle, Clock::duration linger)
    : state_(std::make_shared<State>(max_idle, linger)) {}

BlockingCallPool::~BlockingCallPool() {
  std::lock_guard lock(state_->mutex);
  state_->stopping = true;
  state_->work.notify_all();
}

void BlockingCallPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(task));
    // Every queued task needs a thread of its own: one that is blocked will not come back for it;
    // one whose task is returning will, however long the CPU keeps it waiting.
    if (state_->idle + state_->returning < state_->queue.size()) {
      ++state_->threads;
      std::thread([state = state_] { work(state); }).detach();
      return;
    }
  }
  // Woken with the lock released: a waiter woken under it would only block again on the mutex
  // (two more context switches per hand-off, which a scrape makes several of).
  state_->work.notify_one();
}

void BlockingCallPool::returning() {
  if (current_pool == nullptr || current_task_returning) {
    return;
  }
  std::lock_guard lock(current_pool->mutex);
  ++current_pool->returning;
  current_task_returning = true;
}

size_t BlockingCallPool::threads() const {
  std::lock_guard lock(state_->mutex);
  return state_->threads;
}

size_t BlockingCallPool::busy() const {
  std::lock_guard lock(state_->mutex);
  return state_->threads - state_->idle - state_->returning;
}

namespace {

void work(const std::shared_ptr<BlockingCallPool::State>& state) {
  pthread_setname_np(pthread_self(), "thinpool-call");  // what `top -H` and /proc show
  current_pool = state.get();
  std::unique_lock lock(state->mutex);
  for (;;) {
    if (!state->queue.empty()) {
      std::function<void()> task = std::move(state->queue.front());
      state->queue.erase(state->queue.begin());
      lock.unlock();
      task();
      task = nullptr;  // what it captured is released unlocked
      lock.lock();
      if (current_task_returning) {
        --state->returning;
        current_task_returning = false;
      }
      continue;
    }
    if (state->stopping) {
      break;
    }
    auto has_work = [&] { return state->stopping || !state->queue.empty(); };
    // Beyond the threads kept, a thread waits a moment before it leaves: the calls that many
    // concurrent scrapes post back to back reuse it instead of starting threads while the ones
    // that just finished are still leaving (on a starved CPU the process then counted dozens).
    const bool kept = state->idle < state->max_idle;
    ++state->idle;
    const bool woken = kept ? (state->work.wait(lock, has_work), true)
                            : state->work.wait_for(lock, state->linger, has_work);
    --state->idle;
    if (!woken) {
      break;
    }
  }
  --state->threads;
}

}  // namespace

}  // namespace thinpool
