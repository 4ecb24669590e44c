#include "base/single_flight.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace thinpool {
namespace {

using namespace std::chrono_literals;

// A call that blocks until released, as a read on a device that stopped answering does.
// The gate lives on the test's stack: a test that opens it waits until the call has left it.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    open_cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    open_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable open_cv_;
  bool open_ = false;
};

// True once the call for `key` has finished (at most 5 s).
bool settles(const SingleFlight<int>& flights, const std::string& key) {
  for (int i = 0; i < 500 && flights.is_outstanding(key); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  return !flights.is_outstanding(key);
}

TEST(SingleFlight, ReturnsTheCallsValue) {
  SingleFlight<int> flights(std::make_shared<BlockingCallPool>());
  auto result = flights.run("a", Clock::now() + 5s, WhenBusy::kSkip, [] { return 42; });
  ASSERT_EQ(result.outcome, SingleFlight<int>::Outcome::kDone);
  EXPECT_EQ(*result.value, 42);
  EXPECT_TRUE(flights.outstanding().empty());
}

TEST(SingleFlight, AStuckCallCostsOneThreadAndIsNeverStackedOn) {
  auto pool = std::make_shared<BlockingCallPool>();
  SingleFlight<int> flights(pool);
  Gate gate;
  std::atomic<int> calls{0};
  auto blocking = [&] {
    ++calls;
    gate.wait();
    return 7;
  };
  const auto before = Clock::now();
  auto first = flights.run("dev", Clock::now() + 50ms, WhenBusy::kSkip, blocking);
  EXPECT_EQ(first.outcome, SingleFlight<int>::Outcome::kTimedOut);
  EXPECT_LT(Clock::now() - before, 2s);
  ASSERT_EQ(flights.outstanding().size(), 1u);
  EXPECT_EQ(flights.outstanding()[0].key, "dev");
  EXPECT_GE(flights.outstanding()[0].since, before);

  // Later callers are told at once, and start nothing: one call, one blocked thread.
  for (int i = 0; i < 100; ++i) {
    auto again = flights.run("dev", Clock::now() + 10s, WhenBusy::kSkip, blocking);
    EXPECT_EQ(again.outcome, SingleFlight<int>::Outcome::kBusy);
  }
  EXPECT_EQ(calls.load(), 1);
  EXPECT_LE(pool->threads(), 1u);

  // Other keys still run, on another thread.
  auto other = flights.run("other", Clock::now() + 5s, WhenBusy::kSkip, [] { return 1; });
  EXPECT_EQ(other.outcome, SingleFlight<int>::Outcome::kDone);

  // When the device answers, the key is free and the next call runs normally.
  gate.open();
  EXPECT_TRUE(settles(flights, "dev"));
  auto after = flights.run("dev", Clock::now() + 5s, WhenBusy::kSkip, [] { return 8; });
  ASSERT_EQ(after.outcome, SingleFlight<int>::Outcome::kDone);
  EXPECT_EQ(*after.value, 8);
}

// Two callers of `key` in `mode`, the second while the first's call is outstanding: both results,
// and how many times the call ran.
struct TwoCallers {
  SingleFlight<int>::Result first;
  SingleFlight<int>::Result second;
  int calls = 0;
};

TwoCallers call_twice_while_outstanding(SingleFlight<int>& flights, const std::string& key,
                                        WhenBusy mode, int value) {
  Gate gate;
  std::atomic<int> calls{0};
  auto call = [&] {
    ++calls;
    gate.wait();
    return value;
  };
  auto first = std::async(std::launch::async,
                          [&] { return flights.run(key, Clock::now() + 10s, mode, call); });
  while (!flights.is_outstanding(key)) {
    std::this_thread::sleep_for(1ms);
  }
  auto second = std::async(std::launch::async,
                           [&] { return flights.run(key, Clock::now() + 10s, mode, call); });
  std::this_thread::sleep_for(20ms);
  gate.open();
  TwoCallers result{first.get(), second.get(), 0};
  result.calls = calls.load();
  return result;
}

TEST(SingleFlight, ConcurrentCallersJoinTheOutstandingCall) {
  SingleFlight<int> flights(std::make_shared<BlockingCallPool>());
  TwoCallers both = call_twice_while_outstanding(flights, "inventory", WhenBusy::kJoin, 5);
  EXPECT_EQ(*both.first.value, 5);
  EXPECT_EQ(*both.second.value, 5);
  EXPECT_EQ(both.calls, 1);
}

TEST(SingleFlight, AJoinerStillLeavesAtItsOwnDeadline) {
  SingleFlight<int> flights(std::make_shared<BlockingCallPool>());
  Gate gate;
  auto first = flights.run("k", Clock::now() + 10ms, WhenBusy::kJoin, [&] {
    gate.wait();
    return 1;
  });
  EXPECT_EQ(first.outcome, SingleFlight<int>::Outcome::kTimedOut);
  auto joined = flights.run("k", Clock::now() + 20ms, WhenBusy::kJoin, [] { return 2; });
  EXPECT_EQ(joined.outcome, SingleFlight<int>::Outcome::kTimedOut);
  gate.open();
  EXPECT_TRUE(settles(flights, "k"));
}

// A call another caller started a moment ago is shared; once a caller gave up waiting for it
// (its deadline passed), it counts as stuck and later callers are told at once.
TEST(SingleFlight, JoinUnlessStuckSharesAYoungCallAndSkipsAStuckOne) {
  SingleFlight<int> flights(std::make_shared<BlockingCallPool>());
  TwoCallers both = call_twice_while_outstanding(flights, "pv", WhenBusy::kJoinUnlessStuck, 9);
  ASSERT_EQ(both.first.outcome, SingleFlight<int>::Outcome::kDone);
  ASSERT_EQ(both.second.outcome, SingleFlight<int>::Outcome::kDone);
  EXPECT_EQ(*both.second.value, 9);
  EXPECT_EQ(both.calls, 1);
  ASSERT_TRUE(settles(flights, "pv"));

  Gate hang;
  auto stuck = flights.run("pv", Clock::now() + 20ms, WhenBusy::kJoinUnlessStuck, [&] {
    hang.wait();
    return 1;
  });
  EXPECT_EQ(stuck.outcome, SingleFlight<int>::Outcome::kTimedOut);
  const auto before = Clock::now();
  std::atomic<int> calls{0};
  auto later = flights.run("pv", Clock::now() + 10s, WhenBusy::kJoinUnlessStuck, [&] {
    ++calls;
    return 9;
  });
  EXPECT_EQ(later.outcome, SingleFlight<int>::Outcome::kBusy);
  EXPECT_LT(Clock::now() - before, 1s);  // told at once, not after its deadline
  EXPECT_EQ(calls.load(), 0);
  hang.open();
  EXPECT_TRUE(settles(flights, "pv"));
}

TEST(SingleFlight, ACallThatThrowsEndsWithoutAValue) {
  SingleFlight<int> flights(std::make_shared<BlockingCallPool>());
  auto result = flights.run("k", Clock::now() + 5s, WhenBusy::kSkip,
                            []() -> int { throw std::runtime_error("boom"); });
  EXPECT_EQ(result.outcome, SingleFlight<int>::Outcome::kDone);
  EXPECT_EQ(result.value, nullptr);
  EXPECT_FALSE(flights.is_outstanding("k"));
}

// Polls `done` every 5 ms for at most 5 s.
template <typename Done>
bool eventually(Done done) {
  for (int i = 0; i < 1000 && !done(); ++i) {
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

TEST(BlockingCallPool, ATaskThatIsReturningHandsItsThreadToTheNextTask) {
  auto pool = std::make_shared<BlockingCallPool>();
  Gate preempted;  // the returning task held up after it said so, as by a CPU that runs others
  std::promise<std::thread::id> first_thread;
  pool->post([&] {
    first_thread.set_value(std::this_thread::get_id());
    BlockingCallPool::returning();
    preempted.wait();
  });
  const std::thread::id first = first_thread.get_future().get();
  ASSERT_TRUE(eventually([&] { return pool->busy() == 0; }));
  std::promise<std::thread::id> second_thread;
  pool->post([&] { second_thread.set_value(std::this_thread::get_id()); });
  EXPECT_EQ(pool->threads(), 1u);  // no thread started for it
  preempted.open();
  auto second = second_thread.get_future();
  ASSERT_EQ(second.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(second.get(), first);
  EXPECT_EQ(pool->threads(), 1u);
}

TEST(BlockingCallPool, ReturningOutsideAPoolsThreadDoesNothing) {
  auto pool = std::make_shared<BlockingCallPool>();
  BlockingCallPool::returning();
  Gate gate;
  std::atomic<int> started{0};
  for (int i = 0; i < 3; ++i) {
    pool->post([&] {
      ++started;
      gate.wait();
    });
  }
  EXPECT_TRUE(
      eventually([&] { return started.load() == 3; }));  // three threads: none was held back
  EXPECT_EQ(pool->busy(), 3u);
  gate.open();
  EXPECT_TRUE(eventually([&] { return pool->busy() == 0; }));
}

// `tasks` calls that block at once, released together; returns once all of them returned.
void run_blocked_together(BlockingCallPool& pool, int tasks) {
  Gate gate;
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < tasks; ++i) {
    pool.post([&] {
      ++started;
      gate.wait();
      ++finished;
    });
  }
  ASSERT_TRUE(eventually([&] { return started.load() == tasks; }));
  gate.open();
  ASSERT_TRUE(eventually([&] { return finished.load() == tasks && pool.busy() == 0; }));
}

TEST(BlockingCallPool, ThreadsBeyondTheKeptOnesServeTheNextBurstThenLeave) {
  // A linger far longer than the test: the second burst finds the first one's threads.
  auto lingering = std::make_shared<BlockingCallPool>(1, 60s);
  run_blocked_together(*lingering, 6);
  EXPECT_EQ(lingering->threads(), 6u);
  run_blocked_together(*lingering, 6);
  EXPECT_EQ(lingering->threads(), 6u);  // no thread more

  // A short one: all but the kept thread leave.
  auto brief = std::make_shared<BlockingCallPool>(1, 20ms);
  run_blocked_together(*brief, 6);
  EXPECT_TRUE(eventually([&] { return brief->threads() == 1; }));
  EXPECT_EQ(brief->threads(), 1u);
}

}  // namespace
}  // namespace thinpool
