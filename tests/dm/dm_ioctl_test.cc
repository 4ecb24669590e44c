// The device-mapper ioctls without libdevmapper, against a fake kernel that answers in the
// ioctls' own buffer layouts (struct dm_ioctl, then dm_target_specs with their parameter strings,
// or dm_name_list records).
#include "dm/dm_ioctl.h"

#include <gtest/gtest.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace thinpool {
namespace {

struct FakeTarget {
  uint64_t start;
  uint64_t length;
  std::string type;
  std::string params;
};

// Answers like drivers/md/dm-ioctl.c: the reply's size is known before it is written; a buffer
// too small gets DM_BUFFER_FULL_FLAG and no targets.
class FakeKernel {
 public:
  std::vector<FakeTarget> targets;
  std::string uuid = "LVM-vgid-lvid";
  std::string name = "vg0-t1";  // the device found at the number asked for
  uint32_t event_nr = 7;
  int error = 0;                     // an errno to fail with
  std::vector<uint32_t> data_sizes;  // offered by each call
  std::vector<uint32_t> flags;       // asked for by each call
  std::vector<uint64_t> devs;

  DmIoctl::Ioctl ioctl() {
    return [this](unsigned long request, void* buffer) {
      requests.push_back(request);
      return request == DM_TABLE_STATUS ? answer(static_cast<char*>(buffer)) : -ENOTTY;
    };
  }
  DmIoctl::Poll poll() {
    return [] { return 0; };
  }
  std::vector<unsigned long> requests;

 private:
  int answer(char* buffer) {
    dm_ioctl io{};
    std::memcpy(&io, buffer, sizeof io);
    data_sizes.push_back(io.data_size);
    flags.push_back(io.flags);
    devs.push_back(io.dev);
    if (error != 0) {
      return -error;
    }
    std::string payload;
    std::vector<size_t> spec_offsets;
    for (const FakeTarget& target : targets) {
      spec_offsets.push_back(payload.size());
      payload.append(sizeof(dm_target_spec), '\0');
      payload += target.params;
      payload.push_back('\0');
      payload.resize((payload.size() + 7) / 8 * 8, '\0');  // the kernel aligns each spec
    }
    io.flags &= ~DM_BUFFER_FULL_FLAG;
    io.target_count = 0;
    io.event_nr = event_nr;
    std::snprintf(io.uuid, sizeof io.uuid, "%s", uuid.c_str());
    std::snprintf(io.name, sizeof io.name, "%s", name.c_str());
    if (sizeof io + payload.size() > io.data_size) {
      io.flags |= DM_BUFFER_FULL_FLAG;
    } else {
      io.target_count = static_cast<uint32_t>(targets.size());
      for (size_t i = 0; i < targets.size(); ++i) {
        dm_target_spec spec{};
        spec.sector_start = targets[i].start;
        spec.length = targets[i].length;
        spec.next =
            static_cast<uint32_t>(i + 1 < targets.size() ? spec_offsets[i + 1] : payload.size());
        std::snprintf(spec.target_type, sizeof spec.target_type, "%s", targets[i].type.c_str());
        std::memcpy(payload.data() + spec_offsets[i], &spec, sizeof spec);
      }
      std::memcpy(buffer + io.data_start, payload.data(), payload.size());
    }
    std::memcpy(buffer, &io, sizeof io);
    return 0;
  }
};

const DmDevice kVolume{"vg0-t1", {254, 300}};

TEST(DmTableStatusIoctl, AsksForTheStatusWithNoflushByDeviceNumber) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "2048 2047"}};
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto report = client.table_status(DmIoctl::What::kStatus, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->exists);
  EXPECT_EQ(report->uuid, "LVM-vgid-lvid");
  EXPECT_EQ(report->event_nr, 7u);
  ASSERT_EQ(report->targets.size(), 1u);
  EXPECT_EQ(report->targets[0].start, 0u);
  EXPECT_EQ(report->targets[0].length, 2097152u);
  EXPECT_EQ(report->targets[0].type, "thin");
  EXPECT_EQ(report->targets[0].params, "2048 2047");
  ASSERT_EQ(kernel.flags.size(), 1u);
  EXPECT_NE(kernel.flags[0] & DM_NOFLUSH_FLAG, 0u);
  EXPECT_EQ(kernel.flags[0] & DM_STATUS_TABLE_FLAG, 0u);
  EXPECT_EQ(kernel.devs[0], makedev(254, 300));
  EXPECT_EQ(kernel.data_sizes[0], DmIoctl::kInitialBufferBytes);
}

