// Calls that can block for as long as a device hangs (an ioctl or a read on a PV that stopped
// answering, uninterruptibly), run so that no caller waits past its deadline and no second call is
// ever stacked behind a stuck one.
//
// Each call has a key (a device, a pool, a reader). A call runs on a worker thread while the
// caller waits for it until its deadline. A call that does not return by then keeps its worker;
// its key is "stuck" from the moment it started until it returns, and is reported as such. While a
// key's call is outstanding, a new call for the same key starts nothing: the caller either waits
// for that call's result (kJoin: concurrent scrapes share one read) or gets kBusy at once (kSkip:
// do not ask a device again while it has not answered), or, with kJoinUnlessStuck, waits for it
// unless a caller already gave up waiting for it (a read another scrape started a moment ago is
// shared; one known to hang is not waited for again). So threads stay bounded by the number of
// keys that hang, however long they hang.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace thinpool {

using Clock = std::chrono::steady_clock;

// Threads for blocking calls: an idle one runs the next task; when none is idle a new one starts
// (a blocked call keeps its thread). `max_idle` threads wait for work for as long as it takes;
// more than that wait for `linger` and then end.
class BlockingCallPool {
 public:
  explicit BlockingCallPool(size_t max_idle = 2, Clock::duration linger = std::chrono::seconds(2));
  // Threads still blocked in a call are detached: they finish on their own and touch only state
  // their task shares.
  ~BlockingCallPool();
  BlockingCallPool(const BlockingCallPool&) = delete;
  BlockingCallPool& operator=(const BlockingCallPool&) = delete;

  void post(std::function<void()> task);

  // Called by a task once nothing it still does can block (it is publishing its result): its
  // thread counts as one that takes the next task, so a task posted meanwhile starts no thread
  // while this one waits for the CPU (a woken caller often runs first). No effect elsewhere.
  static void returning();

  // Threads alive: running a task or idle.
  size_t threads() const;
  // Threads running a task (for a blocked call: still in it).
  size_t busy() const;

  struct State;  // shared with the threads, which may outlive the pool

 private:
  std::shared_ptr<State> state_;
};

enum class WhenBusy {
  kJoin,             // wait for the outstanding call's result
  kSkip,             // return kBusy at once
  kJoinUnlessStuck,  // kJoin, unless a caller's deadline passed waiting for it: then kSkip
};

template <typename T>
class SingleFlight {
 public:
  enum class Outcome {
    kDone,      // the result is there (this call's, or the outstanding one's it joined)
    kBusy,      // kSkip (or a stuck call and kJoinUnlessStuck): nothing was started
    kTimedOut,  // the deadline passed first; the call goes on, its key stuck until it returns
  };
  struct Result {
    Outcome outcome = Outcome::kDone;
    std::shared_ptr<const T> value;  // with kDone, unless the call threw
    Clock::time_point started;       // of the call this result is about
  };
  struct Outstanding {
    std::string key;
    Clock::time_point since;
  };

  explicit SingleFlight(std::shared_ptr<BlockingCallPool> pool) : pool_(std::move(pool)) {}

 private:
  struct Flight;

 public:
  // A call started (or joined) by start(), to wait() for.
  class Handle {
   public:
    bool busy() const { return flight_ == nullptr; }
    Clock::time_point started() const { return started_; }

   private:
    friend class SingleFlight;
    std::shared_ptr<Flight> flight_;  // null: busy (a call outstanding was not joined)
    Clock::time_point started_;
  };

  // Starts `call` for `key` on a worker, or returns the outstanding call for `key` (kJoin, and
  // kJoinUnlessStuck while no caller gave up on it) or a busy handle without starting anything.
  Handle start(const std::string& key, WhenBusy when_busy, std::function<T()> call) {
    Handle handle;
    std::lock_guard lock(state_->mutex);
    auto existing = state_->flights.find(key);
    if (existing != state_->flights.end()) {
      handle.started_ = existing->second->started;
      if (when_busy == WhenBusy::kJoin ||
          (when_busy == WhenBusy::kJoinUnlessStuck && !existing->second->given_up)) {
        handle.flight_ = existing->second;
      }
      return handle;
    }
    handle.flight_ = begin(key);
    handle.started_ = handle.flight_->started;
    pool_->post([state = state_, flight = handle.flight_, key, call = std::move(call)] {
      finish(*state, *flight, key, call, /*on_pool_thread=*/true);
    });
    return handle;
  }

