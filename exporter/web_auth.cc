// HTTP Basic authentication against bcrypt hashes (libcrypt from libxcrypt, which Debian 12
// builds with $2a$, $2b$ and $2y$ support).
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <array>
#include <cstring>
#include <mutex>
#include <set>

#include "exporter/web_config.h"

namespace thinpool {
namespace {

// A bcrypt hash (cost 10) of a random string nobody knows: checked for unknown users so that a
// wrong user name takes as long as a wrong password.
constexpr const char* kDummyHash = "$2y$10$nKXB2MJL2srSWvuthYvQYOwhQdZpBlNlJaAdoez2ZWm1YQjvOcTmq";

// Successful checks remembered; more than this and the cache starts again.
constexpr size_t kMaxCachedCredentials = 256;

bool is_bcrypt_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

}  // namespace

bool looks_like_bcrypt(std::string_view hash) {
  // $2y$10$ + 22 characters of salt + 31 of hash
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') {
    return false;
  }
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') {
    return false;
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) {
    return false;
  }
  for (char c : hash.substr(7)) {
    if (!is_bcrypt_char(c)) {
      return false;
    }
  }
  return true;
}

bool verify_bcrypt(const std::string& hash, std::string_view password) {
  if (!looks_like_bcrypt(hash) || password.find('\0') != std::string_view::npos) {
    return false;  // crypt() would stop at the NUL and accept a prefix
  }
  // crypt_data is 32 KiB: too big for a worker thread's stack in good conscience.
  auto data = std::make_unique<crypt_data>();
  std::string password_text(password);
  const char* result = crypt_r(password_text.c_str(), hash.c_str(), data.get());
  OPENSSL_cleanse(password_text.data(), password_text.size());
  if (result == nullptr || result[0] == '*' || std::strlen(result) != hash.size()) {
    return false;
  }
  return CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
}

std::optional<std::string> decode_base64(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int padding = 0;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        group <<= 6;
        continue;
      }
      size_t v = kAlphabet.find(c);
      if (v == std::string_view::npos || padding > 0) {
        return std::nullopt;
      }
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    char bytes[3] = {static_cast<char>((group >> 16) & 0xff),
                     static_cast<char>((group >> 8) & 0xff), static_cast<char>(group & 0xff)};
    out.append(bytes, 3 - padding);
  }
  return out;
}

struct BasicAuthenticator::State {
  std::mutex mutex;
  std::set<std::string> verified;  // SHA-256 of user, password and hash
};

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users)
    : users_(std::move(users)), state_(std::make_unique<State>()) {}

BasicAuthenticator::~BasicAuthenticator() = default;

bool BasicAuthenticator::authorize(const char* authorization) const {
  if (authorization == nullptr || strncasecmp(authorization, "Basic ", 6) != 0) {
    return false;
  }
  std::string_view encoded(authorization + 6);
  while (!encoded.empty() && encoded.front() == ' ') {
    encoded.remove_prefix(1);
  }
  while (!encoded.empty() && encoded.back() == ' ') {
    encoded.remove_suffix(1);
  }
  std::optional<std::string> credentials = decode_base64(encoded);
  if (!credentials) {
    return false;
  }
  auto colon = credentials->find(':');
  if (colon == std::string::npos) {
    OPENSSL_cleanse(credentials->data(), credentials->size());
    return false;
  }
  std::string user = credentials->substr(0, colon);
  std::string_view password = std::string_view(*credentials).substr(colon + 1);
  auto it = users_.find(user);
  const std::string& hash = it != users_.end() ? it->second : std::string(kDummyHash);
  std::string material = user;
  material.push_back('\0');
  material.append(password);
  material.push_back('\0');
  material.append(hash);
  std::string key = sha256(material);
  OPENSSL_cleanse(material.data(), material.size());
  bool ok = false;
  {
    std::lock_guard lock(state_->mutex);
    ok = it != users_.end() && !key.empty() && state_->verified.contains(key);
  }
  if (!ok) {
    ok = verify_bcrypt(hash, password) && it != users_.end();
    if (ok && !key.empty()) {
      std::lock_guard lock(state_->mutex);
      if (state_->verified.size() >= kMaxCachedCredentials) {
        state_->verified.clear();
      }
      state_->verified.insert(key);
    }
  }
  OPENSSL_cleanse(credentials->data(), credentials->size());
  if (!ok) {
    spdlog::debug("basic auth failed for user \"{}\"", user);
  }
  return ok;
}

}  // namespace thinpool
