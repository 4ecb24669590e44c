// --web.config.file: TLS and basic authentication in the exporter-toolkit format that the
// Prometheus exporters read (https://github.com/prometheus/exporter-toolkit,
// docs/web-configuration.md), so operators can reuse the file they already have:
//
//   tls_server_config:
//     cert_file: server.crt          # paths relative to the config file's folder
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: ca.crt
//     min_version: TLS12
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt, e.g. from `htpasswd -nBC 10 prometheus`
//
// The server reads the file again (and the files it names) when one of them changes, for the next
// connections; a file that does not read or parse keeps the last good config in use.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace thinpool {

// exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names).
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

struct TlsServerConfig {
  // PEM text, read from cert_file/key_file/client_ca_file (or given inline as cert/key).
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;
  std::string cert_source;  // file name (or "cert") for error messages
  std::string key_source;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  std::optional<TlsVersion> max_version;
  bool prefer_server_cipher_suites = true;
  // Go's names, as exporter-toolkit takes them: cipher_suites
  // ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TLS 1.2 and older; empty: OpenSSL's defaults),
  // curve_preferences ("CurveP256", "X25519").
  std::vector<std::string> cipher_suites;
  std::vector<std::string> curve_preferences;
  // client_allowed_sans: when not empty, a client certificate is accepted only if one of its
  // subject alternative names (DNS, IP, e-mail, URI) is in this list.
  std::vector<std::string> client_allowed_sans;
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;
  // user name -> bcrypt hash; empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  // http_server_config.headers: added to every response.
  std::vector<std::pair<std::string, std::string>> headers;
  // Every file the config was read from (the config file itself, certificate, key, client CA):
  // the server reads the config again when one of them changes.
  std::vector<std::string> files;
};

// Parses the YAML text of a web config. Relative file names are taken relative to `base_dir`.
// Unknown keys, unsupported options, unreadable files and malformed hashes are errors that name
// the key.
Expected<WebConfig> parse_web_config(std::string_view yaml, const std::string& base_dir);

// Reads and parses the file; errors start with the file name.
Expected<WebConfig> load_web_config(const std::string& path);

// Checks HTTP Basic credentials against the users' bcrypt hashes. Verifies with libcrypt
// (crypt_r), remembers only a SHA-256 digest of credentials that matched (so that a scrape every
// few seconds does not pay bcrypt's cost each time), and spends the same bcrypt time on unknown
// users as on known ones.
class BasicAuthenticator {
 public:
  explicit BasicAuthenticator(std::map<std::string, std::string> users);
  ~BasicAuthenticator();
  BasicAuthenticator(const BasicAuthenticator&) = delete;
  BasicAuthenticator& operator=(const BasicAuthenticator&) = delete;

  // `authorization` is the Authorization header (nullptr when absent).
  bool authorize(const char* authorization) const;

 private:
  struct State;
  std::map<std::string, std::string> users_;
  std::unique_ptr<State> state_;
};

// True when `password` hashes to `hash` (bcrypt $2a$/$2b$/$2y$), compared in constant time.
bool verify_bcrypt(const std::string& hash, std::string_view password);

// "$2y$10$<53 characters>" with a cost from 4 to 31.
bool looks_like_bcrypt(std::string_view hash);

// Decodes standard base64 (RFC 4648, with padding); nullopt on malformed input.
std::optional<std::string> decode_base64(std::string_view text);

// Sets up an OpenSSL SSL_CTX (passed as void* so that OpenSSL stays out of this header) from
// `tls`: certificate chain, key, protocol versions, cipher suites (TLS 1.2 and older), curves,
// client certificate policy. client_allowed_sans is not part of it: see client_sans_allowed().
Status configure_tls_context(void* ssl_ctx, const TlsServerConfig& tls);

// True when `allowed` is empty or the peer certificate of the TLS connection `ssl` (an SSL*) has
// one of the names in `allowed` among its subject alternative names, compared exactly as
// exporter-toolkit does: DNS names and e-mail addresses as written, IP addresses as Go prints them
// ("127.0.0.1", "::1", "2001:db8::1"), URIs as written. False without a peer certificate. The
// server calls it after the handshake and closes the connection, without a response, on false.
bool client_sans_allowed(void* ssl, const std::vector<std::string>& allowed);

// OpenSSL's name of the cipher suite that Go's crypto/tls calls `go_name` (one of
// tls.CipherSuites(), e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" ->
// "ECDHE-RSA-AES128-GCM-SHA256");
// "" for Go's TLS 1.3 suite names, which Go accepts in a config but does not apply (TLS 1.3 suites
// are not configurable there); nullopt for a name Go does not accept.
std::optional<std::string> openssl_cipher_name(std::string_view go_name);

// OpenSSL's group name for exporter-toolkit's curve names: CurveP256, CurveP384, CurveP521, X25519.
std::optional<std::string> openssl_group_name(std::string_view go_name);

// configure_tls_context() on a scratch context: reports a bad PEM or a key that does not match
// its certificate at start-up, with the file name.
Status check_tls_config(const TlsServerConfig& tls);

}  // namespace thinpool