  // The handle's result, waiting for it until `deadline`.
  Result wait(const Handle& handle, Clock::time_point deadline) {
    if (handle.busy()) {
      return {Outcome::kBusy, nullptr, handle.started_};
    }
    std::unique_lock lock(state_->mutex);
    if (!state_->done.wait_until(lock, deadline, [&] { return handle.flight_->done; })) {
      handle.flight_->given_up = true;
      return {Outcome::kTimedOut, nullptr, handle.started_};
    }
    return {Outcome::kDone, handle.flight_->value, handle.started_};
  }

  Result run(const std::string& key, Clock::time_point deadline, WhenBusy when_busy,
             std::function<T()> call) {
    return wait(start(key, when_busy, std::move(call)), deadline);
  }

  // Runs `call` on this thread, unless a call for `key` is outstanding: that one is joined until
  // `deadline`. For calls that keep their own deadlines (they never block past them) and that
  // concurrent callers should share rather than repeat.
  Result run_here(const std::string& key, Clock::time_point deadline,
                  const std::function<T()>& call) {
    std::unique_lock lock(state_->mutex);
    auto existing = state_->flights.find(key);
    if (existing != state_->flights.end()) {
      std::shared_ptr<Flight> flight = existing->second;
      if (!state_->done.wait_until(lock, deadline, [&] { return flight->done; })) {
        flight->given_up = true;
        return {Outcome::kTimedOut, nullptr, flight->started};
      }
      return {Outcome::kDone, flight->value, flight->started};
    }
    std::shared_ptr<Flight> flight = begin(key);
    lock.unlock();
    finish(*state_, *flight, key, call, /*on_pool_thread=*/false);
    return {Outcome::kDone, flight->value, flight->started};
  }

  // The keys whose call is outstanding, and since when.
  std::vector<Outstanding> outstanding() const {
    std::lock_guard lock(state_->mutex);
    std::vector<Outstanding> calls;
    for (const auto& [key, flight] : state_->flights) {
      calls.push_back({key, flight->started});
    }
    return calls;
  }

  bool is_outstanding(const std::string& key) const {
    std::lock_guard lock(state_->mutex);
    return state_->flights.contains(key);
  }

 private:
  struct Flight {
    Clock::time_point started;
    bool done = false;
    bool given_up = false;  // a caller's deadline passed while it waited
    std::shared_ptr<const T> value;
  };
  // Shared with the tasks, which may outlive this object (a call blocked at shutdown).
  struct State {
    mutable std::mutex mutex;
    std::condition_variable done;
    std::map<std::string, std::shared_ptr<Flight>> flights;
  };

  // A new flight for `key`; state_->mutex held.
  std::shared_ptr<Flight> begin(const std::string& key) {
    auto flight = std::make_shared<Flight>();
    flight->started = Clock::now();
    state_->flights.emplace(key, flight);
    return flight;
  }

  // Runs the call and publishes its value (none when it threw); a pool's thread is handed back
  // to the pool first (BlockingCallPool::returning).
  static void finish(State& state, Flight& flight, const std::string& key,
                     const std::function<T()>& call, bool on_pool_thread) {
    std::shared_ptr<const T> value;
    try {
      value = std::make_shared<const T>(call());
    } catch (...) {
      value.reset();
    }
    if (on_pool_thread) {
      BlockingCallPool::returning();
    }
    {
      std::lock_guard lock(state.mutex);
      flight.value = std::move(value);
      flight.done = true;
      state.flights.erase(key);
    }
    // Unlocked first (see BlockingCallPool::post); `state` outlives this: the caller holds it.
    state.done.notify_all();
  }

  std::shared_ptr<BlockingCallPool> pool_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace thinpool
