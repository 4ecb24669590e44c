// Per-device cost of a DM_TABLE_STATUS (noflush) on a real kernel: libdevmapper's task (what
// the exporter used, and what dmsetup uses) against the ioctl issued directly with a 16 KiB
// buffer (zeroed as libdevmapper does, or not) and with a 1 KiB or 512-byte one (grown when the
// kernel says it is full), by device number and by name. Not part of the build: run it in the
// e2e VM, where device-mapper exists (BENCHMARKS.md):
//   g++ -O2 -std=c++20 bench/vm_ioctl_cost/dm_status_cost.cc -ldevmapper -o /tmp/dm_status_cost
//   tests/vm/run-scenario --exporter /tmp/dm_status_cost bench/vm_ioctl_cost
// Prints, per mode, wall, user and system microseconds per device over ROUNDS (argv[1]) passes
// over every device, twice.
//
// `dm_status_cost floor ROUNDS` is the floor the VM benchmark (tests/vm/scenarios/benchmark)
// sets beside each scrape: what no scrape can avoid, the ioctls alone in one process, timed in
// it as scrape_client times a GET. Each round: DM_LIST_DEVICES, then DM_TABLE_STATUS (noflush,
// 1 KiB buffer grown on DM_BUFFER_FULL_FLAG, by device number, the exporter's flags) of every
// listed device, then the table (DM_STATUS_TABLE_FLAG) of every device, each part timed, then the
// list once more from a 1 KiB buffer doubled until it fits. Prints
// "round<TAB>list_us<TAB>status_us<TAB>table_us<TAB>cpu_us" per round, then
// "median<TAB>WHAT<TAB>us" for list, status, table, floor (list + status: the status-ioctl floor),
// floor_tables (list, status and table), cpu (user + system of list + status) and list_doubling
// (the list from 1 KiB). The benchmark's
// prepare builds it statically with -DDM_STATUS_COST_RAW_ONLY (Debian ships no static
// libdevmapper): the libdevmapper mode is left out and the list is the raw ioctl.
#include <fcntl.h>
#ifndef DM_STATUS_COST_RAW_ONLY
#include <libdevmapper.h>
#endif
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
struct Dev {
  std::string name;
  unsigned major, minor;
};
static double now_us() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static double cpu_us(bool sys) {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  const timeval& v = sys ? r.ru_stime : r.ru_utime;
  return v.tv_sec * 1e6 + v.tv_usec;
}
static size_t sink;
// The floor mode passes DM_SKIP_BDGET_FLAG as the exporter does (libdevmapper's no_open_count);
// the per-device modes above were measured without it.
static bool g_skip_bdget = false;
#ifndef DM_STATUS_COST_RAW_ONLY
static std::vector<Dev> list() {
  std::vector<Dev> out;
  dm_task* t = dm_task_create(DM_DEVICE_LIST);
  dm_task_run(t);
  dm_names* n = dm_task_get_names(t);
  if (n && n->dev)
    for (;;) {
      out.push_back({n->name, major(n->dev), minor(n->dev)});
      if (!n->next)
        break;
      n = (dm_names*)((char*)n + n->next);
    }
  dm_task_destroy(t);
  return out;
}
static bool libdm(const Dev& d) {
  dm_task* t = dm_task_create(DM_DEVICE_STATUS);
  dm_task_set_major(t, d.major);
  dm_task_set_minor(t, d.minor);
  dm_task_no_open_count(t);
  dm_task_no_flush(t);
  if (!dm_task_run(t)) {
    dm_task_destroy(t);
    return false;
  }
  dm_info info;
  dm_task_get_info(t, &info);
  const char* u = dm_task_get_uuid(t);
  sink += strlen(u);
  void* next = nullptr;
  do {
    uint64_t s, l;
    char *ty, *p;
    next = dm_get_next_target(t, next, &s, &l, &ty, &p);
    if (p)
      sink += strlen(p);
  } while (next);
  dm_task_destroy(t);
  return true;
}
#endif
static int g_fd = -1;
// DM_LIST_DEVICES (no uuids, as the exporter asks), into `buf` (at least `first` bytes, grown
// while the kernel says it is full); the devices into `out`.
static bool raw_list(std::vector<char>& buf, std::vector<Dev>& out, size_t first = 16384) {
  out.clear();
  if (buf.size() < first)
    buf.resize(first);
  for (;;) {
    memset(buf.data(), 0, sizeof(dm_ioctl));
    dm_ioctl* io = (dm_ioctl*)buf.data();
    io->version[0] = DM_VERSION_MAJOR;
    io->data_size = buf.size();
    io->data_start = sizeof(dm_ioctl);
    if (ioctl(g_fd, DM_LIST_DEVICES, io) < 0) {
      perror("ioctl DM_LIST_DEVICES");
      return false;
    }
    if (io->flags & DM_BUFFER_FULL_FLAG) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (io->data_size <= io->data_start)
      return true;
    size_t off = io->data_start;
    for (;;) {
      dm_name_list* n = (dm_name_list*)(buf.data() + off);
      if (!n->dev)
        return true;
      out.push_back({n->name, major(n->dev), minor(n->dev)});
      if (!n->next)
        return true;
      off += n->next;
    }
  }
}
static bool raw(const Dev& d, size_t size, bool zero, bool by_name, std::vector<char>& buf,
                bool table = false) {
  for (;;) {
    if (buf.size() < size)
      buf.resize(size);
    if (zero)
      memset(buf.data(), 0, size);
    else
      memset(buf.data(), 0, sizeof(dm_ioctl));
    dm_ioctl* io = (dm_ioctl*)buf.data();
    io->version[0] = DM_VERSION_MAJOR;
    io->version[1] = 0;
    io->version[2] = 0;
    io->data_size = size;
    io->data_start = sizeof(dm_ioctl);
    io->flags =
        (g_skip_bdget ? DM_SKIP_BDGET_FLAG : 0) | (table ? DM_STATUS_TABLE_FLAG : DM_NOFLUSH_FLAG);
    if (by_name)
      snprintf(io->name, sizeof io->name, "%s", d.name.c_str());
    else
      io->dev = makedev(d.major, d.minor);
    if (ioctl(g_fd, DM_TABLE_STATUS, io) < 0) {
      perror("ioctl");
      return false;
    }
    if (io->flags & DM_BUFFER_FULL_FLAG) {
      size *= 2;
      continue;
    }
    sink += strlen(io->uuid);
    char* base = buf.data() + io->data_start;
    size_t off = 0;
    for (unsigned i = 0; i < io->target_count; i++) {
      dm_target_spec* s = (dm_target_spec*)(base + off);
      sink += strlen((char*)(s + 1));
      off = s->next;
    }
    return true;
  }
}
static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
static int floor_mode(int rounds) {
  std::vector<char> list_buf, buf;
  std::vector<Dev> devs;
  std::vector<double> list_us, status_us, table_us, floor_us, all_us, cpu, list_doubling_us;
  g_skip_bdget = true;
  for (int r = 0; r < rounds; r++) {
    double c0 = cpu_us(false) + cpu_us(true);
    double t0 = now_us();
    if (!raw_list(list_buf, devs))
      return 1;
    double t1 = now_us();
    for (const Dev& d : devs)
      if (!raw(d, 1024, false, false, buf))
        return 1;
    double t2 = now_us();
    double c1 = cpu_us(false) + cpu_us(true);
    for (const Dev& d : devs)
      if (!raw(d, 1024, false, false, buf, true))
        return 1;
    double t3 = now_us();
    // The list as a client that starts every list at 1 KiB and doubles makes it: the kernel
    // walks every device to size the list before it says the buffer is full.
    std::vector<char> small_buf;
    std::vector<Dev> listed_again;
    if (!raw_list(small_buf, listed_again, 1024))
      return 1;
    list_doubling_us.push_back(now_us() - t3);
    printf("round\t%.0f\t%.0f\t%.0f\t%.0f\n", t1 - t0, t2 - t1, t3 - t2, c1 - c0);
    list_us.push_back(t1 - t0);
    status_us.push_back(t2 - t1);
    table_us.push_back(t3 - t2);
    floor_us.push_back(t2 - t0);
    all_us.push_back(t3 - t0);
    cpu.push_back(c1 - c0);
  }
  printf("devices\t%zu\n", devs.size());
  printf("median\tlist\t%.0f\nmedian\tstatus\t%.0f\nmedian\ttable\t%.0f\n", median(list_us),
         median(status_us), median(table_us));
  printf("median\tfloor\t%.0f\nmedian\tfloor_tables\t%.0f\n", median(floor_us), median(all_us));
  printf("median\tcpu\t%.0f\n", median(cpu));
  printf("median\tlist_doubling\t%.0f\n", median(list_doubling_us));
  return (int)(sink & 0);
}
int main(int argc, char** argv) {
  g_fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  if (g_fd < 0) {
    perror("/dev/mapper/control");
    return 1;
  }
  if (argc > 1 && strcmp(argv[1], "floor") == 0)
    return floor_mode(argc > 2 ? atoi(argv[2]) : 5);
#ifdef DM_STATUS_COST_RAW_ONLY
  fprintf(stderr, "built with DM_STATUS_COST_RAW_ONLY: only the floor mode\n");
  return 2;
#else
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  auto devs = list();
  printf("devices %zu rounds %d\n", devs.size(), rounds);
  struct Mode {
    const char* name;
    int kind;
    size_t size;
    bool zero;
    bool by_name;
  };
  Mode modes[] = {{"libdevmapper", 0, 0, 0, 0},
                  {"ioctl-16k-zeroed-dev", 1, 16384, true, false},
                  {"ioctl-16k-dev", 1, 16384, false, false},
                  {"ioctl-1k-dev", 1, 1024, false, false},
                  {"ioctl-1k-name", 1, 1024, false, true},
                  {"ioctl-512-dev(grows)", 1, 512, false, false}};
  std::vector<char> buf;
  for (int pass = 0; pass < 2; pass++)
    for (const Mode& m : modes) {
      double w = now_us(), u = cpu_us(false), s = cpu_us(true);
      for (int r = 0; r < rounds; r++)
        for (const Dev& d : devs) {
          bool ok = m.kind == 0 ? libdm(d) : raw(d, m.size, m.zero, m.by_name, buf);
          if (!ok)
            return 1;
        }
      double n = double(rounds) * devs.size();
      printf("pass %d %-22s per device: wall %7.1f us  user %6.1f us  sys %6.1f us\n", pass, m.name,
             (now_us() - w) / n, (cpu_us(false) - u) / n, (cpu_us(true) - s) / n);
      fflush(stdout);
    }
  return (int)(sink & 0);
#endif
}