TEST(DmTableStatusIoctl, AsksForTheTableWithTheTableFlag) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "254:2 5"}};
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto report = client.table_status(DmIoctl::What::kTable, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->targets[0].params, "254:2 5");
  EXPECT_NE(kernel.flags[0] & DM_STATUS_TABLE_FLAG, 0u);
  EXPECT_EQ(kernel.flags[0] & DM_NOFLUSH_FLAG, 0u);
}

TEST(DmTableStatusIoctl, GrowsTheBufferUntilTheReplyFitsAndStartsSmallAgain) {
  FakeKernel kernel;
  // A linear device of 100 segments: about 7 KiB of reply.
  for (uint64_t i = 0; i < 100; ++i) {
    kernel.targets.push_back({i * 8, 8, "linear", "8:16 " + std::to_string(i * 4096)});
  }
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto report = client.table_status(DmIoctl::What::kTable, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->targets.size(), 100u);
  EXPECT_EQ(report->targets[99].start, 99u * 8);
  EXPECT_EQ(report->targets[99].params, "8:16 405504");
  EXPECT_EQ(kernel.data_sizes, (std::vector<uint32_t>{1024, 2048, 4096, 8192}));
  EXPECT_GE(DmIoctl::buffer_bytes(), 8192u);  // kept for this thread

  kernel.targets = {{0, 8, "thin", "0 -"}};
  ASSERT_TRUE(client.table_status(DmIoctl::What::kStatus, kVolume).ok());
  EXPECT_EQ(kernel.data_sizes.back(), 1024u);
}

TEST(DmTableStatusIoctl, ADeviceGoneSinceTheListHasVanished) {
  for (int error : {ENXIO, ENODEV}) {
    FakeKernel kernel;
    kernel.error = error;
    DmIoctl client(kernel.ioctl(), kernel.poll());
    auto report = client.table_status(DmIoctl::What::kStatus, kVolume);
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report->exists);
  }
}

TEST(DmTableStatusIoctl, ANumberGivenToAnotherDeviceSinceTheListHasVanished) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "2048 2047"}};
  kernel.name = "vg0-other";  // vg0-t1 removed, its minor reused by a new device
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto report = client.table_status(DmIoctl::What::kStatus, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->exists);

  kernel.name = "vg0-t1";
  report = client.table_status(DmIoctl::What::kStatus, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->exists);
}

TEST(DmTableStatusIoctl, PermissionDeniedSaysWhatIsNeededAndKeepsTheErrno) {
  FakeKernel kernel;
  kernel.error = EACCES;
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto report = client.table_status(DmIoctl::What::kStatus, kVolume);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.error().is(ErrorKind::kPermission));
  EXPECT_NE(report.error().message.find("dm status vg0-t1: Permission denied"), std::string::npos)
      << report.error().message;
  EXPECT_NE(report.error().message.find("CAP_SYS_ADMIN"), std::string::npos);
}

TEST(DmTableStatusIoctl, OtherErrorsNameTheDevice) {
  FakeKernel kernel;
  kernel.error = EIO;
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto report = client.table_status(DmIoctl::What::kTable, kVolume);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.error().is(ErrorKind::kIo));
  EXPECT_EQ(report.error().message, "dm table vg0-t1: Input/output error");
}

