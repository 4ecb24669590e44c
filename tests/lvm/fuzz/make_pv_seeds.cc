// Writes the PV reader fuzzer's seed corpus: small PV images (16 KiB, an 8 KiB metadata area)
// in the shapes lvm2 writes, each behind the fuzzer's flags byte (all checksums fixed).
// Usage: make_pv_seeds OUTPUT_DIR METADATA_TEXT_FILE
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/lvm/pv_image.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR METADATA_TEXT_FILE\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();

  using thinpool::lvm::testing::PvImageSpec;
  PvImageSpec base;
  base.image_bytes = 16ULL * 1024;
  base.mda_size = 8ULL * 1024;
  base.data_offset = 12ULL * 1024;
  base.text = text.str();

  auto write = [&](const std::string& name, const PvImageSpec& spec) {
    std::ofstream seed(out / name, std::ios::binary);
    seed << '\x07' << thinpool::lvm::testing::build_pv_image(spec);
  };
  write("plain", base);
  PvImageSpec wrapped = base;
  wrapped.text_offset = 8ULL * 1024 - 1000;
  write("wrapped", wrapped);
  PvImageSpec sector0 = base;
  sector0.label_sector = 0;
  write("label_sector0", sector0);
  PvImageSpec two = base;
  two.second_mda = true;
  two.second_mda_size = 4ULL * 1024;
  two.text = "vg { }\n";
  write("two_areas", two);
  PvImageSpec ignored = base;
  ignored.raw_flags = 1;
  write("ignored", ignored);
  PvImageSpec unused = base;
  unused.text.clear();
  write("unused", unused);
  return 0;
}
