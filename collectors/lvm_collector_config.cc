// The lvm collector's view of LVM's configuration: lvm.conf and lvmlocal.conf (re-read when a file
// changes, the last good one kept), the scanner's filters from them, and each pool's autoextend
// policy with its metadata profile.
#include <spdlog/spdlog.h>

#include "collectors/lvm_collector.h"

namespace thinpool {

void LvmCollector::refresh_config() {
  if (config_dir_.empty() ||
      (config_ && !config_->changed() && selection_ && !selection_->changed())) {
    return;
  }
  Expected<lvm::LvmConfig> config = lvm::LvmConfig::load(config_dir_);
  Expected<lvm::DeviceSelection> selection =
      config ? lvm::DeviceSelection::load(*config) : Expected<lvm::DeviceSelection>(config.error());
  {
    std::lock_guard lock(found_mutex_);
    config_read_ = selection.ok();
  }
  if (!selection) {
    // The last good configuration stays; it is tried again when a file changes.
    config_failures_.failing("lvm.conf", selection.error().message);
    if (!config_) {
      // The first read failed: lvm2's defaults (every device) until it works.
      std::lock_guard lock(found_mutex_);
      config_ = std::make_shared<const lvm::LvmConfig>(config_dir_);
      selection_.reset();
    }
    return;
  }
  config_failures_.working("lvm.conf");
  for (const std::string& warning : config->warnings()) {
    spdlog::warn("lvm: {}", warning);
  }
  auto shared = std::make_shared<const lvm::DeviceSelection>(std::move(*selection));
  {
    std::lock_guard lock(found_mutex_);
    config_ = std::make_shared<const lvm::LvmConfig>(std::move(*config));
    selection_ = shared;
  }
  if (scanner_ == nullptr) {
    return;
  }
  PvScanner::Options options;
  options.scan_lvs = config_->scan_lvs();
  options.accept = [shared](const BlockDevice& device) {
    // With a devices file the PVID decides, once the label is read.
    return shared->uses_devices_file() || shared->selects({device.names, std::nullopt, {}, {}});
  };
  options.accept_pv = [shared](const BlockDevice& device, const lvm::PvLabel& label) {
    return shared->selects({device.names, std::nullopt, {}, lvm::normalize_pvid(label.pv_uuid)});
  };
  scanner_->set_options(std::move(options));
}

std::optional<lvm::ThinPoolAutoextend> LvmCollector::autoextend(const lvm::ThinPoolSummary& pool) {
  std::lock_guard lock(found_mutex_);
  if (!config_) {
    return std::nullopt;
  }
  if (pool.profile.empty()) {
    return config_->thin_pool_autoextend();
  }
  auto known = profiles_.find(pool.profile);
  if (known == profiles_.end() || (known->second && known->second->changed())) {
    Expected<lvm::LvmProfile> loaded = config_->load_profile(pool.profile);
    if (loaded) {
      config_failures_.working("profile " + pool.profile);
    } else {
      config_failures_.failing("profile " + pool.profile, loaded.error().message);
    }
    known = profiles_.insert_or_assign(pool.profile, std::move(loaded)).first;
  }
  if (!known->second) {
    profiles_read_ = false;
    return std::nullopt;
  }
  return config_->thin_pool_autoextend(&*known->second);
}

}  // namespace thinpool
