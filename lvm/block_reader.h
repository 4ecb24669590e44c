// The one way the LVM reader touches a disk: positioned reads from a file or block device.
//
// A small interface, so tests feed PV images from memory and fakes that change between reads
// (an LVM update racing the exporter). Implementations never write.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"

namespace thinpool::lvm {

class BlockReader {
 public:
  virtual ~BlockReader() = default;

  // Exactly `length` bytes at byte `offset`. Reading past the end is an error.
  virtual Expected<std::string> read_at(uint64_t offset, size_t length) = 0;

  // What is being read, for error messages: a path, or a test's name for an image.
  virtual std::string name() const = 0;
};

// Reads a file or block device with pread(2).
class FileBlockReader final : public BlockReader {
 public:
  // Opens `path` read-only. A block device is opened with O_DIRECT (as lvm2 itself reads and
  // writes PVs), so each read comes from the device, not from page cache that a concurrent
  // LVM write may be replacing; regular files use ordinary reads.
  static Expected<std::unique_ptr<FileBlockReader>> open(const std::string& path);

  ~FileBlockReader() override;
  FileBlockReader(const FileBlockReader&) = delete;
  FileBlockReader& operator=(const FileBlockReader&) = delete;

  Expected<std::string> read_at(uint64_t offset, size_t length) override;
  std::string name() const override { return path_; }

 private:
  FileBlockReader(std::string path, int fd, bool direct)
      : path_(std::move(path)), fd_(fd), direct_(direct) {}
  Expected<std::string> read_direct(uint64_t offset, size_t length);

  std::string path_;
  int fd_ = -1;
  bool direct_ = false;
};

// An image held in memory (tests, fuzzing, and text already read some other way).
class MemoryBlockReader final : public BlockReader {
 public:
  MemoryBlockReader(std::string image, std::string name = "memory")
      : image_(std::move(image)), name_(std::move(name)) {}

  Expected<std::string> read_at(uint64_t offset, size_t length) override;
  std::string name() const override { return name_; }

  // Replaces the image: the next read sees the new bytes.
  void set_image(std::string image) { image_ = std::move(image); }
  const std::string& image() const { return image_; }

 private:
  std::string image_;
  std::string name_;
};

}  // namespace thinpool::lvm
