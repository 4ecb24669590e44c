#include "exporter/gzip.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/exporter/gunzip.h"

namespace thinpool {
namespace {

// Exposition-like text, random bytes: what compresses well and what does not at all.
std::string exposition_like(size_t size) {
  std::string text;
  uint64_t x = 88172645463325252ull;
  while (text.size() < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    text += "thinpool_volume_size_bytes{volume=\"v" + std::to_string(x % 100000) + "\"} " +
            std::to_string(x) + "\n";
  }
  return text;
}

std::string random_bytes(size_t size) {
  std::string bytes;
  uint64_t x = 2463534242ull;
  while (bytes.size() < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bytes.append(reinterpret_cast<const char*>(&x), sizeof x);
  }
  return bytes;
}

TEST(GzipCompress, RoundTripsBigSmallEmptyAndIncompressibleBodies) {
  for (const std::string& body : {exposition_like(3'000'000), std::string("small\n"), std::string(),
                                  random_bytes(300'000), std::string(100'000, 'x')}) {
    Expected<std::string> compressed = gzip_compress(body);
    ASSERT_TRUE(compressed.ok()) << compressed.error().message;
    ASSERT_GE(compressed->size(), 18u);  // header and trailer at least
    EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
    const Inflated inflated = gunzip(*compressed);
    EXPECT_TRUE(inflated.complete);
    EXPECT_EQ(inflated.text, body);
    EXPECT_LE(compressed->size(), body.size() + body.size() / 100 + 64);  // stored, at worst
  }
}

TEST(GzipCompress, ShrinksExpositionTextSeveralTimes) {
  const std::string body = exposition_like(1'000'000);
  Expected<std::string> compressed = gzip_compress(body);
  ASSERT_TRUE(compressed.ok());
  EXPECT_LT(compressed->size(), body.size() / 3);
}

TEST(GzipStream, PiecesOfAnySizeMakeOneMember) {
  // The same text given whole, a byte at a time near the start, in pieces around the stream's
  // 64 KiB output buffer and in one piece after empty ones: one member each, the text back whole.
  const std::string text = exposition_like(700'000) + random_bytes(200'000);
  for (const std::vector<size_t>& sizes :
       std::vector<std::vector<size_t>>{{text.size()},
                                        {1, 1, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144},
                                        {65535, 65536, 65537, 1, 131072},
                                        {0, 0, 4096, 0, size_t{256} * 1024}}) {
    GzipStream gzip;
    std::string out;
    size_t at = 0;
    for (size_t size : sizes) {
      size = std::min(size, text.size() - at);
      ASSERT_TRUE(gzip.write(std::string_view(text).substr(at, size), out).ok());
      at += size;
    }
    ASSERT_TRUE(gzip.write(std::string_view(text).substr(at), out).ok());
    ASSERT_TRUE(gzip.finish(out).ok());
    const Inflated inflated = gunzip(out);
    EXPECT_TRUE(inflated.complete);
    EXPECT_EQ(inflated.text.size(), text.size());
    EXPECT_TRUE(inflated.text == text);
  }
}

TEST(GzipStream, HandsOverCompressedBytesBeforeTheEnd) {
  // What a streamed body relies on: most of the output is there before finish().
  const std::string text = exposition_like(4'000'000);
  GzipStream gzip;
  std::string out;
  ASSERT_TRUE(gzip.write(text, out).ok());
  const size_t before_finish = out.size();
  ASSERT_TRUE(gzip.finish(out).ok());
  EXPECT_GT(before_finish, out.size() / 2);
  EXPECT_EQ(gunzip(out).text, text);
}

TEST(GzipStream, RefusesInputAfterTheEnd) {
  GzipStream gzip;
  std::string out;
  ASSERT_TRUE(gzip.write("abc", out).ok());
  ASSERT_TRUE(gzip.finish(out).ok());
  const std::string member = out;
  Status again = gzip.write("more", out);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already finished"), std::string::npos);
  EXPECT_FALSE(gzip.finish(out).ok());
  EXPECT_EQ(out, member);  // nothing appended
  EXPECT_EQ(gunzip(out).text, "abc");
}

}  // namespace
}  // namespace thinpool