// The view the steady path reads: the one target's type and parameters, pointing into the
// thread's buffer, with the same answers as table_status for a vanished, renamed or failing device.
TEST(DmStatusView, GivesTheSingleTargetWithoutCopyingIt) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "2048 2047"}};
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto view = client.status_view(kVolume);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_TRUE(view->exists);
  EXPECT_EQ(view->target_count, 1u);
  EXPECT_EQ(view->type, "thin");
  EXPECT_EQ(view->params, "2048 2047");
  ASSERT_EQ(kernel.flags.size(), 1u);
  EXPECT_NE(kernel.flags[0] & DM_NOFLUSH_FLAG, 0u);
  EXPECT_EQ(kernel.flags[0] & DM_STATUS_TABLE_FLAG, 0u);
  EXPECT_EQ(kernel.devs[0], makedev(254, 300));
  // Both views point into the reply (the type in its target spec, just before the parameters),
  // not into a copy that is gone once the call returns.
  EXPECT_LT(view->type.data(), view->params.data());
  EXPECT_LT(view->params.data() - view->type.data(), 64);
  // Into the thread's buffer: the next call's reply replaces it.
  const char* at = view->params.data();
  kernel.targets = {{0, 2097152, "thin", "4096 4095"}};
  auto next = client.status_view(kVolume);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->params, "4096 4095");
  EXPECT_EQ(next->params.data(), at);
}

TEST(DmStatusView, CountsTargetsAndGivesNoneUnlessThereIsOne) {
  FakeKernel kernel;
  kernel.targets = {{0, 8, "linear", "8:16 0"}, {8, 8, "linear", "8:32 0"}};
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto view = client.status_view(kVolume);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->target_count, 2u);
  EXPECT_TRUE(view->type.empty());
  EXPECT_TRUE(view->params.empty());

  kernel.targets.clear();
  view = client.status_view(kVolume);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_TRUE(view->exists);
  EXPECT_EQ(view->target_count, 0u);
}

TEST(DmStatusView, AGrownReplyIsReadWhole) {
  FakeKernel kernel;
  const std::string params(3000, '7');  // past the first 1 KiB offered
  kernel.targets = {{0, 8, "thin", params}};
  DmIoctl client(kernel.ioctl(), kernel.poll());
  auto view = client.status_view(kVolume);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->params, params);
  EXPECT_GT(kernel.data_sizes.size(), 1u);
}

TEST(DmStatusView, VanishedRenamedAndFailingDevicesAsTableStatus) {
  for (int error : {ENXIO, ENODEV}) {
    FakeKernel kernel;
    kernel.error = error;
    DmIoctl client(kernel.ioctl(), kernel.poll());
    auto view = client.status_view(kVolume);
    ASSERT_TRUE(view.ok());
    EXPECT_FALSE(view->exists);
  }
  FakeKernel renamed;
  renamed.targets = {{0, 2097152, "thin", "2048 2047"}};
  renamed.name = "vg0-other";
  DmIoctl renamed_client(renamed.ioctl(), renamed.poll());
  auto view = renamed_client.status_view(kVolume);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->exists);

  FakeKernel failing;
  failing.error = EACCES;
  DmIoctl failing_client(failing.ioctl(), failing.poll());
  view = failing_client.status_view(kVolume);
  ASSERT_FALSE(view.ok());
  EXPECT_TRUE(view.error().is(ErrorKind::kPermission));
  EXPECT_NE(view.error().message.find("dm status vg0-t1: Permission denied"), std::string::npos)
      << view.error().message;
}

// A reply laid out by hand: header, then `specs` at data_start.
std::vector<char> reply_with(uint32_t target_count, const std::string& specs,
                             uint32_t data_size = 1024) {
  std::vector<char> buffer(1024, '\0');
  dm_ioctl io{};
  io.data_size = data_size;
  io.data_start = sizeof io;
  io.target_count = target_count;
  std::memcpy(buffer.data(), &io, sizeof io);
  std::memcpy(buffer.data() + sizeof io, specs.data(), std::min(specs.size(), 1024 - sizeof io));
  return buffer;
}

