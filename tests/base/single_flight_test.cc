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

TEST(SingleFlight, ConcurrentCallersJoinTheOutstandingCall) {
  SingleFlight<int> flights(std::make_shared<BlockingCallPool>());
  Gate gate;
  std::atomic<int> calls{0};
  auto call = [&] {
    ++calls;
    gate.wait();
    return 5;
  };
  auto first = std::async(std::launch::async, [&] {
    return flights.run("inventory", Clock::now() + 10s, WhenBusy::kJoin, call);
  });
  while (!flights.is_outstanding("inventory")) {
    std::this_thread::sleep_for(1ms);
  }
  auto second = std::async(std::launch::async, [&] {
    return flights.run("inventory", Clock::now() + 10s, WhenBusy::kJoin, call);
  });
  std::this_thread::sleep_for(20ms);
  gate.open();
  EXPECT_EQ(*first.get().value, 5);
  EXPECT_EQ(*second.get().value, 5);
  EXPECT_EQ(calls.load(), 1);
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
  auto pool = std::make_shared<BlockingCallPool>();
  SingleFlight<int> flights(pool);
  Gate gate;
  std::atomic<int> calls{0};
  auto call = [&] {
    ++calls;
    gate.wait();
    return 9;
  };
  auto first = std::async(std::launch::async, [&] {
    return flights.run("pv", Clock::now() + 10s, WhenBusy::kJoinUnlessStuck, call);
  });
  while (!flights.is_outstanding("pv")) {
    std::this_thread::sleep_for(1ms);
  }
  auto second = std::async(std::launch::async, [&] {
    return flights.run("pv", Clock::now() + 10s, WhenBusy::kJoinUnlessStuck, call);
  });
  std::this_thread::sleep_for(20ms);
  gate.open();
  ASSERT_EQ(first.get().outcome, SingleFlight<int>::Outcome::kDone);
  auto shared = second.get();
  ASSERT_EQ(shared.outcome, SingleFlight<int>::Outcome::kDone);
  EXPECT_EQ(*shared.value, 9);
  EXPECT_EQ(calls.load(), 1);
  ASSERT_TRUE(settles(flights, "pv"));

  Gate hang;
  auto stuck = flights.run("pv", Clock::now() + 20ms, WhenBusy::kJoinUnlessStuck, [&] {
    hang.wait();
    return 1;
  });
  EXPECT_EQ(stuck.outcome, SingleFlight<int>::Outcome::kTimedOut);
  const auto before = Clock::now();
  auto later = flights.run("pv", Clock::now() + 10s, WhenBusy::kJoinUnlessStuck, call);
  EXPECT_EQ(later.outcome, SingleFlight<int>::Outcome::kBusy);
  EXPECT_LT(Clock::now() - before, 1s);  // told at once, not after its deadline
  EXPECT_EQ(calls.load(), 1);
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

}  // namespace
}  // namespace thinpool
