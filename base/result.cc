#include "base/result.h"

#include <cerrno>

namespace thinpool {

Error Error::from_errno(int errno_value, std::string message) {
  ErrorKind kind = ErrorKind::kFailed;
  switch (errno_value) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
      kind = ErrorKind::kGone;
      break;
    case EACCES:
    case EPERM:
      kind = ErrorKind::kPermission;
      break;
    case EIO:
    case ENOSPC:
    case EROFS:
    case ETIMEDOUT:
    case ENOMEDIUM:
    case EREMOTEIO:
      kind = ErrorKind::kIo;
      break;
    default:
      break;
  }
  return Error{std::move(message), kind};
}

}  // namespace thinpool