std::string spec_bytes(uint32_t next, const std::string& type, const std::string& params) {
  dm_target_spec spec{};
  spec.next = next;
  std::snprintf(spec.target_type, sizeof spec.target_type, "%s", type.c_str());
  std::string out(reinterpret_cast<const char*>(&spec), sizeof spec);
  return out + params;
}

TEST(DmTableStatusReply, RejectsOffsetsOutsideTheBuffer) {
  // data_size larger than the buffer
  EXPECT_FALSE(parse_table_status_reply(reply_with(0, "", 4096)).ok());
  // shorter than a header
  EXPECT_FALSE(parse_table_status_reply(std::vector<char>(100)).ok());
  // a second target that starts past the end
  std::string first = spec_bytes(5000, "thin", std::string("0 -") + '\0');
  EXPECT_FALSE(parse_table_status_reply(reply_with(2, first)).ok());
  // parameters that run to the end without a NUL
  std::string unterminated = spec_bytes(0, "thin", std::string(1024, 'x'));
  auto parsed = parse_table_status_reply(reply_with(1, unterminated));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("not terminated"), std::string::npos);
}

TEST(DmTableStatusReply, TheViewRejectsWhatTheReportRejects) {
  EXPECT_FALSE(parse_status_view(reply_with(0, "", 4096)).ok());
  EXPECT_FALSE(parse_status_view(std::vector<char>(100)).ok());
  std::string first = spec_bytes(5000, "thin", std::string("0 -") + '\0');
  EXPECT_FALSE(parse_status_view(reply_with(2, first)).ok());
  std::string unterminated = spec_bytes(0, "thin", std::string(1024, 'x'));
  auto parsed = parse_status_view(reply_with(1, unterminated));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("not terminated"), std::string::npos);
  // The view points into the reply: it must outlive the view.
  const std::vector<char> reply = reply_with(1, spec_bytes(0, "thin", std::string("0 -") + '\0'));
  auto good = parse_status_view(reply);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->type, "thin");
  EXPECT_EQ(good->params, "0 -");
}

TEST(DmTableStatusReply, NoTargetsIsAnEmptyReport) {
  auto parsed = parse_table_status_reply(reply_with(0, ""));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->targets.empty());
}

// A DM_LIST_DEVICES reply as drivers/md/dm-ioctl.c lays it out: records chained by `next`, each
// name followed (8-byte aligned) by event_nr, flags and, with DM_NAME_LIST_FLAG_HAS_UUID, the uuid.
struct ListedDevice {
  std::string name;
  uint32_t major;
  uint32_t minor;
  std::optional<std::string> uuid;  // nullopt: the kernel says the device has none
};

std::vector<char> list_reply(const std::vector<ListedDevice>& devices, uint32_t minor_version = 47,
                             size_t buffer_size = 4096) {
  std::vector<char> buffer(buffer_size, '\0');
  dm_ioctl io{};
  io.version[0] = DM_VERSION_MAJOR;
  io.version[1] = minor_version;
  io.data_start = sizeof io;
  size_t offset = io.data_start;
  size_t previous = 0;
  for (size_t i = 0; i < devices.size(); ++i) {
    const ListedDevice& device = devices[i];
    if (i > 0) {
      const uint32_t next = static_cast<uint32_t>(offset - previous);
      std::memcpy(buffer.data() + previous + offsetof(dm_name_list, next), &next, sizeof next);
    }
    const uint64_t dev = makedev(device.major, device.minor);
    std::memcpy(buffer.data() + offset, &dev, sizeof dev);
    std::memcpy(buffer.data() + offset + offsetof(dm_name_list, name), device.name.c_str(),
                device.name.size() + 1);
    size_t trailer =
        (offset + offsetof(dm_name_list, name) + device.name.size() + 1 + 7) & ~size_t{7};
    const uint32_t event_nr = 3;
    const uint32_t flags =
        device.uuid ? DM_NAME_LIST_FLAG_HAS_UUID : DM_NAME_LIST_FLAG_DOESNT_HAVE_UUID;
    std::memcpy(buffer.data() + trailer, &event_nr, sizeof event_nr);
    std::memcpy(buffer.data() + trailer + 4, &flags, sizeof flags);
    size_t end = trailer + 8;
    if (device.uuid) {
      std::memcpy(buffer.data() + end, device.uuid->c_str(), device.uuid->size() + 1);
      end += device.uuid->size() + 1;
    }
    previous = offset;
    offset = (end + 7) & ~size_t{7};
  }
  io.data_size = static_cast<uint32_t>(devices.empty() ? offset + 16 : offset);
  std::memcpy(buffer.data(), &io, sizeof io);
  return buffer;
}

