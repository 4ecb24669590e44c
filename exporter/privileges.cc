#include "exporter/privileges.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <seccomp.h>
#include <spdlog/spdlog.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "exporter/flags.h"

namespace thinpool {
namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
struct FilterRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

std::string errno_text(int error) {
  return std::strerror(error);
}

// What the exporter never does once it serves: refused with EPERM.
constexpr const char* kForbiddenSyscalls[] = {
    // running other programs, or new processes (threads are clone with CLONE_THREAD, below)
    "execve",
    "execveat",
    "fork",
    "vfork",
    // other processes' memory and debugging
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    // mounts, namespaces, root changes
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    // the kernel itself
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "iopl",
    "ioperm",
    "syslog",
    "lookup_dcookie",
    // clocks and host identity
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    // keys
    "keyctl",
    "add_key",
    "request_key",
    // identity and capability changes (dropped already; nothing may take them back)
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    // changing the file system: the exporter only reads files (and opens /dev/mapper/control)
    "creat",
    "mknod",
    "mknodat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "truncate",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "io_uring_setup",
};

// Open flags that write or create; O_RDWR stays allowed because libdevmapper opens
// /dev/mapper/control read-write (lazily, possibly after start-up), and dm/dmeventd_client opens
// dmeventd's FIFOs read-write as lvm2's client does (a FIFO opened so never blocks, and an
// O_WRONLY open would need this filter to allow O_WRONLY).
constexpr unsigned long long kWriteOpenFlags[] = {O_WRONLY, O_CREAT, O_TRUNC, O_APPEND, O_TMPFILE};

// Socket families the exporter uses: local (glibc's nscd lookups), IPv4, IPv6, netlink
// (getaddrinfo's interface checks). Everything else (packet, raw-ish families, ...) is refused.
constexpr int kAllowedSocketFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

struct Rule {
  uint32_t action;
  const char* syscall;
  std::vector<scmp_arg_cmp> args;
};

// SCMP_A0() and friends are C compound literals; this is the C++ spelling.
scmp_arg_cmp arg(unsigned int index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  return scmp_arg_cmp{index, op, a, b};
}

std::vector<Rule> filter_rules() {
  const uint32_t refuse = SCMP_ACT_ERRNO(EPERM);
  std::vector<Rule> rules;
  for (const char* name : kForbiddenSyscalls) {
    rules.push_back({refuse, name, {}});
  }
  // New processes: clone without CLONE_THREAD. clone3 passes its flags in memory that seccomp
  // cannot read, so it gets ENOSYS and glibc falls back to clone.
  rules.push_back({refuse, "clone", {arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)}});
  rules.push_back({SCMP_ACT_ERRNO(ENOSYS), "clone3", {}});
  // Opening for writing or creating; openat2 keeps its flags in memory too.
  for (unsigned long long flag : kWriteOpenFlags) {
    rules.push_back({refuse, "open", {arg(1, SCMP_CMP_MASKED_EQ, flag, flag)}});
    rules.push_back({refuse, "openat", {arg(2, SCMP_CMP_MASKED_EQ, flag, flag)}});
  }
  rules.push_back({SCMP_ACT_ERRNO(ENOSYS), "openat2", {}});
  // Sockets of other families: every family number between and above the allowed ones.
  scmp_datum_t next = 0;
  for (int allowed : kAllowedSocketFamilies) {
    for (; next < static_cast<scmp_datum_t>(allowed); ++next) {
      rules.push_back({refuse, "socket", {arg(0, SCMP_CMP_EQ, next)}});
    }
    next = static_cast<scmp_datum_t>(allowed) + 1;
  }
  rules.push_back({refuse, "socket", {arg(0, SCMP_CMP_GE, next)}});
  return rules;
}

Status add_rules(scmp_filter_ctx ctx, const std::vector<Rule>& rules) {
  for (const Rule& rule : rules) {
    int nr = seccomp_syscall_resolve_name(rule.syscall);
    if (nr == __NR_SCMP_ERROR) {
      continue;  // not a system call on this architecture (e.g. open on arm64)
    }
    int rc = seccomp_rule_add_array(ctx, rule.action, nr, static_cast<unsigned>(rule.args.size()),
                                    rule.args.empty() ? nullptr : rule.args.data());
    if (rc != 0) {
      return Error::from_errno(
          -rc, fmt::format("seccomp rule for {}: {}", rule.syscall, errno_text(-rc)));
    }
  }
  return {};
}

}  // namespace

