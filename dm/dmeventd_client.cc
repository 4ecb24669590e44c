// dmeventd's FIFO protocol as lvm2 2.03.16 speaks it (daemons/dmeventd/dmeventd.h,
// libdevmapper-event.c for the client, dmeventd.c for the daemon):
//
// - dmeventd reads requests from the client FIFO and writes replies into the server FIFO, one
//   request at a time. A client opens the server FIFO O_RDWR, takes an exclusive flock on it (the
//   lock that serialises all clients), opens the client FIFO O_RDWR | O_NONBLOCK (init_fifos),
//   and before each request drains what an earlier client left in the server FIFO.
// - A message is {uint32 cmd, uint32 size, size bytes of data}, both numbers in network byte
//   order; the data is text with its terminating NUL counted in size (dm_asprintf).
// - A request's data starts with an id "<pid>:<sequence>" that the reply repeats; a reply with
//   another id is left over from an earlier client and skipped (_check_message_id).
// - DM_EVENT_CMD_HELLO (8), data "<id> HELLO": the reply is cmd 0, "<id> HELLO HELLO <protocol>".
// - DM_EVENT_CMD_GET_REGISTERED_DEVICE (4), data "<id> <dso> <uuid> <event mask> <timeout>":
//   cmd 0 with "<id> <dso> <uuid> <event mask>" when that dso watches that uuid; cmd -ENOENT
//   (sent as uint32) with "<id> <strerror>" when not. lvm2 asks with DM_EVENT_ALL_ERRORS and
//   timeout 0 (target_registered_with_dmeventd in lib/activate/activate.c) and reads a mask with
//   DM_EVENT_REGISTRATION_PENDING as "pending", another non-zero mask as "monitored".
#include "dm/dmeventd_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

