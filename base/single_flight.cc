#include "base/single_flight.h"

#include <thread>

namespace thinpool {

struct BlockingCallPool::State {
  explicit State(size_t max_idle_threads) : max_idle(max_idle_threads) {}

  std::mutex mutex;
  std::condition_variable work;
  std::vector<std::function<void()>> queue;
  size_t max_idle;
  size_t idle = 0;
  size_t threads = 0;
  bool stopping = false;
};

namespace {

void work(const std::shared_ptr<BlockingCallPool::State>& state);

}  // namespace

BlockingCallPool::BlockingCallPool(size_t max_idle) : state_(std::make_shared<State>(max_idle)) {}

BlockingCallPool::~BlockingCallPool() {
  std::lock_guard lock(state_->mutex);
  state_->stopping = true;
  state_->work.notify_all();
}

void BlockingCallPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(task));
    // Every queued task needs a thread of its own: one that is blocked will not come back for it.
    if (state_->idle < state_->queue.size()) {
      ++state_->threads;
      std::thread([state = state_] { work(state); }).detach();
      return;
    }
  }
  // Woken with the lock released: a waiter woken under it would only block again on the mutex
  // (two more context switches per hand-off, which a scrape makes several of).
  state_->work.notify_one();
}

size_t BlockingCallPool::threads() const {
  std::lock_guard lock(state_->mutex);
  return state_->threads;
}

size_t BlockingCallPool::busy() const {
  std::lock_guard lock(state_->mutex);
  return state_->threads - state_->idle;
}

namespace {

void work(const std::shared_ptr<BlockingCallPool::State>& state) {
  std::unique_lock lock(state->mutex);
  for (;;) {
    if (!state->queue.empty()) {
      std::function<void()> task = std::move(state->queue.front());
      state->queue.erase(state->queue.begin());
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (state->stopping || state->idle >= state->max_idle) {
      break;
    }
    ++state->idle;
    state->work.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
    --state->idle;
  }
  --state->threads;
}

}  // namespace

}  // namespace thinpool
