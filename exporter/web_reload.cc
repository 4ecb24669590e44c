// --web.config.file while the server runs: the TLS context and basic-auth users made from it, and
// the file read again when it or a file it names (certificate, key, client CA) changes, so that a
// rotated certificate is served from the next connection on, without a restart.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "exporter/http_internal.h"

namespace thinpool::http {

Expected<std::shared_ptr<const WebState>> make_web_state(std::shared_ptr<const WebConfig> config) {
  auto state = std::make_shared<WebState>();
  if (config->tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) {
      ERR_clear_error();
      return Error{"tls_server_config: SSL_CTX_new failed"};
    }
    // asio's context takes ownership of the native context.
    state->tls = std::make_shared<asio::ssl::context>(ctx);
    if (Status status = configure_tls_context(ctx, *config->tls); !status) {
      return status.error();
    }
  }
  if (!config->basic_auth_users.empty()) {
    state->users = std::make_shared<BasicAuthenticator>(config->basic_auth_users);
  }
  state->config = std::move(config);
  return std::shared_ptr<const WebState>(std::move(state));
}

WebReloader::WebReloader(std::string path, std::shared_ptr<const WebState> initial)
    : path_(std::move(path)), state_(std::move(initial)) {
  fingerprint_ = fingerprint();
  next_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
}

// What identifies the contents of every file the config was read from: device, inode, size and
// change time, so that a file replaced by a rename (as certificate tools and Kubernetes secrets
// do) counts as changed as much as one written in place.
std::string WebReloader::fingerprint() const {
  std::string text;
  std::vector<std::string> files = state_->config->files;
  if (files.empty()) {
    files.push_back(path_);
  }
  for (const std::string& file : files) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
      text += fmt::format("{}:missing:{};", file, errno);
      continue;
    }
    text += fmt::format("{}:{}:{}:{}:{}.{};", file, st.st_dev, st.st_ino, st.st_size,
                        st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  }
  return text;
}

std::shared_ptr<const WebState> WebReloader::current() {
  const auto now = std::chrono::steady_clock::now();
  if (path_.empty() || now < next_check_) {
    return state_;
  }
  next_check_ = now + std::chrono::seconds(1);
  const std::string seen = fingerprint();
  if (seen == fingerprint_ || seen == failed_fingerprint_) {
    return state_;
  }
  auto fail = [&](const std::string& why) {
    failed_fingerprint_ = seen;
    spdlog::error(
        "--web.config.file \"{}\" changed but is not used: {}; the previous config stays "
        "in use",
        path_, why);
    return state_;
  };
  auto loaded = load_web_config(path_);
  if (!loaded) {
    return fail(loaded.error().message);
  }
  if (loaded->tls.has_value() != state_->config->tls.has_value()) {
    return fail(loaded->tls ? "it turns TLS on, which takes a restart"
                            : "it turns TLS off, which takes a restart");
  }
  auto state = make_web_state(std::make_shared<const WebConfig>(std::move(*loaded)));
  if (!state) {
    return fail(state.error().message);
  }
  state_ = std::move(*state);
  // The files the new config names, as they were when it was read.
  fingerprint_ = fingerprint();
  failed_fingerprint_.clear();
  spdlog::info("--web.config.file \"{}\" read again: new connections use it", path_);
  return state_;
}

}  // namespace thinpool::http
