// Least privilege at run time. The exporter needs root only for one thing: every device-mapper
// ioctl checks CAP_SYS_ADMIN. After start-up it keeps that capability alone, makes sure nothing
// it might execute could gain privileges again (no_new_privs), and can put itself under a seccomp
// filter that refuses what it never does (exec, new processes, mounts, module loading, writing or
// creating files, ptrace, raw sockets, ...).
#pragma once

#include <string>

#include "base/result.h"

namespace thinpool {

struct PrivilegeOptions {
  // Keep CAP_SYS_ADMIN (false in --devmapper.fixtures runs, which read no kernel state).
  bool keep_sys_admin = true;
  // Keep CAP_NET_BIND_SERVICE, for a listen port below 1024 that is bound after the drop.
  bool keep_net_bind_service = false;
};

// Reduces the permitted, effective and bounding capability sets to the ones `options` keeps (if
// held at all), clears the inheritable and ambient sets and sets no_new_privs. Capabilities
// belong to threads, and a thread inherits its creator's: call this before any thread starts.
// Returns a one-line summary for the log.
Expected<std::string> drop_privileges(const PrivilegeOptions& options);

// Installs the seccomp filter on every thread of the process (TSYNC). A refused call fails with
// EPERM (ENOSYS for clone3 and openat2, so that glibc falls back to clone and openat, which the
// filter can inspect). Needs no_new_privs (set by drop_privileges) or CAP_SYS_ADMIN.
// Returns a one-line summary for the log.
Expected<std::string> install_seccomp_filter();

struct Options;

// Does what --security.drop-privileges and --security.seccomp ask for and logs each step. Keeps
// CAP_SYS_ADMIN unless --devmapper.fixtures is given, and CAP_NET_BIND_SERVICE for a listen port
// below 1024. Call before any thread starts.
Status apply_security_flags(const Options& options);

}  // namespace thinpool