TEST(DmListReply, GivesEveryNameAsTheKernelHoldsIt) {
  // Names libdevmapper refuses to list without mangling: a quote, a backslash, UTF-8, a Latin-1
  // byte that is not UTF-8, a blank.
  const std::vector<ListedDevice> devices = {
      {"vg0-pool-tpool", 254, 2, "LVM-aaaa-tpool"}, {"we\"ird", 254, 3, std::nullopt},
      {"back\\slash", 254, 4, "CRYPT-x"},           {"p\xc3\xb6ol", 254, 5, std::nullopt},
      {"latin\xe9", 254, 6, std::nullopt},          {"with blank", 254, 700, "u"},
  };
  auto parsed = parse_list_reply(list_reply(devices));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ((*parsed)[i].name, devices[i].name);
    EXPECT_EQ((*parsed)[i].dev, (DeviceNumber{devices[i].major, devices[i].minor}));
  }
}

// Into a list from before: its entries are written over (names reused), then it is cut or grown to
// the reply's records; a broken reply leaves the records read before the break.
TEST(DmListReply, IntoAnEarlierListReplacesItsEntries) {
  std::vector<DmDevice> list = {
      {"old-a-with-a-long-name-past-sso", {254, 9}}, {"old-b", {254, 8}}, {"old-c", {254, 7}}};
  const char* reused = list[0].name.data();
  ASSERT_TRUE(parse_list_reply_into(
                  list_reply({{"new-a", 254, 1, std::nullopt}, {"new-b", 254, 2, "u"}}), list)
                  .ok());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "new-a");
  EXPECT_EQ(list[0].dev, (DeviceNumber{254, 1}));
  EXPECT_EQ(list[0].name.data(), reused);
  EXPECT_EQ(list[1].name, "new-b");
  EXPECT_EQ(list[1].dev, (DeviceNumber{254, 2}));

  ASSERT_TRUE(parse_list_reply_into(list_reply({{"x", 254, 3, std::nullopt},
                                                {"y", 254, 4, std::nullopt},
                                                {"z", 254, 5, std::nullopt}}),
                                    list)
                  .ok());
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[2].name, "z");
  EXPECT_EQ(list[2].dev, (DeviceNumber{254, 5}));

  ASSERT_TRUE(parse_list_reply_into(list_reply({}), list).ok());
  EXPECT_TRUE(list.empty());

  std::vector<char> broken = list_reply({{"a", 254, 1, std::nullopt}, {"b", 254, 2, std::nullopt}});
  const uint32_t next = 5000;
  std::memcpy(broken.data() + sizeof(dm_ioctl) + offsetof(dm_name_list, next), &next, sizeof next);
  list = {{"p", {1, 1}}, {"q", {1, 2}}, {"r", {1, 3}}};
  EXPECT_FALSE(parse_list_reply_into(broken, list).ok());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "a");
}

TEST(DmListReply, NoDevicesIsAnEmptyList) {
  auto parsed = parse_list_reply(list_reply({}));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->empty());
}

