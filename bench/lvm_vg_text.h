// The metadata text lvm2 2.03 writes for one VG with a thin pool and N thin LVs: what the lvm
// benchmarks (lvm_bench.cc, lvm_parse_memory.cc) parse.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace thinpool::bench {

// A linear LV section: `extents` on pv0 from `first`.
inline std::string linear_lv(const std::string& name, uint64_t first, uint64_t extents) {
  return fmt::format(
      "\t\t{} {{\n\t\t\tid = \"{:0>6}-0000-0000-0000-0000-0000-000000\"\n"
      "\t\t\tstatus = [\"READ\", \"WRITE\"]\n\t\t\tflags = []\n"
      "\t\t\tcreation_time = 1764000000\n\t\t\tcreation_host = \"host\"\n"
      "\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {{\n\t\t\t\tstart_extent = 0\n"
      "\t\t\t\textent_count = {}\n\n\t\t\t\ttype = \"striped\"\n\t\t\t\tstripe_count = 1\n\n"
      "\t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", {}\n\t\t\t\t]\n\t\t\t}}\n\t\t}}\n",
      name, first, extents, first);
}

// The name of thin LV `i`: "volume-00000042", or with `cinder_names` as OpenStack Cinder names
// them (and the VM benchmark, tests/vm/lib/bench-pool.sh): "volume-0000002a-1111-4222-8333-...".
inline std::string volume_name(int i, bool cinder_names) {
  return cinder_names ? fmt::format("volume-{:08x}-1111-4222-8333-{:012x}", i, i)
                      : fmt::format("volume-{:08d}", i);
}

// One VG: pv0, a pool (pool_tmeta, pool_tdata) and `volumes` thin LVs of 1 GiB, every tenth a
// thin snapshot of the one before.
inline std::string vg_text(int volumes, bool cinder_names = false) {
  std::string text =
      "contents = \"Text Format Volume Group\"\nversion = 1\n\n"
      "description = \"\"\n\ncreation_host = \"host\"\ncreation_time = 1764000000\n\n"
      "vgbench {\n\tid = \"Xq3dGk-mF2o-Lr8b-Vx0Q-p1Zc-Hw4T-yN7s2E\"\n\tseqno = 20001\n"
      "\tformat = \"lvm2\"\n\tstatus = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n\tflags = []\n"
      "\textent_size = 8192\n\tmax_lv = 0\n\tmax_pv = 0\n\tmetadata_copies = 0\n\n"
      "\tphysical_volumes {\n\n\t\tpv0 {\n\t\t\tid = \"fk2kNV-sDQn-3cAE-7vGt-Ld2w-Qp9X-mB1rTa\"\n"
      "\t\t\tdevice = \"/dev/vdb\"\n\n\t\t\tstatus = [\"ALLOCATABLE\"]\n\t\t\tflags = []\n"
      "\t\t\tdev_size = 2147483648\n\t\t\tpe_start = 2048\n\t\t\tpe_count = 262143\n\t\t}\n\t}\n\n"
      "\tlogical_volumes {\n\n"
      "\t\tpool {\n\t\t\tid = \"bA8cDe-Fg1H-iJ2k-Lm3N-oP4q-Rs5T-uV6wXy\"\n"
      "\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n"
      "\t\t\tcreation_time = 1764000000\n\t\t\tcreation_host = \"host\"\n"
      "\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n"
      "\t\t\t\textent_count = 25600\n\n\t\t\t\ttype = \"thin-pool\"\n"
      "\t\t\t\tmetadata = \"pool_tmeta\"\n\t\t\t\tpool = \"pool_tdata\"\n";
  text += fmt::format("\t\t\t\ttransaction_id = {}\n", volumes);
  text +=
      "\t\t\t\tchunk_size = 128\n\t\t\t\tdiscards = \"passdown\"\n"
      "\t\t\t\tzero_new_blocks = 1\n\t\t\t}\n\t\t}\n";
  for (int i = 0; i < volumes; ++i) {
    const bool snapshot = i % 10 == 9;
    text += fmt::format(
        "\t\t{} {{\n\t\t\tid = \"{:0>6}-1111-1111-1111-1111-1111-111111\"\n"
        "\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"{}]\n\t\t\tflags = []\n"
        "\t\t\tcreation_time = {}\n\t\t\tcreation_host = \"host\"\n"
        "\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {{\n\t\t\t\tstart_extent = 0\n"
        "\t\t\t\textent_count = 256\n\n\t\t\t\ttype = \"thin\"\n\t\t\t\tthin_pool = \"pool\"\n"
        "\t\t\t\ttransaction_id = {}\n\t\t\t\tdevice_id = {}\n{}\t\t\t}}\n\t\t}}\n",
        volume_name(i, cinder_names), i, snapshot ? ", \"ACTIVATION_SKIP\"" : "", 1764000000 + i, i,
        i + 1,
        snapshot ? fmt::format("\t\t\t\torigin = \"{}\"\n", volume_name(i - 1, cinder_names)) : "");
  }
  text += linear_lv("pool_tmeta", 0, 256);
  text += linear_lv("pool_tdata", 256, 25600);
  text += "\t}\n}\n";
  return text;
}

}  // namespace thinpool::bench
