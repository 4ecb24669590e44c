#include "lvm/metadata_cache.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <utility>

#include "lvm/backup_reader.h"
#include "lvm/lvm_crc.h"

namespace thinpool::lvm {
namespace {

std::string pv_key(const MetadataLocation& location) {
  return fmt::format("pv:{}@{}", location.pv_uuid, location.mda_start);
}

// Hands freed heap pages back to the kernel: before a parse (what the old version and the last
// scrape's body left, which the parse would otherwise grow the heap beside) and after it (what the
// parse freed). glibc keeps freed heap pages for later allocations (it trims only the top of the
// heap, and only past M_TRIM_THRESHOLD), so without this the peak of a parse stays resident until
// the process ends. Twice per parse, which follows a change LVM committed: 0.1 to 0.3 ms each at
// 10,000 thin LVs (bench/lvm_parse_memory.cc).
void release_freed_memory() {
  malloc_trim(0);
}

}  // namespace

void VolumeGroupCache::let_go_before_parse(const std::string& key) {
  if (auto it = entries_.find(key); it != entries_.end() && it->second.vg != nullptr) {
    it->second.vg.reset();
    it->second.digest.reset();
    it->second.error = Error{"replaced by a newer version"};
  }
  release_freed_memory();
}

std::string_view to_string(MetadataSource source) {
  switch (source) {
    case MetadataSource::kPhysicalVolume:
      return "pv";
    case MetadataSource::kBackupFile:
      return "backup";
  }
  return "unknown";
}

VolumeGroupCache::VolumeGroupCache(PvReadOptions options, size_t capacity)
    : options_(std::move(options)), capacity_(std::max<size_t>(1, capacity)) {}

VolumeGroupCache::Stats VolumeGroupCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

LoadedVolumeGroup VolumeGroupCache::loaded_from(const Entry& entry, bool reused) {
  LoadedVolumeGroup loaded;
  loaded.vg = entry.vg;
  loaded.digest = entry.digest;
  loaded.reused = reused;
  return loaded;
}

std::shared_ptr<const VolumeGroup> VolumeGroupCache::keep_digest(
    const LoadedVolumeGroup& loaded, std::shared_ptr<const VolumeGroupDigest> digest) {
  std::lock_guard lock(mutex_);
  for (auto& [key, entry] : entries_) {
    if (entry.vg != nullptr && entry.vg == loaded.vg && entry.digest == nullptr) {
      entry.digest = std::move(digest);
      entry.vg = std::make_shared<const VolumeGroup>(entry.vg->without_lvs());
      return entry.vg;
    }
  }
  return loaded.vg;
}

VolumeGroupCache::Entry& VolumeGroupCache::remember(const std::string& key, Entry entry) {
  entry.last_used = ++clock_;
  Entry& stored = entries_[key] = std::move(entry);
  while (entries_.size() > capacity_) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    entries_.erase(oldest);
  }
  return stored;
}

Expected<LoadedVolumeGroup> VolumeGroupCache::load_from_pv(BlockReader& reader) {
  // The reads run without the lock: a device that stops answering blocks only the load that
  // reads it, never the loads of other volume groups.
  PvReadOptions options = options_;
  options.skip_text = [this](const MetadataLocation& location) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(pv_key(location));
    return it != entries_.end() && it->second.location == location;
  };
  Expected<PvMetadata> metadata = read_pv_metadata(reader, options);
  std::unique_lock lock(mutex_);
  if (metadata.ok() && metadata->text_skipped && metadata->location &&
      !entries_.contains(pv_key(*metadata->location))) {
    // Another load evicted the entry since the check: read the text after all.
    lock.unlock();
    options.skip_text = nullptr;
    metadata = read_pv_metadata(reader, options);
    lock.lock();
  }
  if (!metadata.ok()) {
    return metadata.error();
  }
  if (!metadata->location) {
    return Error::parse(fmt::format("{}: {}", reader.name(), metadata->no_metadata_reason));
  }
  const MetadataLocation& location = *metadata->location;
  const std::string key = pv_key(location);
  Entry* entry = nullptr;
  bool reused = false;
  if (metadata->text_skipped) {
    entry = &entries_.at(key);
    entry->last_used = ++clock_;
    reused = true;
    ++stats_.reuses;
  } else {
    Entry fresh;
    fresh.location = location;
    let_go_before_parse(key);
    Expected<VolumeGroup> vg = parse_volume_group(metadata->text);
    release_freed_memory();
    ++stats_.parses;
    if (vg.ok()) {
      fresh.vg = std::make_shared<const VolumeGroup>(std::move(*vg));
    } else {
      fresh.error = Error{fmt::format("{}: metadata at byte {} (seen at attempt {}): {}",
                                      reader.name(), location.mda_start + location.raw.offset,
                                      metadata->attempts, vg.error().message),
                          vg.error().kind};
    }
    entry = &remember(key, std::move(fresh));
  }
  if (entry->error) {
    return *entry->error;
  }
  LoadedVolumeGroup loaded = loaded_from(*entry, reused);
  loaded.source = MetadataSource::kPhysicalVolume;
  loaded.origin = reader.name();
  loaded.read_attempts = metadata->attempts;
  loaded.location = location;
  for (const DiskArea& area : metadata->label.metadata_areas) {
    if (loaded.smallest_metadata_area_bytes == 0 ||
        area.size < loaded.smallest_metadata_area_bytes) {
      loaded.smallest_metadata_area_bytes = area.size;
    }
  }
  loaded.metadata_text_bytes = location.raw.size;
  return loaded;
}

Expected<LoadedVolumeGroup> VolumeGroupCache::load_from_backup(const std::filesystem::path& dir,
                                                               std::string_view vg_name) {
  std::lock_guard lock(mutex_);
  const std::string key = "backup:" + (dir / std::string(vg_name)).string();
  auto it = entries_.find(key);
  // A file that is still the version the cached VG was read from is not read again.
  Expected<BackupText> backup = read_backup_file(
      dir, vg_name, 64ULL << 20, it != entries_.end() ? &it->second.file_version : nullptr);
  if (!backup.ok()) {
    return backup.error();
  }
  const uint32_t crc = backup->read ? lvm_crc(kLvmInitialCrc, backup->text) : 0;
  Entry* entry = nullptr;
  bool reused = false;
  if (it != entries_.end() && (!backup->read || (it->second.text_crc == crc &&
                                                 it->second.text_size == backup->text.size()))) {
    entry = &it->second;
    entry->last_used = ++clock_;
    entry->file_version = backup->version;
    reused = true;
    ++stats_.reuses;
  } else {
    Entry fresh;
    fresh.text_crc = crc;
    fresh.text_size = backup->text.size();
    fresh.file_version = backup->version;
    let_go_before_parse(key);
    Expected<VolumeGroup> vg = parse_backup(*backup, vg_name);
    release_freed_memory();
    ++stats_.parses;
    if (!vg.ok()) {
      fresh.error = vg.error();
    } else {
      fresh.vg = std::make_shared<const VolumeGroup>(std::move(*vg));
    }
    entry = &remember(key, std::move(fresh));
  }
  if (entry->error) {
    return *entry->error;
  }
  LoadedVolumeGroup loaded = loaded_from(*entry, reused);
  loaded.source = MetadataSource::kBackupFile;
  loaded.origin = backup->path.string();
  return loaded;
}

}  // namespace thinpool::lvm