Expected<std::string> drop_privileges(const PrivilegeOptions& options) {
  std::unique_ptr<_cap_struct, CapFree> current(cap_get_proc());
  if (!current) {
    return Error::from_errno(errno, fmt::format("cap_get_proc: {}", errno_text(errno)));
  }
  std::vector<cap_value_t> keep;
  auto keep_if_held = [&](cap_value_t cap, bool wanted) {
    cap_flag_value_t held = CAP_CLEAR;
    if (wanted && cap_get_flag(current.get(), cap, CAP_PERMITTED, &held) == 0 && held == CAP_SET) {
      keep.push_back(cap);
    }
  };
  keep_if_held(CAP_SYS_ADMIN, options.keep_sys_admin);
  keep_if_held(CAP_NET_BIND_SERVICE, options.keep_net_bind_service);
  auto kept = [&](cap_value_t cap) {
    return std::find(keep.begin(), keep.end(), cap) != keep.end();
  };

  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes next.
  cap_flag_value_t setpcap = CAP_CLEAR;
  cap_get_flag(current.get(), CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
  int dropped_bounding = 0;
  bool bounding_complete = true;
  for (cap_value_t cap = 0; cap < cap_max_bits(); ++cap) {
    if (kept(cap) || cap_get_bound(cap) != 1) {
      continue;
    }
    if (setpcap == CAP_SET && cap_drop_bound(cap) == 0) {
      ++dropped_bounding;
    } else {
      bounding_complete = false;
    }
  }
  if (cap_reset_ambient() != 0 && errno != EINVAL) {
    return Error::from_errno(
        errno, fmt::format("clearing the ambient capabilities: {}", errno_text(errno)));
  }
  std::unique_ptr<_cap_struct, CapFree> wanted(cap_init());  // all clear
  if (!keep.empty()) {
    cap_set_flag(wanted.get(), CAP_PERMITTED, static_cast<int>(keep.size()), keep.data(), CAP_SET);
    cap_set_flag(wanted.get(), CAP_EFFECTIVE, static_cast<int>(keep.size()), keep.data(), CAP_SET);
  }
  if (cap_set_proc(wanted.get()) != 0) {
    return Error::from_errno(errno, fmt::format("cap_set_proc: {}", errno_text(errno)));
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error::from_errno(errno,
                             fmt::format("prctl(PR_SET_NO_NEW_PRIVS): {}", errno_text(errno)));
  }
  std::string kept_names;
  for (cap_value_t cap : keep) {
    std::unique_ptr<char, CapFree> name(cap_to_name(cap));
    kept_names += (kept_names.empty() ? "" : ", ") + std::string(name ? name.get() : "?");
  }
  return fmt::format(
      "capabilities: keeping {}; {} dropped from the bounding set{}; no_new_privs set",
      kept_names.empty() ? "none" : kept_names, dropped_bounding,
      bounding_complete ? "" : " (the rest could not be: no CAP_SETPCAP)");
}

Expected<std::string> install_seccomp_filter() {
  std::unique_ptr<void, FilterRelease> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) {
    return Error{"seccomp_init failed"};
  }
  // Other architectures' system call numbers (e.g. 32-bit int 0x80 on x86_64) are killed by
  // libseccomp's default bad-arch action, so the names below cannot be bypassed that way.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return Error::from_errno(-rc, fmt::format("seccomp TSYNC: {}", errno_text(-rc)));
  }
  std::vector<Rule> rules = filter_rules();
  if (Status status = add_rules(ctx.get(), rules); !status) {
    return status.error();
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) {
    return Error::from_errno(-rc, fmt::format("seccomp_load: {}", errno_text(-rc)));
  }
  return fmt::format(
      "seccomp: filter installed ({} rules; exec, new processes, mounts, modules, "
      "file creation and writes, ptrace and foreign socket families are refused)",
      rules.size());
}

Status apply_security_flags(const Options& options) {
  if (options.drop_privileges) {
    PrivilegeOptions wanted;
    wanted.keep_sys_admin = options.fixtures_dir.empty();
    for (const std::string& address : options.listen_addresses) {
      auto listen = parse_listen_address(address);
      wanted.keep_net_bind_service |= listen && listen->port > 0 && listen->port < 1024;
    }
    auto dropped = drop_privileges(wanted);
    if (!dropped) {
      return Error{fmt::format("--security.drop-privileges: {}", dropped.error().message)};
    }
    spdlog::info("{}", *dropped);
  }
  if (options.seccomp) {
    auto installed = install_seccomp_filter();
    if (!installed) {
      return Error{fmt::format("--security.seccomp: {}", installed.error().message)};
    }
    spdlog::info("{}", *installed);
  }
  return {};
}

}  // namespace thinpool
