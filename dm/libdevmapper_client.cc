// The one file that includes <libdevmapper.h>.
#include "dm/libdevmapper_client.h"

#include <fmt/format.h>
#include <libdevmapper.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <mutex>

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
  return task_type == DM_DEVICE_VERSION ? "version" : "task";
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

LibDevmapperClient::LibDevmapperClient() : LibDevmapperClient(open_control_device()) {}

LibDevmapperClient::LibDevmapperClient(ControlDevice control)
    : ioctl_(std::move(control.ioctl), std::move(control.poll)) {
  std::lock_guard lock(g_libdevmapper_mutex);
  dm_log_with_errno_init(route_libdevmapper_log);
}

LibDevmapperClient::~LibDevmapperClient() {
  std::lock_guard lock(g_libdevmapper_mutex);
  dm_lib_release();
  dm_log_with_errno_init(nullptr);
}

Expected<std::vector<DmDevice>> LibDevmapperClient::list_devices() {
  std::vector<DmDevice> devices;
  Status listed = list_devices_into(devices);
  if (!listed) {
    return listed.error();
  }
  return devices;
}

Status LibDevmapperClient::list_devices_into(std::vector<DmDevice>& devices) {
  Status listed = ioctl_.list_into(devices);
  if (!listed && !listed.error().is(ErrorKind::kPermission)) {
    // Most likely the control device itself: say what is missing rather than an errno.
    if (std::string why = diagnose_control_device(); !why.empty()) {
      return Error{"dm list devices: " + why, ErrorKind::kUnavailable};
    }
  }
  return listed;
}

Expected<DmReport> LibDevmapperClient::status(const DmDevice& device) {
  return ioctl_.table_status(DmIoctl::What::kStatus, device);
}

Expected<DmStatusView> LibDevmapperClient::status_view(const DmDevice& device) {
  return ioctl_.status_view(device);
}

Expected<DmReport> LibDevmapperClient::table(const DmDevice& device) {
  return ioctl_.table_status(DmIoctl::What::kTable, device);
}

Expected<DmInfo> LibDevmapperClient::info(const DmDevice& device) {
  return ioctl_.info(device);
}

Expected<bool> LibDevmapperClient::changed_since_last_call() {
  return ioctl_.changed_since_last_call();
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
