// The one file that includes <libdevmapper.h>.
#include "dm/libdevmapper_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libdevmapper.h>
#include <spdlog/spdlog.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <fstream>
#include <memory>

namespace thinpool {
namespace {

// libdevmapper has global state and no locks of its own.
std::mutex g_libdevmapper_mutex;
// The last error libdevmapper logged; written and read under g_libdevmapper_mutex.
std::string g_last_library_error;

constexpr int kLibLogLevelMask = 0x0f;  // drops _LOG_STDERR / _LOG_ONCE flag bits
constexpr int kLibLogError = 3;         // _LOG_ERR
constexpr int kLibLogWarn = 4;          // _LOG_WARN

extern "C" void route_libdevmapper_log(int level, const char* file, int line, int /*dm_errno*/,
                                       const char* format, ...) {
  int severity = level & kLibLogLevelMask;
  // libdevmapper logs every ioctl at debug level; formatting that for nobody was a visible part
  // of a scrape's per-device cost in the VM benchmark (BENCHMARKS.md).
  if (severity > kLibLogWarn && !spdlog::should_log(spdlog::level::trace)) {
    return;
  }
  char buffer[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  if (severity <= kLibLogError) {
    g_last_library_error = buffer;
  }
  if (severity <= kLibLogWarn) {
    spdlog::debug("libdevmapper {}:{}: {}", file, line, buffer);
  } else {
    spdlog::trace("libdevmapper {}:{}: {}", file, line, buffer);
  }
}

struct TaskDeleter {
  void operator()(dm_task* task) const { dm_task_destroy(task); }
};
using Task = std::unique_ptr<dm_task, TaskDeleter>;

const char* task_name(int task_type) {
  switch (task_type) {
    case DM_DEVICE_LIST:
      return "list";
    case DM_DEVICE_VERSION:
      return "version";
    default:
      return "task";
  }
}

// dm_task_create() returns NULL when the control device cannot be opened (it asks the driver
// for its version first).
Error create_failed(int task_type) {
  std::string detail = diagnose_control_device();
  if (detail.empty()) {
    detail = g_last_library_error.empty() ? "libdevmapper could not create the task"
                                          : g_last_library_error;
  }
  return Error{fmt::format("dm {}: {}", task_name(task_type), detail), ErrorKind::kUnavailable};
}

Error run_failed(int task_type, const std::string& what, dm_task* task) {
  int err = dm_task_get_errno(task);
  std::string reason = err != 0 ? std::strerror(err) : g_last_library_error;
  if (err == EACCES || err == EPERM) {
    reason += " (device-mapper ioctls need CAP_SYS_ADMIN: run as root or grant the capability)";
  }
  return Error::from_errno(err, fmt::format("dm {} {}: {}", task_name(task_type), what, reason));
}

}  // namespace

std::string diagnose_control_device() {
  bool in_kernel = false;
  std::ifstream misc("/proc/misc");
  std::string line;
  while (std::getline(misc, line)) {
    if (line.find("device-mapper") != std::string::npos) {
      in_kernel = true;
    }
  }
  int fd = ::open("/dev/mapper/control", O_RDONLY | O_CLOEXEC);
  int open_errno = errno;
  if (fd >= 0) {
    ::close(fd);
    return in_kernel ? "" : "device-mapper is not in /proc/misc";
  }
  if (open_errno == EACCES || open_errno == EPERM) {
    return "open /dev/mapper/control: permission denied (the exporter needs root or "
           "CAP_SYS_ADMIN, and read access to the node)";
  }
  if (!in_kernel) {
    return fmt::format(
        "the kernel has no device-mapper (no device-mapper in /proc/misc; load it with "
        "`modprobe dm_mod`), open /dev/mapper/control: {}",
        std::strerror(open_errno));
  }
  if (open_errno == ENOENT) {
    return "/dev/mapper/control does not exist although the kernel has device-mapper (create it "
           "with `dmsetup mknodes`, or bind-mount the host's /dev/mapper/control into the "
           "container)";
  }
  return fmt::format("open /dev/mapper/control: {}", std::strerror(open_errno));
}

LibDevmapperClient::LibDevmapperClient() : LibDevmapperClient(control_device_ioctl()) {}

LibDevmapperClient::LibDevmapperClient(DmTableStatusIoctl::Ioctl table_status_ioctl)
    : table_status_(std::move(table_status_ioctl)) {
  std::lock_guard lock(g_libdevmapper_mutex);
  dm_log_with_errno_init(route_libdevmapper_log);
}

LibDevmapperClient::~LibDevmapperClient() {
  std::lock_guard lock(g_libdevmapper_mutex);
  dm_lib_release();
  dm_log_with_errno_init(nullptr);
}

Expected<std::vector<DmDevice>> LibDevmapperClient::list_devices() {
  std::lock_guard lock(g_libdevmapper_mutex);
  g_last_library_error.clear();
  Task task(dm_task_create(DM_DEVICE_LIST));
  if (!task) {
    return create_failed(DM_DEVICE_LIST);
  }
  if (dm_task_run(task.get()) == 0) {
    return run_failed(DM_DEVICE_LIST, "devices", task.get());
  }
  std::vector<DmDevice> devices;
  dm_names* names = dm_task_get_names(task.get());
  if (names == nullptr || names->dev == 0) {
    return devices;
  }
  for (;;) {
    devices.push_back(DmDevice{
        names->name,
        {static_cast<uint32_t>(major(names->dev)), static_cast<uint32_t>(minor(names->dev))}});
    if (names->next == 0) {
      break;
    }
    names = reinterpret_cast<dm_names*>(reinterpret_cast<char*>(names) + names->next);
  }
  return devices;
}

Expected<DmReport> LibDevmapperClient::status(const DmDevice& device) {
  return table_status_.run(DmTableStatusIoctl::What::kStatus, device);
}

Expected<DmReport> LibDevmapperClient::table(const DmDevice& device) {
  return table_status_.run(DmTableStatusIoctl::What::kTable, device);
}

std::string libdevmapper_library_version() {
  std::lock_guard lock(g_libdevmapper_mutex);
  char buffer[128] = {};
  return dm_get_library_version(buffer, sizeof(buffer)) != 0 ? std::string(buffer) : "unknown";
}

Expected<DmVersions> LibDevmapperClient::versions() {
  std::lock_guard lock(g_libdevmapper_mutex);
  g_last_library_error.clear();
  DmVersions versions;
  char buffer[128] = {};
  if (dm_get_library_version(buffer, sizeof(buffer)) != 0) {
    versions.library = buffer;
  }
  Task task(dm_task_create(DM_DEVICE_VERSION));
  if (!task) {
    return create_failed(DM_DEVICE_VERSION);
  }
  if (dm_task_run(task.get()) == 0) {
    return run_failed(DM_DEVICE_VERSION, "driver", task.get());
  }
  if (dm_task_get_driver_version(task.get(), buffer, sizeof(buffer)) != 0) {
    versions.driver = buffer;
  }
  return versions;
}

}  // namespace thinpool
