// DM_TABLE_STATUS without libdevmapper, against a fake kernel that answers in the ioctl's own
// buffer layout (struct dm_ioctl, then dm_target_specs with their parameter strings).
#include "dm/dm_table_status.h"

#include <gtest/gtest.h>
#include <linux/dm-ioctl.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
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

  DmTableStatusIoctl::Ioctl ioctl() {
    return [this](void* buffer) { return answer(static_cast<char*>(buffer)); };
  }

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

TEST(DmTableStatus, AsksForTheStatusWithNoflushByDeviceNumber) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "2048 2047"}};
  DmTableStatusIoctl client(kernel.ioctl());
  auto report = client.run(DmTableStatusIoctl::What::kStatus, kVolume);
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
  EXPECT_EQ(kernel.data_sizes[0], DmTableStatusIoctl::kInitialBufferBytes);
}

TEST(DmTableStatus, AsksForTheTableWithTheTableFlag) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "254:2 5"}};
  DmTableStatusIoctl client(kernel.ioctl());
  auto report = client.run(DmTableStatusIoctl::What::kTable, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->targets[0].params, "254:2 5");
  EXPECT_NE(kernel.flags[0] & DM_STATUS_TABLE_FLAG, 0u);
  EXPECT_EQ(kernel.flags[0] & DM_NOFLUSH_FLAG, 0u);
}

TEST(DmTableStatus, GrowsTheBufferUntilTheReplyFitsAndStartsSmallAgain) {
  FakeKernel kernel;
  // A linear device of 100 segments: about 7 KiB of reply.
  for (uint64_t i = 0; i < 100; ++i) {
    kernel.targets.push_back({i * 8, 8, "linear", "8:16 " + std::to_string(i * 4096)});
  }
  DmTableStatusIoctl client(kernel.ioctl());
  auto report = client.run(DmTableStatusIoctl::What::kTable, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->targets.size(), 100u);
  EXPECT_EQ(report->targets[99].start, 99u * 8);
  EXPECT_EQ(report->targets[99].params, "8:16 405504");
  EXPECT_EQ(kernel.data_sizes, (std::vector<uint32_t>{1024, 2048, 4096, 8192}));
  EXPECT_EQ(client.buffer_bytes(), 8192u);

  kernel.targets = {{0, 8, "thin", "0 -"}};
  ASSERT_TRUE(client.run(DmTableStatusIoctl::What::kStatus, kVolume).ok());
  EXPECT_EQ(kernel.data_sizes.back(), 1024u);
}

TEST(DmTableStatus, ADeviceGoneSinceTheListHasVanished) {
  for (int error : {ENXIO, ENODEV}) {
    FakeKernel kernel;
    kernel.error = error;
    DmTableStatusIoctl client(kernel.ioctl());
    auto report = client.run(DmTableStatusIoctl::What::kStatus, kVolume);
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report->exists);
  }
}

TEST(DmTableStatus, ANumberGivenToAnotherDeviceSinceTheListHasVanished) {
  FakeKernel kernel;
  kernel.targets = {{0, 2097152, "thin", "2048 2047"}};
  kernel.name = "vg0-other";  // vg0-t1 removed, its minor reused by a new device
  DmTableStatusIoctl client(kernel.ioctl());
  auto report = client.run(DmTableStatusIoctl::What::kStatus, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->exists);

  kernel.name = "vg0-t1";
  report = client.run(DmTableStatusIoctl::What::kStatus, kVolume);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->exists);
}

TEST(DmTableStatus, PermissionDeniedSaysWhatIsNeededAndKeepsTheErrno) {
  FakeKernel kernel;
  kernel.error = EACCES;
  DmTableStatusIoctl client(kernel.ioctl());
  auto report = client.run(DmTableStatusIoctl::What::kStatus, kVolume);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.error().is(ErrorKind::kPermission));
  EXPECT_NE(report.error().message.find("dm status vg0-t1: Permission denied"), std::string::npos)
      << report.error().message;
  EXPECT_NE(report.error().message.find("CAP_SYS_ADMIN"), std::string::npos);
}

TEST(DmTableStatus, OtherErrorsNameTheDevice) {
  FakeKernel kernel;
  kernel.error = EIO;
  DmTableStatusIoctl client(kernel.ioctl());
  auto report = client.run(DmTableStatusIoctl::What::kTable, kVolume);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.error().is(ErrorKind::kIo));
  EXPECT_EQ(report.error().message, "dm table vg0-t1: Input/output error");
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

TEST(DmTableStatusReply, NoTargetsIsAnEmptyReport) {
  auto parsed = parse_table_status_reply(reply_with(0, ""));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->targets.empty());
}

}  // namespace
}  // namespace thinpool
