// Keeps parsed volume groups between scrapes and re-parses only when LVM committed new
// metadata.
//
// For a PV, every load reads the label sector and the metadata area header (two small reads,
// both checksum-verified); the text is read and parsed again only when the committed raw
// location (PV uuid, area, offset, size, checksum) differs from the one the cached VG was
// parsed from. lvm2 writes each new version of the text to a new place with a new checksum and
// bumps seqno, so an unchanged location means unchanged metadata. A backup file is re-read on
// every load (it is small) and re-parsed only when its contents changed.
//
// Thread-safe. The device reads run outside the lock: a PV that stops answering blocks only the
// load that reads it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "lvm/backup_reader.h"
#include "lvm/block_reader.h"
#include "lvm/pv_reader.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {

enum class MetadataSource { kPhysicalVolume, kBackupFile };

// "pv" or "backup": the label value for a metric that says where a VG's numbers came from.
std::string_view to_string(MetadataSource source);

// What a reader of the cache derived from one version of a VG's LVs (the lvm collector: its
// series, collectors/lvm_series.h), kept in the cache in their place (keep_digest()).
class VolumeGroupDigest {
 public:
  virtual ~VolumeGroupDigest() = default;
};

struct LoadedVolumeGroup {
  // The VG; without its LVs (VolumeGroup::without_lvs()) once a digest was kept for this version.
  std::shared_ptr<const VolumeGroup> vg;
  // What keep_digest() kept for this version of the VG; null until then.
  std::shared_ptr<const VolumeGroupDigest> digest;
  MetadataSource source = MetadataSource::kPhysicalVolume;
  std::string origin;     // the device path, or the backup file's path
  bool reused = false;    // served from the cache without reading or parsing the text
  int read_attempts = 1;  // more than 1 when a torn read was retried
  std::optional<MetadataLocation> location;  // PV source only
  // PV source only: the smallest metadata area on the PV it was read from (bytes, header
  // included, as the PV label lists it), and the bytes of the VG's current text in it. lvm2
  // refuses to commit a text larger than (area - 512) / 2 - 512 (two copies must fit).
  uint64_t smallest_metadata_area_bytes = 0;
  uint64_t metadata_text_bytes = 0;
};

class VolumeGroupCache {
 public:
  // `capacity`: entries kept (one per PV metadata area or backup file); the least recently
  // used goes first.
  explicit VolumeGroupCache(PvReadOptions options = {}, size_t capacity = 256);

  // The VG whose metadata the PV behind `reader` holds. Errors: everything read_pv_metadata
  // reports, a PV that holds no usable metadata copy (the reason is in the message), and
  // metadata that does not parse (remembered for its location: not re-parsed until it changes).
  // A read that blocks blocks this call only; the caller bounds it (collectors/lvm_collector.h).
  Expected<LoadedVolumeGroup> load_from_pv(BlockReader& reader);

  // The VG in the backup file dir/<vg_name>.
  Expected<LoadedVolumeGroup> load_from_backup(const std::filesystem::path& dir,
                                               std::string_view vg_name);

  // Keeps `digest` with the version of the VG `loaded` holds and lets go of that version's LVs:
  // from now on it is handed out without them, with `digest`, until LVM commits another (which
  // drops both before it is parsed). Returns that VG without its LVs; `loaded.vg` itself when the
  // cache no longer holds it with its LVs (replaced, evicted, or given a digest already).
  std::shared_ptr<const VolumeGroup> keep_digest(const LoadedVolumeGroup& loaded,
                                                 std::shared_ptr<const VolumeGroupDigest> digest);

  struct Stats {
    uint64_t parses = 0;  // texts parsed
    uint64_t reuses = 0;  // loads answered from the cache
  };
  Stats stats() const;

 private:
  struct Entry {
    std::optional<MetadataLocation> location;  // PV entries
    uint32_t text_crc = 0;                     // backup entries
    size_t text_size = 0;
    FileVersion file_version;               // backup entries: the file the text was read from
    std::shared_ptr<const VolumeGroup> vg;  // or:
    std::optional<Error> error;
    std::shared_ptr<const VolumeGroupDigest> digest;  // set by keep_digest(), vg then without LVs
    uint64_t last_used = 0;
  };

  Entry& remember(const std::string& key, Entry entry);
  // The LoadedVolumeGroup's fields that come from `entry` (the rest is the source's).
  static LoadedVolumeGroup loaded_from(const Entry& entry, bool reused);
  // Before a new version of the entry under `key` is parsed: drops the old VG and its digest, so
  // that they and the successor are never held at once (the caller's lock is held until the new
  // one replaces it), and hands the freed pages back.
  void let_go_before_parse(const std::string& key);

  PvReadOptions options_;
  size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  uint64_t clock_ = 0;
  Stats stats_;
};

}  // namespace thinpool::lvm
