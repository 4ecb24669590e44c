// An in-memory DeviceMapper that serves captured `dmsetup` text, for tests, benchmarks and
// `--devmapper.fixtures` runs, and records what was asked of it.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dm/device_mapper.h"

namespace thinpool {

class FakeDeviceMapper : public DeviceMapper {
 public:
  struct Device {
    DmDevice device;
    std::string uuid;
    uint32_t event_nr = 0;
    std::vector<DmTarget> table;
    // nullopt: the device vanishes between the list and its status ioctl.
    std::optional<std::vector<DmTarget>> status;
    std::optional<Error> status_error;
    std::optional<Error> table_error;
    bool suspended = false;
    // Called before the device's status is answered, without the fake's lock held: a test that
    // blocks in it makes the status call hang, as on a pool whose devices stopped answering.
    std::function<void()> before_status;
  };

  // How often each call was made.
  struct Calls {
    int list = 0;
    int status = 0;
    int table = 0;
    int info = 0;
  };

  FakeDeviceMapper() = default;

  // Parses the three files a capture consists of:
  //   info:   `dmsetup info -c --noheadings --separator ' ' -o name,major,minor,uuid`
  //   table:  `dmsetup table`
  //   status: `dmsetup status --noflush`
  // Names may use dmsetup's \xNN mangling. A device listed in info but absent from status
  // vanishes between list and status.
  static Expected<FakeDeviceMapper> from_dmsetup_text(std::string_view info, std::string_view table,
                                                      std::string_view status);
  // Reads DIR/info, DIR/table and DIR/status.
  static Expected<FakeDeviceMapper> from_directory(const std::string& dir);

  // Adds a device whose table and status are single `dmsetup` lines without the name, e.g.
  // "0 2097152 thin-pool 254:0 254:1 128 0 0".
  void add_device(std::string name, DeviceNumber dev, std::string uuid, std::string_view table_line,
                  std::optional<std::string_view> status_line);
  void remove_device(const std::string& name);
  void set_list_error(std::optional<Error> error);
  void set_status_error(const std::string& name, Error error);
  void set_event_nr(const std::string& name, uint32_t event_nr);
  void set_status_line(const std::string& name, std::string_view status_line);
  void set_table_line(const std::string& name, std::string_view table_line);
  void set_suspended(const std::string& name, bool suspended);
  void set_before_status(const std::string& name, std::function<void()> before_status);
  // Counts as a device-mapper change (changed_since_last_call() says so next), as a table reload
  // does in the kernel; every other setter does too.
  void note_change();

  Calls calls() const;

  Expected<std::vector<DmDevice>> list_devices() override;
  Expected<DmReport> status(const DmDevice& device) override;
  Expected<DmReport> table(const DmDevice& device) override;
  Expected<DmInfo> info(const DmDevice& device) override;
  Expected<bool> changed_since_last_call() override;
  Expected<DmVersions> versions() override;

  FakeDeviceMapper(FakeDeviceMapper&& other) noexcept;
  FakeDeviceMapper& operator=(FakeDeviceMapper&& other) noexcept;

 private:
  mutable std::mutex mutex_;
  std::vector<Device> devices_;  // in list order
  std::optional<Error> list_error_;
  Calls calls_;
  uint64_t changes_ = 1;       // counts what changed the devices
  uint64_t changes_seen_ = 0;  // changes_ at the last changed_since_last_call()
  // Name -> position in devices_, rebuilt by find() when it is stale: one lookup per status or
  // table call, as the kernel's name hash, keeps a scrape of thousands of devices linear.
  std::unordered_map<std::string, size_t> index_;

  Device* find(const std::string& name);
};

// Reverses dmsetup's name mangling: "\x2d" -> "-".
std::string unmangle_dm_name(std::string_view mangled);

// Parses one target line "<start> <length> <type> [<params>]".
Expected<DmTarget> parse_target_line(std::string_view line);

}  // namespace thinpool