TEST(DmListReply, WhatFollowsANameIsSkippedByTheRecordChain) {
  // Records of kernels that send uuids after the names, and of older ones that send nothing.
  for (uint32_t minor_version : {47u, 37u}) {
    auto parsed = parse_list_reply(list_reply(
        {{"a", 254, 1, std::string(128, 'u')}, {"b", 254, 2, std::nullopt}}, minor_version));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[1].name, "b");
  }
}

TEST(DmListReply, RejectsRecordsOutsideTheBuffer) {
  std::vector<char> reply = list_reply({{"a", 254, 1, std::nullopt}, {"b", 254, 2, std::nullopt}});
  // The first record's `next` pointing past the reply.
  const uint32_t next = 5000;
  std::memcpy(reply.data() + sizeof(dm_ioctl) + offsetof(dm_name_list, next), &next, sizeof next);
  auto parsed = parse_list_reply(reply);
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.error().is(ErrorKind::kParse));
  // A name without its NUL.
  std::vector<char> unterminated = list_reply({{"a", 254, 1, std::nullopt}}, 47, 1024);
  std::memset(unterminated.data() + sizeof(dm_ioctl) + offsetof(dm_name_list, name), 'x',
              1024 - sizeof(dm_ioctl) - offsetof(dm_name_list, name));
  dm_ioctl io{};
  std::memcpy(&io, unterminated.data(), sizeof io);
  io.data_size = 1024;
  std::memcpy(unterminated.data(), &io, sizeof io);
  EXPECT_FALSE(parse_list_reply(unterminated).ok());
}

// A kernel that answers DM_LIST_DEVICES with `reply` (read at each call, so a test may change it)
// when the buffer offered holds it, and with DM_BUFFER_FULL_FLAG when not; each offer's size goes
// to `offered`.
DmIoctl::Ioctl list_kernel(const std::vector<char>& reply, std::vector<uint32_t>& offered) {
  return [&reply, &offered](unsigned long request, void* buffer) {
    EXPECT_EQ(request, static_cast<unsigned long>(DM_LIST_DEVICES));
    dm_ioctl io{};
    std::memcpy(&io, buffer, sizeof io);
    offered.push_back(io.data_size);
    dm_ioctl header{};
    std::memcpy(&header, reply.data(), sizeof header);
    if (header.data_size > io.data_size) {
      io.flags |= DM_BUFFER_FULL_FLAG;
      std::memcpy(buffer, &io, sizeof io);
      return 0;
    }
    std::memcpy(buffer, reply.data(), header.data_size);
    return 0;
  };
}

TEST(DmIoctlList, GrowsTheBufferUntilTheListFits) {
  std::vector<ListedDevice> devices;
  for (uint32_t i = 0; i < 40; ++i) {
    devices.push_back({"vg0-volume--" + std::to_string(i), 254, i, "LVM-" + std::string(64, 'u')});
  }
  const std::vector<char> full = list_reply(devices, 47, 16384);
  std::vector<uint32_t> offered;
  DmIoctl client(list_kernel(full, offered), [] { return 0; });
  auto listed = client.list();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), 40u);
  EXPECT_GT(offered.size(), 1u);  // 1 KiB first, then doubled until the reply fit
  EXPECT_EQ(offered.front(), DmIoctl::kInitialBufferBytes);
}

