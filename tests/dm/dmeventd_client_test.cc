#include "dm/dmeventd_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace thinpool {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
constexpr const char* kUuid =
    "LVM-RMUVUNkkKvOG8KWAi51c4eH9doW6wA3e6BUxAReqd7ruAH715YsbbBfeTDqwNBVk-tpool";

// One framed message: {cmd, size} in network byte order, then the text and its NUL.
std::string frame(int32_t cmd, const std::string& text) {
  uint32_t header[2] = {htonl(static_cast<uint32_t>(cmd)),
                        htonl(static_cast<uint32_t>(text.size() + 1))};
  std::string bytes(reinterpret_cast<const char*>(header), sizeof(header));
  return bytes + text + '\0';
}

struct Request {
  uint32_t cmd = 0;
  std::string data;  // as sent, NUL included
  std::string id() const { return data.substr(0, data.find(' ')); }
  std::string text() const { return data.substr(0, data.find('\0')); }
};

// A process that holds a write lock on the pid file, as dmeventd does for its life, under the
// name `comm`, with its pid written into the file.
class LockHolder {
 public:
  LockHolder(const std::string& pid_file, const char* comm) {
    int ready[2];
    EXPECT_EQ(pipe(ready), 0);
    pid_ = fork();
    if (pid_ == 0) {  // async-signal-safe calls only from here on
      int fd = open(pid_file.c_str(), O_RDWR | O_CREAT, 0644);
      struct flock lock {};
      lock.l_type = F_WRLCK;
      lock.l_whence = SEEK_SET;
      if (fd < 0 || fcntl(fd, F_SETLK, &lock) != 0) {
        _exit(1);
      }
      prctl(PR_SET_NAME, comm, 0, 0, 0);
      if (write(ready[1], "x", 1) != 1) {
        _exit(1);
      }
      for (;;) {
        pause();
      }
    }
    char byte = 0;
    EXPECT_EQ(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    close(ready[1]);
    std::ofstream(pid_file) << pid_ << "\n";
  }
  ~LockHolder() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

 private:
  pid_t pid_ = -1;
};

// dmeventd's FIFOs in a temporary folder, and a thread that serves them as `respond` says: it
// gets each request and returns the bytes to write into the server FIFO ("" writes nothing).
class FakeDmeventd {
 public:
  using Responder = std::function<std::string(const Request&)>;

  FakeDmeventd() {
    char templ[] = "/tmp/dmeventd-test.XXXXXX";
    dir_ = mkdtemp(templ);
    paths_.pid_file = dir_ + "/dmeventd.pid";
    paths_.client_fifo = dir_ + "/dmeventd-client";
    paths_.server_fifo = dir_ + "/dmeventd-server";
  }
  ~FakeDmeventd() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    for (int fd : {client_, server_}) {
      close(fd);  // -1 when never opened: EBADF, harmless
    }
    holder_.reset();
    std::filesystem::remove_all(dir_);
  }
  FakeDmeventd(const FakeDmeventd&) = delete;
  FakeDmeventd& operator=(const FakeDmeventd&) = delete;

  const DmeventdPaths& paths() const { return paths_; }
  const std::string& dir() const { return dir_; }

  void make_fifos() {
    ASSERT_EQ(mkfifo(paths_.client_fifo.c_str(), 0600), 0);
    ASSERT_EQ(mkfifo(paths_.server_fifo.c_str(), 0600), 0);
  }

  // FIFOs, a live process called dmeventd holding the pid file, and the serving thread.
  void start(Responder respond) {
    make_fifos();
    holder_ = std::make_unique<LockHolder>(paths_.pid_file, "dmeventd");
    client_ = open(paths_.client_fifo.c_str(), O_RDWR | O_NONBLOCK);
    server_ = open(paths_.server_fifo.c_str(), O_RDWR | O_NONBLOCK);
    ASSERT_GE(client_, 0);
    ASSERT_GE(server_, 0);
    thread_ = std::thread([this, respond = std::move(respond)] { serve(respond); });
  }

