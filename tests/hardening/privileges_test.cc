// The privilege drop and the seccomp filter, each tried in a forked child (both are one-way for
// the process that applies them).
#include "exporter/privileges.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace thinpool {
namespace {

// Runs `body` in a forked child that writes "key=value" lines to `out`; returns them.
std::map<std::string, std::string> in_child(const std::function<void(FILE* out)>& body) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    FILE* out = fdopen(fds[1], "w");
    body(out);
    fflush(out);
    _exit(0);
  }
  close(fds[1]);
  std::map<std::string, std::string> results;
  FILE* in = fdopen(fds[0], "r");
  char line[512];
  while (fgets(line, sizeof(line), in) != nullptr) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    auto eq = text.find('=');
    if (eq != std::string::npos) {
      results[text.substr(0, eq)] = text.substr(eq + 1);
    }
  }
  fclose(in);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return results;
}

// "ok" or the errno name of a failed call.
std::string outcome(int rc) {
  return rc >= 0 ? "ok" : strerrorname_np(errno);
}

TEST(Seccomp, RefusesWhatTheExporterNeverDoes) {
  auto results = in_child([](FILE* out) {
    auto installed = install_seccomp_filter();
    fprintf(out, "install=%s\n", installed.ok() ? "ok" : installed.error().message.c_str());
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    fprintf(out, "execve=%s\n", outcome(execve("/bin/true", argv, environ)).c_str());
    pid_t child = fork();
    if (child == 0) {
      _exit(0);
    }
    fprintf(out, "fork=%s\n", outcome(child).c_str());
    std::string path = "/tmp/thinpool_seccomp_test." + std::to_string(getpid());
    fprintf(out, "create=%s\n", outcome(open(path.c_str(), O_WRONLY | O_CREAT, 0600)).c_str());
    fprintf(out, "append=%s\n", outcome(open("/dev/null", O_WRONLY | O_APPEND)).c_str());
    fprintf(out, "mkdir=%s\n", outcome(mkdir(path.c_str(), 0700)).c_str());
    fprintf(out, "unlink=%s\n", outcome(unlink("/nonexistent")).c_str());
    fprintf(out, "packet_socket=%s\n", outcome(socket(AF_PACKET, SOCK_RAW, 0)).c_str());
    fprintf(out, "mount=%s\n", outcome(umount("/nonexistent")).c_str());
    // What the exporter does keep working.
    fprintf(out, "read=%s\n", outcome(open("/proc/self/status", O_RDONLY)).c_str());
    fprintf(out, "read_write=%s\n", outcome(open("/dev/null", O_RDWR)).c_str());
    fprintf(out, "tcp_socket=%s\n", outcome(socket(AF_INET6, SOCK_STREAM, 0)).c_str());
    bool ran = false;
    std::thread([&ran] { ran = true; }).join();
    fprintf(out, "thread=%s\n", ran ? "ok" : "failed");
  });
  EXPECT_EQ(results["install"], "ok");
  EXPECT_EQ(results["execve"], "EPERM");
  EXPECT_EQ(results["fork"], "EPERM");
  EXPECT_EQ(results["create"], "EPERM");
  EXPECT_EQ(results["append"], "EPERM");
  EXPECT_EQ(results["mkdir"], "EPERM");
  EXPECT_EQ(results["unlink"], "EPERM");
  EXPECT_EQ(results["packet_socket"], "EPERM");
  EXPECT_EQ(results["mount"], "EPERM");
  EXPECT_EQ(results["read"], "ok");
  EXPECT_EQ(results["read_write"], "ok");
  EXPECT_EQ(results["tcp_socket"], "ok");
  EXPECT_EQ(results["thread"], "ok");
}

TEST(DropPrivileges, KeepsOnlySysAdminAndSetsNoNewPrivs) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root";
  }
  auto results = in_child([](FILE* out) {
    char path[] = "/tmp/thinpool_privileges_test.XXXXXX";
    int fd = mkstemp(path);
    auto dropped = drop_privileges({});
    fprintf(out, "drop=%s\n", dropped.ok() ? "ok" : dropped.error().message.c_str());
    cap_t caps = cap_get_proc();
    char* text = cap_to_text(caps, nullptr);
    fprintf(out, "caps=%s\n", text);
    cap_free(text);
    cap_free(caps);
    fprintf(out, "bound_sys_admin=%d\n", cap_get_bound(CAP_SYS_ADMIN));
    fprintf(out, "bound_chown=%d\n", cap_get_bound(CAP_CHOWN));
    fprintf(out, "no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    // Still uid 0, but without CAP_CHOWN: giving a file away is refused.
    fprintf(out, "chown=%s\n", outcome(fchown(fd, 1, 1)).c_str());
    close(fd);
    unlink(path);
  });
  EXPECT_EQ(results["drop"], "ok");
  EXPECT_EQ(results["caps"], "cap_sys_admin=ep");
  EXPECT_EQ(results["bound_sys_admin"], "1");
  EXPECT_EQ(results["bound_chown"], "0");
  EXPECT_EQ(results["no_new_privs"], "1");
  EXPECT_EQ(results["chown"], "EPERM");
}

TEST(DropPrivileges, FixturesRunsKeepNothing) {
  auto results = in_child([](FILE* out) {
    PrivilegeOptions options;
    options.keep_sys_admin = false;
    auto dropped = drop_privileges(options);
    fprintf(out, "drop=%s\n", dropped.ok() ? dropped->c_str() : dropped.error().message.c_str());
    cap_t caps = cap_get_proc();
    char* text = cap_to_text(caps, nullptr);
    fprintf(out, "caps=%s\n", text);
    cap_free(text);
    cap_free(caps);
  });
  EXPECT_NE(results["drop"].find("keeping none"), std::string::npos) << results["drop"];
  EXPECT_EQ(results["caps"], "=");
}

}  // namespace
}  // namespace thinpool