namespace thinpool {
namespace {

constexpr uint32_t kCmdGetRegisteredDevice = 4;
constexpr uint32_t kCmdHello = 8;
constexpr uint32_t kEventAllErrors = 0xFF00;               // DM_EVENT_ALL_ERRORS
constexpr uint32_t kEventRegistrationPending = 0x1000000;  // DM_EVENT_REGISTRATION_PENDING
constexpr int32_t kReplyNotRegistered = -ENOENT;
// dmeventd's replies here are a few dozen bytes; anything far larger is not its protocol.
constexpr uint32_t kMaxReplySize = 4096;
// Replies with another client's id skipped before giving up on a session.
constexpr int kMaxStaleReplies = 64;
// A dm uuid is at most DM_UUID_LEN - 1 bytes.
constexpr size_t kMaxUuidLength = 128;

// A file descriptor closed when it goes.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int value) : fd(value) {}
  ~Fd() {
    if (fd >= 0) {
      close(fd);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// EACCES, EPERM: kDmeventdPermission; every other errno kIo (kFailed is kept for timeouts).
Error errno_error(int error, std::string_view what) {
  bool denied = error == EACCES || error == EPERM;
  return Error{fmt::format("dmeventd: {}: {}", what, std::strerror(error)),
               denied ? kDmeventdPermission : ErrorKind::kIo};
}

Error timed_out(std::string_view what) {
  return Error{fmt::format("dmeventd: {}: timed out", what), kDmeventdTimedOut};
}

Error protocol_error(std::string_view what) {
  return Error{fmt::format("dmeventd: {}", what), kDmeventdProtocol};
}

// Milliseconds left until the deadline, rounded up; 0 once it passed.
int remaining_ms(DmeventdDeadline deadline) {
  auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) {
    return 0;
  }
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

// Reads a small file whole (a pid file, /proc/PID/comm); nullopt when it does not exist.
Expected<std::optional<std::string>> read_small_file(const std::string& path, int fd_in = -1) {
  Fd fd(fd_in >= 0 ? fd_in : open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.fd < 0) {
    if (errno == ENOENT || errno == ESRCH) {
      return std::optional<std::string>();
    }
    return errno_error(errno, fmt::format("open {}", path));
  }
  char buffer[64];
  ssize_t n = -1;
  do {
    n = pread(fd.fd, buffer, sizeof(buffer), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno_error(errno, fmt::format("read {}", path));
  }
  std::string text(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) {
    text.pop_back();
  }
  return std::optional<std::string>(std::move(text));
}

// Opens one of dmeventd's FIFOs read-write (a FIFO opened so never blocks and never fails for
// want of a reader) and checks that it is what lvm2's client accepts: a FIFO owned by root (or by
// this user, for tests), no permissions for group or others.
Status open_fifo(const std::string& path, Fd& out) {
  out.fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (out.fd < 0) {
    if (errno == ENOENT) {
      return Error{fmt::format("dmeventd: {} does not exist", path), kDmeventdNotRunning};
    }
    if (errno == ELOOP) {
      return Error{fmt::format("dmeventd: {} is a symbolic link", path), kDmeventdPermission};
    }
    return errno_error(errno, fmt::format("open {}", path));
  }
  struct stat st {};
  if (fstat(out.fd, &st) != 0) {
    return errno_error(errno, fmt::format("fstat {}", path));
  }
  if (!S_ISFIFO(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
      (st.st_mode & (S_IXUSR | S_IRWXG | S_IRWXO)) != 0) {
    return Error{fmt::format("dmeventd: {} is not a FIFO of root with mode 0600", path),
                 kDmeventdPermission};
  }
  return {};
}

// Writes (`out`) or reads exactly `size` bytes on a non-blocking FIFO, polling in between, until
// the deadline.
Status transfer(int fd, bool out, char* buffer, size_t size, DmeventdDeadline deadline,
                const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = out ? write(fd, buffer + done, size - done) : read(fd, buffer + done, size - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return errno_error(errno, fmt::format("{} {}", out ? "write" : "read", path));
    }
    int ms = remaining_ms(deadline);
    if (ms == 0) {
      return timed_out(out ? fmt::format("writing to {}", path) : std::string("no reply"));
    }
    pollfd p{fd, static_cast<short>(out ? POLLOUT : POLLIN), 0};
    if (poll(&p, 1, ms) < 0 && errno != EINTR) {
      return errno_error(errno, "poll");
    }
  }
  return {};
}

bool is_message_id(std::string_view id) {
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  auto colon = id.find(':');
  return colon != std::string_view::npos && digits(id.substr(0, colon)) &&
         digits(id.substr(colon + 1));
}

// One client's turn with dmeventd: the server FIFO locked, the client FIFO open.
class Session {
 public:
  using Reply = std::pair<int32_t, std::string>;  // cmd (0 or -errno), text

  Session(const DmeventdPaths& paths, uint32_t pid, std::atomic<uint32_t>& sequence)
      : paths_(paths), pid_(pid), sequence_(sequence) {}

  Status open(DmeventdDeadline deadline) {
    if (Status opened = open_fifo(paths_.server_fifo, server_); !opened) {
      return opened;
    }
    // flock with LOCK_NB, retried until the deadline: a client that hangs holding the lock must
    // not hold us past it.
    while (flock(server_.fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return errno_error(errno, fmt::format("flock {}", paths_.server_fifo));
      }
      int ms = remaining_ms(deadline);
      if (ms == 0) {
        return timed_out(fmt::format("lock on {} held by another client", paths_.server_fifo));
      }
      poll(nullptr, 0, std::min(ms, 5));
    }
    return open_fifo(paths_.client_fifo, client_);
  }

  // Sends one request and returns the reply that carries its id, without the id.
  Expected<Reply> talk(uint32_t cmd, std::string_view args, DmeventdDeadline deadline) {
    std::string id = fmt::format("{}:{}", pid_, sequence_.fetch_add(1));
    drain();
    std::string text = fmt::format("{} {}", id, args);
    uint32_t header[2] = {htonl(cmd), htonl(static_cast<uint32_t>(text.size() + 1))};
    std::string bytes(reinterpret_cast<const char*>(header), sizeof(header));
    bytes.append(text).push_back('\0');
    if (Status sent =
            transfer(client_.fd, true, bytes.data(), bytes.size(), deadline, paths_.client_fifo);
        !sent) {
      return sent.error();
    }
    for (int stale = 0; stale <= kMaxStaleReplies; ++stale) {
      auto reply = receive(deadline);
      if (!reply) {
        return reply.error();
      }
      std::string_view data = reply->second;
      std::string_view reply_id = data.substr(0, data.find(' '));
      if (!is_message_id(reply_id)) {
        return protocol_error(fmt::format("reply without a message id: \"{}\"", data));
      }
      if (reply_id == id) {
        data.remove_prefix(std::min(data.size(), id.size() + 1));
        return Reply(reply->first, std::string(data));
      }
    }
    return protocol_error("only replies to other clients' requests");
  }

 private:
  // Drops what an earlier client left unread (a reply that came after it gave up).
  void drain() {
    char buffer[512];
    ssize_t n = 0;
    while ((n = read(server_.fd, buffer, sizeof(buffer))) > 0 || (n < 0 && errno == EINTR)) {
    }
  }

  Expected<Reply> receive(DmeventdDeadline deadline) {
    uint32_t header[2] = {0, 0};
    if (Status read = transfer(server_.fd, false, reinterpret_cast<char*>(header), sizeof(header),
                               deadline, paths_.server_fifo);
        !read) {
      return read.error();
    }
    uint32_t size = ntohl(header[1]);
    if (size > kMaxReplySize) {
      return protocol_error(fmt::format("reply of {} bytes", size));
    }
    std::string data(size, '\0');
    if (Status read = transfer(server_.fd, false, data.data(), size, deadline, paths_.server_fifo);
        !read) {
      return read.error();
    }
    while (!data.empty() && data.back() == '\0') {
      data.pop_back();
    }
    if (data.find('\0') != std::string::npos) {
      return protocol_error("reply with a NUL inside its text");
    }
    return Reply(static_cast<int32_t>(ntohl(header[0])), std::move(data));
  }

  const DmeventdPaths& paths_;
  uint32_t pid_;
  std::atomic<uint32_t>& sequence_;
  // Closing the server FIFO's descriptor releases the flock; members go in reverse order, so the
  // client FIFO's closes first.
  Fd server_;
  Fd client_;
};

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(' ', start), text.size());
    words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool valid_uuid(std::string_view uuid) {
  // dmeventd splits its request at spaces and reads "-" as an empty field.
  return !uuid.empty() && uuid != "-" && uuid.size() <= kMaxUuidLength &&
         std::all_of(uuid.begin(), uuid.end(),
                     [](char c) { return static_cast<unsigned char>(c) > ' ' && c != 0x7f; });
}

}  // namespace

std::string_view monitor_state_name(MonitorState state) {
  switch (state) {
    case MonitorState::kMonitored:
      return "monitored";
    case MonitorState::kNotMonitored:
      return "not monitored";
    case MonitorState::kPending:
      return "pending";
  }
  return "?";
}

DmeventdClient::DmeventdClient(DmeventdPaths paths) : paths_(std::move(paths)) {}

Expected<bool> DmeventdClient::is_running() {
  int fd = open(paths_.pid_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return false;
    }
    return errno_error(errno, fmt::format("open {}", paths_.pid_file));
  }
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  int locked = fcntl(fd, F_GETLK, &lock);
  int lock_errno = errno;
  auto text = read_small_file(paths_.pid_file, fd);  // closes fd
  if (locked != 0) {
    return errno_error(lock_errno, fmt::format("F_GETLK on {}", paths_.pid_file));
  }
  if (!text) {
    return text.error();
  }
  if (lock.l_type == F_UNLCK) {
    return false;  // no process holds it: a dmeventd that was killed left it behind
  }
  if (lock.l_pid <= 0) {
    return true;  // held from another pid namespace: a live dmeventd we cannot see in /proc
  }
  uint32_t pid = 0;
  if (!text->has_value() || !parse_number(**text, pid) ||
      pid != static_cast<uint32_t>(lock.l_pid)) {
    return false;  // the lock holder is not the process the file names
  }
  auto comm = read_small_file(fmt::format("/proc/{}/comm", pid));
  if (!comm) {
    return comm.error();
  }
  return comm->has_value() && **comm == "dmeventd";
}

Expected<MonitorState> DmeventdClient::monitored(std::string_view dm_uuid,
                                                 DmeventdDeadline deadline) {
  if (!valid_uuid(dm_uuid)) {
    return protocol_error(fmt::format("\"{}\" is not a device-mapper uuid", dm_uuid));
  }
  auto running = is_running();
  if (!running) {
    return running.error();
  }
  if (!*running) {
    return Error{"dmeventd is not running (nothing asked)", kDmeventdNotRunning};
  }
  Session session(paths_, static_cast<uint32_t>(getpid()), sequence_);
  if (Status opened = session.open(deadline); !opened) {
    return opened.error();
  }
  auto hello = session.talk(kCmdHello, "HELLO", deadline);
  if (!hello) {
    return hello.error();
  }
  auto words = split_words(hello->second);
  uint32_t version = 0;
  if (hello->first != 0 || words.size() != 3 || words[0] != "HELLO" || words[1] != "HELLO" ||
      !parse_number(words[2], version)) {
    return protocol_error(fmt::format("HELLO answered {} \"{}\"", hello->first, hello->second));
  }
  auto reply = session.talk(kCmdGetRegisteredDevice,
                            fmt::format("{} {} {} 0", kLvmThinPluginName, dm_uuid, kEventAllErrors),
                            deadline);
  if (!reply) {
    return reply.error();
  }
  if (reply->first == kReplyNotRegistered) {
    return MonitorState::kNotMonitored;
  }
  words = split_words(reply->second);
  uint32_t mask = 0;
  if (reply->first != 0 || words.size() != 3 || words[0] != kLvmThinPluginName ||
      words[1] != dm_uuid || !parse_number(words[2], mask)) {
    return protocol_error(fmt::format("GET_REGISTERED_DEVICE {} answered {} \"{}\"", dm_uuid,
                                      reply->first, reply->second));
  }
  if ((mask & kEventRegistrationPending) != 0) {
    return MonitorState::kPending;
  }
  return mask != 0 ? MonitorState::kMonitored : MonitorState::kNotMonitored;
}

Expected<MonitorStatus> query_monitoring(DmeventdMonitor& monitor,
                                         const std::vector<std::string>& dm_uuids,
                                         DmeventdDeadline deadline) {
  auto running = monitor.is_running();
  if (!running) {
    return running.error();
  }
  MonitorStatus status;
  status.daemon_up = *running;
  if (!status.daemon_up) {
    return status;
  }
  std::optional<Error> timeout;
  for (const std::string& uuid : dm_uuids) {
    if (status.monitored.count(uuid) != 0) {
      continue;
    }
    if (timeout) {
      status.monitored.emplace(uuid, *timeout);
      continue;
    }
    auto state = monitor.monitored(uuid, deadline);
    if (!state && state.error().is(kDmeventdTimedOut)) {
      timeout = state.error();
    }
    status.monitored.emplace(uuid, std::move(state));
  }
  return status;
}

Expected<MonitorState> FakeDmeventdMonitor::monitored(std::string_view dm_uuid,
                                                      DmeventdDeadline /*deadline*/) {
  asked_.emplace_back(dm_uuid);
  auto running = is_running();
  if (!running) {
    return running.error();
  }
  if (!*running) {
    return Error{"dmeventd is not running (nothing asked)", kDmeventdNotRunning};
  }
  auto answer = answers_.find(std::string(dm_uuid));
  return answer == answers_.end() ? Expected<MonitorState>(MonitorState::kNotMonitored)
                                  : answer->second;
}

}  // namespace thinpool
