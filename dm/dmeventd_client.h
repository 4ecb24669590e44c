// Is dmeventd watching a thin pool? The question `lvs -o seg_monitor` answers ("monitored", "not
// monitored", "pending"), asked of a running dmeventd directly, read-only and with a deadline.
//
// lvm2's own client (libdevmapper-event) starts dmeventd when it cannot reach it, and under
// systemd a write to dmeventd's FIFO socket-activates it. This client starts nothing, registers
// and unregisters nothing: it first decides from dmeventd's pid file, without touching a FIFO,
// whether a dmeventd process runs, and only then asks it. The protocol is lvm2 2.03's
// (daemons/dmeventd/dmeventd.h, libdevmapper-event.c, dmeventd.c): see dmeventd_client.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace thinpool {

using DmeventdDeadline = std::chrono::steady_clock::time_point;

// What dmeventd says about a pool, in lvs's words (lvm2's lvseg_monitor_dup).
enum class MonitorState {
  kMonitored,     // registered with the thin plugin and its event mask is not empty
  kNotMonitored,  // dmeventd runs and does not watch the pool (or watches it with no events)
  kPending,       // its monitoring thread is being set up or torn down
};
// "monitored", "not monitored", "pending": what lvs prints.
std::string_view monitor_state_name(MonitorState state);

// The error kinds of a query, so that callers branch on them, not on the message:
// dmeventd does not run (nothing was asked), or its FIFOs are gone;
inline constexpr ErrorKind kDmeventdNotRunning = ErrorKind::kUnavailable;
// the pid file or a FIFO may not be opened, or a FIFO is not a FIFO of root (or of this user)
// with mode 0600 (lvm2's own client refuses those too);
inline constexpr ErrorKind kDmeventdPermission = ErrorKind::kPermission;
// the deadline passed: another client held the lock, or dmeventd did not answer in time;
inline constexpr ErrorKind kDmeventdTimedOut = ErrorKind::kFailed;
// a reply that is not dmeventd's protocol, an error code other than "not registered", or a uuid
// the protocol cannot carry (empty, "-", with blanks);
inline constexpr ErrorKind kDmeventdProtocol = ErrorKind::kParse;
// any other failing system call: ErrorKind::kIo.

// The seam: DmeventdClient asks the real dmeventd, FakeDmeventdMonitor answers from a table.
class DmeventdMonitor {
 public:
  virtual ~DmeventdMonitor() = default;

  // Whether a dmeventd process runs. Opens its pid file only, never a FIFO.
  virtual Expected<bool> is_running() = 0;

  // Whether dmeventd watches the pool whose thin-pool target is the device-mapper device with
  // this uuid (an LVM pool's is "LVM-<vg uuid><lv uuid>-tpool", what lvm2 registers), with
  // lvm2's thin plugin. Checks is_running() first and asks nothing when it is false. Returns by
  // `deadline`, whatever dmeventd does.
  virtual Expected<MonitorState> monitored(std::string_view dm_uuid, DmeventdDeadline deadline) = 0;
};

// Where lvm2 2.03 (Debian 12) keeps them: DMEVENTD_PIDFILE and DEFAULT_DM_RUN_DIR in configure.ac,
// DM_EVENT_FIFO_CLIENT and DM_EVENT_FIFO_SERVER in dmeventd.h.
struct DmeventdPaths {
  std::string pid_file = "/run/dmeventd.pid";
  std::string client_fifo = "/run/dmeventd-client";  // requests go in here
  std::string server_fifo = "/run/dmeventd-server";  // replies come out of here
};

// The name of lvm2's thin plugin as lvm2 registers pools with it (DEFAULT_DMEVENTD_THIN_LIB).
inline constexpr std::string_view kLvmThinPluginName = "libdevmapper-event-lvm2thin.so";

// Speaks dmeventd's FIFO protocol itself. Every file is opened non-blocking and every wait is a
// poll bounded by the deadline. Concurrent queries (threads or processes) are serialised as
// lvm2's clients are, by an exclusive flock on the server FIFO. Thread-safe.
class DmeventdClient : public DmeventdMonitor {
 public:
  explicit DmeventdClient(DmeventdPaths paths = {});

  // True when the pid file's lock (lvm2's dm_create_lockfile holds a write lock on it for the
  // daemon's life) is held by a process whose pid the file names and whose /proc/PID/comm is
  // "dmeventd", or, when the holder is in another pid namespace (F_GETLK says 0), by anyone.
  // False when the file is missing, nobody holds its lock (a dmeventd that was killed), or the
  // holder is another program. Opens the pid file read-only and /proc/PID/comm.
  Expected<bool> is_running() override;

  // One session: is_running(); lock the server FIFO; HELLO; GET_REGISTERED_DEVICE for the thin
  // plugin and `dm_uuid`; unlock.
  Expected<MonitorState> monitored(std::string_view dm_uuid, DmeventdDeadline deadline) override;

 private:
  DmeventdPaths paths_;
  std::atomic<uint32_t> sequence_{0};  // the second half of each message's "pid:sequence" id
};

// The monitoring of several pools at one moment.
struct MonitorStatus {
  bool daemon_up = false;
  // Per dm uuid, only when daemon_up.
  std::map<std::string, Expected<MonitorState>> monitored;
};

// is_running() once; when dmeventd runs, monitored() at most once per uuid. Once a query timed
// out, the remaining uuids get that error without being asked (dmeventd is not answering).
Expected<MonitorStatus> query_monitoring(DmeventdMonitor& monitor,
                                         const std::vector<std::string>& dm_uuids,
                                         DmeventdDeadline deadline);

// For tests: answers from a table and records what was asked.
class FakeDmeventdMonitor : public DmeventdMonitor {
 public:
  // Not running unless set; a uuid without an answer is not monitored.
  void set_running(Expected<bool> running) { running_ = std::move(running); }
  void set_answer(const std::string& dm_uuid, Expected<MonitorState> answer) {
    answers_.insert_or_assign(dm_uuid, std::move(answer));
  }
  const std::vector<std::string>& asked() const { return asked_; }

  Expected<bool> is_running() override { return running_; }
  Expected<MonitorState> monitored(std::string_view dm_uuid, DmeventdDeadline deadline) override;

 private:
  Expected<bool> running_ = false;
  std::map<std::string, Expected<MonitorState>> answers_;
  std::vector<std::string> asked_;
};

}  // namespace thinpool
