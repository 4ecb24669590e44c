// Creates thin volumes in an LVM thin pool the way `dmsetup message POOL 0 "create_thin ID"` and
// LVM's activation do, but in one process: under qemu TCG a `dmsetup` process costs tens of
// milliseconds and `vgchange -ay` about as much per volume, so 10,000 volumes would take longer
// than the benchmark itself. The VM benchmark (tests/vm/scenarios/benchmark, whose prepare builds
// this file statically on the host) adds the LVs to the VG metadata with one vgcfgrestore, then
// runs this for the same ids: the kernel state is what LVM's activation makes (name, uuid, table).
//
// Usage: create_thin_volumes TPOOL_NAME VG_NAME VG_UUID FIRST LAST SECTORS
//   For each id in FIRST..LAST: the message "create_thin ID" to the thin-pool device TPOOL_NAME
//   (skipped when the pool says the id exists), then the dm device VG-volume-... (LVM's name, with
//   dashes doubled) with uuid "LVM-" VG_UUID LV_UUID (dashes dropped; the LV uuid is the one the
//   benchmark's awk writes into the metadata, "bench0-%04d-%04d-0000-0000-0000-%06d") and the table
//   "0 SECTORS thin POOL_MAJOR:POOL_MINOR ID", loaded and resumed. The volume names are the
//   benchmark's: volume-%08x-1111-4222-8333-%012x.
// Prints the number of volumes created and the time it took; exits 1 on the first failure.
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int g_control = -1;

// A dm_ioctl at the head of a buffer of `size` bytes (data after the header).
struct Request {
  explicit Request(size_t size) : buffer(size, 0) {
    io()->version[0] = DM_VERSION_MAJOR;
    io()->data_size = static_cast<uint32_t>(size);
    io()->data_start = sizeof(dm_ioctl);
  }
  dm_ioctl* io() { return reinterpret_cast<dm_ioctl*>(buffer.data()); }
  char* data() { return buffer.data() + sizeof(dm_ioctl); }
  std::vector<char> buffer;
};

bool run(unsigned long command, Request& request, const char* what, const std::string& name) {
  if (ioctl(g_control, command, request.io()) == 0) {
    return true;
  }
  std::fprintf(stderr, "create_thin_volumes: %s %s: %s\n", what, name.c_str(),
               std::strerror(errno));
  return false;
}

void set_name(Request& request, const std::string& name) {
  std::snprintf(request.io()->name, sizeof request.io()->name, "%s", name.c_str());
}

// The pool's device number (DM_DEV_STATUS by name).
bool pool_device(const std::string& tpool, dev_t& dev) {
  Request request(sizeof(dm_ioctl));
  set_name(request, tpool);
  if (!run(DM_DEV_STATUS, request, "status of", tpool)) {
    return false;
  }
  dev = static_cast<dev_t>(request.io()->dev);
  return true;
}

// "create_thin ID"; an id the pool already has (EEXIST) is kept.
bool create_thin(const std::string& tpool, unsigned id) {
  Request request(sizeof(dm_ioctl) + sizeof(dm_target_msg) + 64);
  set_name(request, tpool);
  auto* message = reinterpret_cast<dm_target_msg*>(request.data());
  message->sector = 0;
  std::snprintf(message->message, 64, "create_thin %u", id);
  if (ioctl(g_control, DM_TARGET_MSG, request.io()) == 0 || errno == EEXIST) {
    return true;
  }
  std::fprintf(stderr, "create_thin_volumes: message \"create_thin %u\" to %s: %s\n", id,
               tpool.c_str(), std::strerror(errno));
  return false;
}

std::string dm_escape(const std::string& part) {
  std::string out;
  for (char c : part) {
    out += c;
    if (c == '-') {
      out += '-';
    }
  }
  return out;
}

std::string without_dashes(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c != '-') {
      out += c;
    }
  }
  return out;
}

bool activate(const std::string& vg, const std::string& vg_uuid, unsigned id,
              unsigned long long sectors, dev_t pool) {
  char lv[64];
  std::snprintf(lv, sizeof lv, "volume-%08x-1111-4222-8333-%012x", id, id);
  char lv_uuid[40];
  std::snprintf(lv_uuid, sizeof lv_uuid, "bench0%04u%04u000000000000%06u", id / 10000, id % 10000,
                id);
  const std::string name = dm_escape(vg) + "-" + dm_escape(lv);
  const std::string uuid = "LVM-" + without_dashes(vg_uuid) + lv_uuid;

  Request create(sizeof(dm_ioctl));
  set_name(create, name);
  std::snprintf(create.io()->uuid, sizeof create.io()->uuid, "%s", uuid.c_str());
  if (ioctl(g_control, DM_DEV_CREATE, create.io()) != 0) {
    if (errno == EBUSY) {
      return true;  // active already (an earlier run up to a smaller size)
    }
    std::fprintf(stderr, "create_thin_volumes: create %s: %s\n", name.c_str(),
                 std::strerror(errno));
    return false;
  }

  Request load(sizeof(dm_ioctl) + sizeof(dm_target_spec) + 64);
  set_name(load, name);
  load.io()->target_count = 1;
  auto* spec = reinterpret_cast<dm_target_spec*>(load.data());
  spec->sector_start = 0;
  spec->length = sectors;
  std::snprintf(spec->target_type, sizeof spec->target_type, "thin");
  char* params = reinterpret_cast<char*>(spec + 1);
  std::snprintf(params, 64, "%u:%u %u", major(pool), minor(pool), id);
  spec->next = 0;
  if (!run(DM_TABLE_LOAD, load, "load", name)) {
    return false;
  }
  Request resume(sizeof(dm_ioctl));
  set_name(resume, name);
  return run(DM_DEV_SUSPEND, resume, "resume", name);
}

double now_s() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s TPOOL_NAME VG_NAME VG_UUID FIRST LAST SECTORS\n", argv[0]);
    return 2;
  }
  const std::string tpool = argv[1];
  const std::string vg = argv[2];
  const std::string vg_uuid = argv[3];
  const auto first = static_cast<unsigned>(std::strtoul(argv[4], nullptr, 10));
  const auto last = static_cast<unsigned>(std::strtoul(argv[5], nullptr, 10));
  const unsigned long long sectors = std::strtoull(argv[6], nullptr, 10);
  if (without_dashes(vg_uuid).size() != 32 || first == 0 || last < first || sectors == 0) {
    std::fprintf(stderr, "create_thin_volumes: bad arguments\n");
    return 2;
  }
  g_control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  if (g_control < 0) {
    std::perror("create_thin_volumes: /dev/mapper/control");
    return 1;
  }
  dev_t pool = 0;
  if (!pool_device(tpool, pool)) {
    return 1;
  }
  const double start = now_s();
  for (unsigned id = first; id <= last; ++id) {
    if (!create_thin(tpool, id)) {
      return 1;
    }
  }
  const double messages = now_s();
  for (unsigned id = first; id <= last; ++id) {
    if (!activate(vg, vg_uuid, id, sectors, pool)) {
      return 1;
    }
  }
  std::printf("created %u thin volumes: messages %.1f s, devices %.1f s\n", last - first + 1,
              messages - start, now_s() - messages);
  return 0;
}
