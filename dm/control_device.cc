// The /dev/mapper/control device behind DmIoctl: opened once and kept, and what to say when it
// cannot be (no device-mapper, no node, no privilege).
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include "dm/dm_ioctl.h"

namespace thinpool {

ControlDevice open_control_device() {
  // Shared by the copies of the functions; closed when the last one goes.
  struct Control {
    std::mutex mutex;
    int fd = -1;
    ~Control() {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    // The descriptor, opened on first use; a failed open is tried again on the next call.
    int get() {
      std::lock_guard lock(mutex);
      if (fd < 0) {
        fd = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
          return -errno;
        }
      }
      return fd;
    }
  };
  auto control = std::make_shared<Control>();
  return ControlDevice{[control](unsigned long request, void* buffer) {
                         const int fd = control->get();
                         if (fd < 0) {
                           return fd;
                         }
                         return ::ioctl(fd, request, buffer) == 0 ? 0 : -errno;
                       },
                       [control] {
                         const int fd = control->get();
                         if (fd < 0) {
                           return fd;
                         }
                         pollfd wanted{fd, POLLIN, 0};
                         const int ready = ::poll(&wanted, 1, 0);
                         if (ready < 0) {
                           return -errno;
                         }
                         return ready > 0 && (wanted.revents & POLLIN) != 0 ? 1 : 0;
                       }};
}

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

}  // namespace thinpool