  // Writes into the server FIFO as if an earlier reply were left unread.
  void leave_in_server_fifo(const std::string& bytes) {
    ASSERT_EQ(write(server_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  std::vector<Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  bool read_exact(char* out, size_t size) {
    size_t done = 0;
    while (done < size && !stop_) {
      pollfd p{client_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) {
        continue;
      }
      ssize_t n = read(client_, out + done, size - done);
      done += n > 0 ? static_cast<size_t>(n) : 0;
    }
    return done == size;
  }

  void serve(const Responder& respond) {
    while (!stop_) {
      uint32_t header[2];
      if (!read_exact(reinterpret_cast<char*>(header), sizeof(header))) {
        return;
      }
      Request request{ntohl(header[0]), std::string(ntohl(header[1]), '\0')};
      if (!read_exact(request.data.data(), request.data.size())) {
        return;
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      std::string reply = respond(request);
      if (!reply.empty()) {
        ASSERT_EQ(write(server_, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
      }
    }
  }

  std::string dir_;
  DmeventdPaths paths_;
  std::unique_ptr<LockHolder> holder_;
  int client_ = -1;
  int server_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Request> requests_;
};

// Answers as dmeventd 2.03.16 does, with `registered` the event masks of the thin plugin's pools.
FakeDmeventd::Responder like_dmeventd(const std::map<std::string, uint32_t>& registered) {
  return [registered](const Request& r) {
    std::string text = r.text();
    if (r.cmd == 8) {
      return frame(0, text + " HELLO 2");
    }
    std::istringstream words(text);
    std::string id, dso, uuid;
    words >> id >> dso >> uuid;
    auto found = registered.find(uuid);
    if (r.cmd != 4 || dso != "libdevmapper-event-lvm2thin.so" || found == registered.end()) {
      return frame(-ENOENT, id + " No such file or directory");
    }
    return frame(0, id + " " + dso + " " + uuid + " " + std::to_string(found->second));
  };
}

Clock::time_point in(milliseconds ms) {
  return Clock::now() + ms;
}

TEST(DmeventdClient, RegisteredPoolIsMonitoredAfterTheHandshake) {
  FakeDmeventd daemon;
  daemon.start(like_dmeventd({{kUuid, 0xFF00}}));
  DmeventdClient client(daemon.paths());
  auto state = client.monitored(kUuid, in(milliseconds(2000)));
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(*state, MonitorState::kMonitored);
  EXPECT_EQ(monitor_state_name(*state), "monitored");
  auto requests = daemon.requests();
  ASSERT_EQ(requests.size(), 2u);
  std::string pid = std::to_string(getpid());
  // "<pid>:<sequence> HELLO" then the query, each with its NUL counted, ids in sequence.
  EXPECT_EQ(requests[0].cmd, 8u);
  EXPECT_EQ(requests[0].data, requests[0].id() + " HELLO" + '\0');
  EXPECT_EQ(requests[0].id().substr(0, pid.size() + 1), pid + ":");
  uint32_t first = std::stoul(requests[0].id().substr(pid.size() + 1));
  EXPECT_EQ(requests[1].cmd, 4u);
  EXPECT_EQ(
      requests[1].data,
      fmt::format("{}:{} libdevmapper-event-lvm2thin.so {} 65280 0", pid, first + 1, kUuid) + '\0');
}

TEST(DmeventdClient, NotRegisteredAndPending) {
  FakeDmeventd daemon;
  daemon.start(like_dmeventd({{"LVM-pending-tpool", 0x1000000 | 0xFF00}, {"LVM-zero-tpool", 0}}));
  DmeventdClient client(daemon.paths());
  auto deadline = in(milliseconds(2000));
  auto not_registered = client.monitored(kUuid, deadline);
  ASSERT_TRUE(not_registered.ok()) << not_registered.error().message;
  EXPECT_EQ(*not_registered, MonitorState::kNotMonitored);
  auto pending = client.monitored("LVM-pending-tpool", deadline);
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  EXPECT_EQ(*pending, MonitorState::kPending);
  auto no_events = client.monitored("LVM-zero-tpool", deadline);
  ASSERT_TRUE(no_events.ok()) << no_events.error().message;
  EXPECT_EQ(*no_events, MonitorState::kNotMonitored);
}

TEST(DmeventdClient, ADaemonThatNeverAnswersTimesOutAtTheDeadline) {
  FakeDmeventd daemon;
  daemon.start([](const Request&) { return std::string(); });
  DmeventdClient client(daemon.paths());
  auto start = Clock::now();
  auto state = client.monitored(kUuid, start + milliseconds(300));
  auto took = Clock::now() - start;
  ASSERT_FALSE(state.ok());
  EXPECT_TRUE(state.error().is(kDmeventdTimedOut)) << state.error().message;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(800));
  EXPECT_EQ(daemon.requests().size(), 1u);  // the HELLO, unanswered
}

TEST(DmeventdClient, AnotherClientHoldingTheLockTimesOutWithoutWriting) {
  FakeDmeventd daemon;
  daemon.start(like_dmeventd({{kUuid, 0xFF00}}));
  int other = open(daemon.paths().server_fifo.c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_EQ(flock(other, LOCK_EX), 0);
  DmeventdClient client(daemon.paths());
  auto state = client.monitored(kUuid, in(milliseconds(200)));
  close(other);
  ASSERT_FALSE(state.ok());
  EXPECT_TRUE(state.error().is(kDmeventdTimedOut)) << state.error().message;
  EXPECT_TRUE(daemon.requests().empty());
}

TEST(DmeventdClient, GarbageRepliesAreProtocolErrors) {
  const std::vector<std::pair<const char*, FakeDmeventd::Responder>> cases = {
      {"no message id", [](const Request&) { return frame(0, "garbage"); }},
      {"a reply too large",
       [](const Request&) { return std::string("\0\0\0\0\x7f\0\0\0", 8) + "x"; }},
      {"HELLO not echoed", [](const Request& r) { return frame(0, r.id() + " BYE"); }},
      {"an error code",
       [](const Request& r) { return frame(-EINVAL, r.id() + " Invalid argument"); }},
      {"another pool echoed",
       [](const Request& r) {
         return r.cmd == 8 ? frame(0, r.text() + " HELLO 2")
                           : frame(0, r.id() + " libdevmapper-event-lvm2thin.so LVM-other 65280");
       }},
      {"a mask that is no number",
       [](const Request& r) {
         return r.cmd == 8 ? frame(0, r.text() + " HELLO 2")
                           : frame(0, r.id() + " libdevmapper-event-lvm2thin.so " + kUuid + " x");
       }},
  };
  for (const auto& [what, respond] : cases) {
    SCOPED_TRACE(what);
    FakeDmeventd daemon;
    daemon.start(respond);
    DmeventdClient client(daemon.paths());
    auto state = client.monitored(kUuid, in(milliseconds(2000)));
    ASSERT_FALSE(state.ok());
    EXPECT_TRUE(state.error().is(kDmeventdProtocol)) << state.error().message;
  }
}

TEST(DmeventdClient, RepliesToOtherClientsAndLeftoversAreSkipped) {
  FakeDmeventd daemon;
  auto real = like_dmeventd({{kUuid, 0xFF00}});
  daemon.start([&](const Request& r) { return frame(0, "1:99 HELLO HELLO 2") + real(r); });
  daemon.leave_in_server_fifo(frame(-ENOENT, "1:98 No such file or directory"));
  DmeventdClient client(daemon.paths());
  auto state = client.monitored(kUuid, in(milliseconds(2000)));
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(*state, MonitorState::kMonitored);
}

TEST(DmeventdClient, ConcurrentQueriesTakeTurns) {
  FakeDmeventd daemon;
  daemon.start(like_dmeventd({{kUuid, 0xFF00}}));
  DmeventdClient client(daemon.paths());
  std::atomic<int> monitored{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto state = client.monitored(kUuid, in(milliseconds(5000)));
      monitored += state.ok() && *state == MonitorState::kMonitored;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(monitored, 4);
  EXPECT_EQ(daemon.requests().size(), 8u);
}

// Opens of dmeventd-* files that the inotify descriptor `watch_fd` saw.
int fifo_opens(int watch_fd) {
  alignas(inotify_event) char buffer[4096];
  int opens = 0;
  ssize_t n = 0;
  while ((n = read(watch_fd, buffer, sizeof(buffer))) > 0) {
    for (char* p = buffer; p < buffer + n;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      opens += event->len > 0 && std::string(event->name).find("dmeventd-") == 0;
      p += sizeof(inotify_event) + event->len;
    }
  }
  return opens;
}

TEST(DmeventdClient, NoDmeventdMeansNothingIsOpened) {
  FakeDmeventd daemon;
  daemon.make_fifos();
  int watch = inotify_init1(IN_NONBLOCK);
  ASSERT_GE(inotify_add_watch(watch, daemon.dir().c_str(), IN_OPEN), 0);
  DmeventdClient client(daemon.paths());
  auto expect_not_running = [&](const char* what) {
    SCOPED_TRACE(what);
    auto running = client.is_running();
    ASSERT_TRUE(running.ok()) << running.error().message;
    EXPECT_FALSE(*running);
    auto state = client.monitored(kUuid, in(milliseconds(500)));
    ASSERT_FALSE(state.ok());
    EXPECT_TRUE(state.error().is(kDmeventdNotRunning)) << state.error().message;
  };
  expect_not_running("no pid file");
  // A dead process's pid, and no lock: what a killed dmeventd leaves.
  pid_t dead = fork();
  if (dead == 0) {
    _exit(0);
  }
  waitpid(dead, nullptr, 0);
  std::ofstream(daemon.paths().pid_file) << dead << "\n";
  expect_not_running("a dead process's pid");
  // A live process's pid, but nobody holds the lock.
  std::ofstream(daemon.paths().pid_file) << getpid() << "\n";
  expect_not_running("an unlocked pid file");
  {
    LockHolder other(daemon.paths().pid_file, "sleep");
    expect_not_running("another program holding the pid file");
  }
  EXPECT_EQ(fifo_opens(watch), 0);
  close(watch);
}

TEST(DmeventdClient, RunningWhenDmeventdHoldsItsPidFile) {
  FakeDmeventd daemon;
  daemon.make_fifos();
  LockHolder holder(daemon.paths().pid_file, "dmeventd");
  DmeventdClient client(daemon.paths());
  auto running = client.is_running();
  ASSERT_TRUE(running.ok()) << running.error().message;
  EXPECT_TRUE(*running);
  // The file names another pid than the lock holder's: not trusted.
  std::ofstream(daemon.paths().pid_file) << getpid() << "\n";
  running = client.is_running();
  EXPECT_TRUE(running.ok() && !*running);
}

TEST(DmeventdClient, RefusesFifosLvmWouldRefuseAndWhatIsNoUuid) {
  FakeDmeventd daemon;
  daemon.start(like_dmeventd({{kUuid, 0xFF00}}));
  ASSERT_EQ(chmod(daemon.paths().client_fifo.c_str(), 0666), 0);
  DmeventdClient client(daemon.paths());
  for (const char* uuid : {"", "-", "two words", "tab\tin"}) {  // dmeventd splits at blanks
    auto refused = client.monitored(uuid, in(milliseconds(500)));
    EXPECT_TRUE(!refused.ok() && refused.error().is(kDmeventdProtocol)) << uuid;
  }
  auto state = client.monitored(kUuid, in(milliseconds(500)));
  ASSERT_FALSE(state.ok());
  EXPECT_TRUE(state.error().is(kDmeventdPermission)) << state.error().message;

  std::filesystem::remove(daemon.paths().server_fifo);
  std::ofstream(daemon.paths().server_fifo) << "a regular file\n";
  state = client.monitored(kUuid, in(milliseconds(500)));
  ASSERT_FALSE(state.ok());
  EXPECT_TRUE(state.error().is(kDmeventdPermission)) << state.error().message;
  EXPECT_TRUE(daemon.requests().empty());
}

TEST(QueryMonitoring, AsksNothingWhenDmeventdIsNotUp) {
  FakeDmeventdMonitor fake;
  auto status = query_monitoring(fake, {"a", "b"}, in(milliseconds(100)));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(!status->daemon_up && status->monitored.empty());
  EXPECT_TRUE(fake.asked().empty());
}

TEST(QueryMonitoring, AsksEachPoolOnceAndStopsAfterATimeout) {
  FakeDmeventdMonitor fake;
  fake.set_running(true);
  fake.set_answer("a", MonitorState::kMonitored);
  fake.set_answer("b", Error{"dmeventd: no reply: timed out", kDmeventdTimedOut});
  auto status = query_monitoring(fake, {"a", "a", "b", "c"}, in(milliseconds(100)));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->daemon_up);
  EXPECT_EQ(fake.asked(), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(status->monitored.size(), 3u);
  EXPECT_EQ(*status->monitored.at("a"), MonitorState::kMonitored);
  EXPECT_TRUE(status->monitored.at("b").error().is(kDmeventdTimedOut));
  EXPECT_TRUE(status->monitored.at("c").error().is(kDmeventdTimedOut));
}

}  // namespace
}  // namespace thinpool