// The kernel walks every device to size the list before it says a buffer is too small: a list
// starts at what the previous one needed, with room for a few more devices, and follows the
// list when it shrinks.
TEST(DmIoctlList, StartsAtWhatThePreviousListNeeded) {
  auto devices_named = [](uint32_t count) {
    std::vector<ListedDevice> devices;
    for (uint32_t i = 0; i < count; ++i) {
      devices.push_back({"cinder--volumes-volume--" + std::to_string(i), 254, i, std::nullopt});
    }
    return devices;
  };
  std::vector<char> current = list_reply(devices_named(400), 47, 64 << 10);
  std::vector<uint32_t> offered;
  DmIoctl client(list_kernel(current, offered), [] { return 0; });
  auto used = [&] {
    dm_ioctl reply{};
    std::memcpy(&reply, current.data(), sizeof reply);
    return reply.data_size;
  };

  ASSERT_TRUE(client.list().ok());
  EXPECT_EQ(offered.size(), 6u);  // 1, 2, 4, 8, 16 KiB full, then 32 KiB
  offered.clear();
  auto again = client.list();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->size(), 400u);
  ASSERT_EQ(offered.size(), 1u);  // one walk of the kernel's devices
  EXPECT_GE(offered[0], used() + 1024);
  EXPECT_LE(offered[0], used() + used() / 16 + 2048);
  EXPECT_EQ(offered[0] % 1024, 0u);

  current = list_reply(devices_named(410), 47, 64 << 10);  // ten more: still fits
  offered.clear();
  ASSERT_EQ(client.list()->size(), 410u);
  EXPECT_EQ(offered.size(), 1u);

  current = list_reply(devices_named(800), 47, 128 << 10);  // twice as many: one doubling
  offered.clear();
  ASSERT_EQ(client.list()->size(), 800u);
  ASSERT_EQ(offered.size(), 2u);
  EXPECT_EQ(offered[1], 2 * offered[0]);

  current = list_reply(devices_named(3), 47, 4096);  // most removed: the next list starts small
  offered.clear();
  ASSERT_EQ(client.list()->size(), 3u);
  offered.clear();
  ASSERT_EQ(client.list()->size(), 3u);
  ASSERT_EQ(offered.size(), 1u);
  EXPECT_LE(offered[0], 2048u);
}

TEST(DmIoctlInfo, ReportsSuspendedDevicesFromDmDevStatus) {
  uint32_t flags = DM_SUSPEND_FLAG;
  std::string name = "vg0-pv";
  DmIoctl client(
      [&](unsigned long request, void* buffer) {
        EXPECT_EQ(request, static_cast<unsigned long>(DM_DEV_STATUS));
        dm_ioctl io{};
        std::memcpy(&io, buffer, sizeof io);
        io.flags = flags;
        io.open_count = 2;
        std::snprintf(io.name, sizeof io.name, "%s", name.c_str());
        std::memcpy(buffer, &io, sizeof io);
        return 0;
      },
      [] { return 0; });
  const DmDevice pv{"vg0-pv", {254, 9}};
  auto info = client.info(pv);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->exists);
  EXPECT_TRUE(info->suspended);
  EXPECT_EQ(info->open_count, 2);
  flags = DM_INTERNAL_SUSPEND_FLAG;
  EXPECT_TRUE(client.info(pv)->internally_suspended);
  flags = 0;
  EXPECT_FALSE(client.info(pv)->suspended);
  name = "another";  // its number given to another device since the list
  EXPECT_FALSE(client.info(pv)->exists);
}

TEST(DmIoctlEvents, ArmsThenPollsTheGlobalEventCounter) {
  int arms = 0;
  int readable = 0;
  DmIoctl client(
      [&](unsigned long request, void*) {
        EXPECT_EQ(request, static_cast<unsigned long>(DM_DEV_ARM_POLL));
        ++arms;
        return 0;
      },
      [&] { return readable; });
  EXPECT_TRUE(*client.changed_since_last_call());  // nothing known yet
  EXPECT_EQ(arms, 1);
  EXPECT_FALSE(*client.changed_since_last_call());  // quiet
  EXPECT_EQ(arms, 1);
  readable = 1;  // a table swap, a create, a rename...
  EXPECT_TRUE(*client.changed_since_last_call());
  EXPECT_EQ(arms, 2);  // armed again from now on
  readable = -EBADF;
  EXPECT_FALSE(client.changed_since_last_call().ok());
}

}  // namespace
}  // namespace thinpool
