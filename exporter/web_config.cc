// Parsing and validation of the exporter-toolkit web config. The checks follow exporter-toolkit's
// (web/tls_config.go, web/handler.go) so that a file Prometheus's exporters accept means the same
// here. Where exporter-toolkit would silently not apply a security setting (client_allowed_sans
// without a verified client certificate), or an option cannot be honoured (HTTP/2), the file is
// refused instead, because ignoring it would weaken the setup unnoticed.
#include "exporter/web_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace thinpool {
namespace {

struct ParseError {
  std::string message;
};

[[noreturn]] void fail(std::string message) {
  throw ParseError{std::move(message)};
}

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    fail(fmt::format("{} must be a string", key));
  }
  return node.as<std::string>();
}

bool boolean(const YAML::Node& node, const std::string& key) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    fail(fmt::format("{} must be true or false", key));
  }
  return value;
}

void check_keys(const YAML::Node& map, const std::string& where,
                const std::set<std::string>& known) {
  if (!map.IsMap()) {
    fail(fmt::format("{} must be a mapping", where));
  }
  for (const auto& entry : map) {
    std::string key = entry.first.as<std::string>();
    if (!known.contains(key)) {
      fail(fmt::format("unknown field \"{}\" in {}", key, where));
    }
  }
}

std::string resolve(const std::string& base_dir, const std::string& name) {
  return !name.empty() && name.front() != '/' && !base_dir.empty() ? base_dir + "/" + name : name;
}

// Reads a file the config names; its path (resolved against the config's folder) goes to `files`.
std::string read_file(const std::string& base_dir, const std::string& name, const std::string& key,
                      std::vector<std::string>& files) {
  std::string path = resolve(base_dir, name);
  if (std::find(files.begin(), files.end(), path) == files.end()) {
    files.push_back(path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(fmt::format("{} \"{}\": {}", key, path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) {
    fail(fmt::format("{} \"{}\" is empty", key, path));
  }
  return text.str();
}

ClientAuth parse_client_auth(const std::string& value) {
  static const std::map<std::string, ClientAuth> kNames = {
      {"", ClientAuth::kNoClientCert},
      {"NoClientCert", ClientAuth::kNoClientCert},
      {"RequestClientCert", ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
  };
  auto it = kNames.find(value);
  if (it == kNames.end()) {
    fail(fmt::format(
        "tls_server_config.client_auth_type \"{}\" is not one of NoClientCert, RequestClientCert, "
        "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert",
        value));
  }
  return it->second;
}

TlsVersion parse_tls_version(const std::string& value, const std::string& key) {
  static const std::map<std::string, TlsVersion> kNames = {
      {"TLS10", TlsVersion::kTls10},
      {"TLS11", TlsVersion::kTls11},
      {"TLS12", TlsVersion::kTls12},
      {"TLS13", TlsVersion::kTls13},
  };
  auto it = kNames.find(value);
  if (it == kNames.end()) {
    fail(fmt::format("{} \"{}\" is not one of TLS10, TLS11, TLS12, TLS13", key, value));
  }
  return it->second;
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& key) {
  std::vector<std::string> values;
  if (node.IsNull()) {
    return values;
  }
  if (!node.IsSequence()) {
    fail(fmt::format("{} must be a list of strings", key));
  }
  for (const auto& item : node) {
    values.push_back(scalar(item, key));
  }
  return values;
}

std::vector<std::string> parse_cipher_suites(const YAML::Node& node, TlsServerConfig& tls) {
  const std::string key = "tls_server_config.cipher_suites";
  std::vector<std::string> names = string_list(node, key);
  bool tls12_suite = false;
  for (const std::string& name : names) {
    std::optional<std::string> openssl = openssl_cipher_name(name);
    if (!openssl) {
      fail(
          fmt::format("{}: unknown cipher \"{}\" (Go's names from crypto/tls CipherSuites(), e.g. "
                      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
                      key, name));
    }
    tls12_suite = tls12_suite || !openssl->empty();
  }
  // TLS 1.3 names are accepted and not applied, as in Go; a list of only those leaves TLS 1.2 and
  // older without a suite, which Go lets fail at every such handshake.
  if (!names.empty() && !tls12_suite) {
    if (tls.max_version && *tls.max_version <= TlsVersion::kTls12) {
      fail(
          fmt::format("{} lists only TLS 1.3 suites, but max_version is {}: no connection could "
                      "be made",
                      key, *tls.max_version == TlsVersion::kTls12 ? "TLS12" : "below TLS12"));
    }
    tls.min_version = TlsVersion::kTls13;
  }
  return names;
}

std::vector<std::string> parse_curves(const YAML::Node& node) {
  const std::string key = "tls_server_config.curve_preferences";
  std::vector<std::string> names = string_list(node, key);
  for (const std::string& name : names) {
    if (!openssl_group_name(name)) {
      fail(fmt::format("{}: unknown curve \"{}\" (one of CurveP256, CurveP384, CurveP521, X25519)",
                       key, name));
    }
  }
  return names;
}

std::vector<std::string> parse_allowed_sans(const YAML::Node& node, ClientAuth client_auth) {
  const std::string key = "tls_server_config.client_allowed_sans";
  if (node.IsSequence() && node.size() == 0) {
    fail(key + " is empty: it would refuse every client; list the allowed names or remove it");
  }
  std::vector<std::string> names = string_list(node, key);
  for (const std::string& name : names) {
    if (name.empty()) {
      fail(key + ": an empty name never matches a certificate");
    }
  }
  // exporter-toolkit checks the names only when a client certificate was asked for, and also on
  // certificates it did not verify, whose names anybody can choose.
  if (!names.empty() && client_auth != ClientAuth::kRequireAndVerifyClientCert &&
      client_auth != ClientAuth::kVerifyClientCertIfGiven) {
    fail(key +
         " needs client_auth_type RequireAndVerifyClientCert (or VerifyClientCertIfGiven) and "
         "client_ca_file: the names of a certificate that was not verified prove nothing");
  }
  return names;
}

std::optional<TlsServerConfig> parse_tls(const YAML::Node& node, const std::string& base_dir,
                                         std::vector<std::string>& files) {
  if (node.IsNull()) {
    return std::nullopt;
  }
  const std::string where = "tls_server_config";
  check_keys(node, where,
             {"cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file",
              "client_allowed_sans", "min_version", "max_version", "cipher_suites",
              "prefer_server_cipher_suites", "curve_preferences"});
  auto get = [&](const char* key) {
    return node[key] ? scalar(node[key], where + "." + key) : std::string();
  };
  std::string cert_file = get("cert_file");
  std::string key_file = get("key_file");
  std::string cert_inline = get("cert");
  std::string key_inline = get("key");
  std::string client_ca_file = get("client_ca_file");
  std::string client_auth_type = get("client_auth_type");
  if (cert_file.empty() && key_file.empty() && cert_inline.empty() && key_inline.empty() &&
      client_ca_file.empty() && client_auth_type.empty()) {
    return std::nullopt;  // as in exporter-toolkit: an empty section means plain HTTP
  }
  if (!cert_file.empty() && !cert_inline.empty()) {
    fail(where + ": set cert_file or cert, not both");
  }
  if (!key_file.empty() && !key_inline.empty()) {
    fail(where + ": set key_file or key, not both");
  }
  if (cert_file.empty() && cert_inline.empty()) {
    fail(where + ": missing cert_file");
  }
  if (key_file.empty() && key_inline.empty()) {
    fail(where + ": missing key_file");
  }
  TlsServerConfig tls;
  tls.cert_source = cert_file.empty() ? where + ".cert" : cert_file;
  tls.key_source = key_file.empty() ? where + ".key" : key_file;
  tls.cert_pem =
      cert_file.empty() ? cert_inline : read_file(base_dir, cert_file, where + ".cert_file", files);
  tls.key_pem =
      key_file.empty() ? key_inline : read_file(base_dir, key_file, where + ".key_file", files);
  tls.client_auth = parse_client_auth(client_auth_type);
  if (!client_ca_file.empty()) {
    if (tls.client_auth == ClientAuth::kNoClientCert) {
      fail(where +
           ": client_ca_file is set but client_auth_type is NoClientCert (set "
           "client_auth_type, e.g. RequireAndVerifyClientCert)");
    }
    tls.client_ca_pem = read_file(base_dir, client_ca_file, where + ".client_ca_file", files);
  } else if (tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
             tls.client_auth == ClientAuth::kRequireAndVerifyClientCert) {
    fail(fmt::format("{}: client_auth_type {} needs client_ca_file", where, client_auth_type));
  }
  if (node["min_version"]) {
    tls.min_version = parse_tls_version(get("min_version"), where + ".min_version");
  }
  if (node["max_version"]) {
    tls.max_version = parse_tls_version(get("max_version"), where + ".max_version");
    if (*tls.max_version < tls.min_version) {
      fail(where + ": max_version is lower than min_version");
    }
  }
  if (node["prefer_server_cipher_suites"]) {
    tls.prefer_server_cipher_suites =
        boolean(node["prefer_server_cipher_suites"], where + ".prefer_server_cipher_suites");
  }
  if (node["cipher_suites"]) {
    tls.cipher_suites = parse_cipher_suites(node["cipher_suites"], tls);
  }
  if (node["curve_preferences"]) {
    tls.curve_preferences = parse_curves(node["curve_preferences"]);
  }
  if (node["client_allowed_sans"]) {
    tls.client_allowed_sans = parse_allowed_sans(node["client_allowed_sans"], tls.client_auth);
  }
  return tls;
}

// exporter-toolkit's extraHTTPHeaders (web/handler.go): the only headers a config may add, and
// for two of them the only values. The names are matched exactly, as there.
const std::map<std::string, std::vector<std::string>>& allowed_headers() {
  static const std::map<std::string, std::vector<std::string>> kAllowed = {
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return kAllowed;
}

std::vector<std::pair<std::string, std::string>> parse_headers(const YAML::Node& node) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (node.IsNull()) {
    return headers;
  }
  if (!node.IsMap()) {
    fail("http_server_config.headers must be a mapping of header name to value");
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    std::string name = entry.first.as<std::string>();
    std::string key = "http_server_config.headers." + name;
    auto allowed = allowed_headers().find(name);
    if (allowed == allowed_headers().end()) {
      fail(fmt::format(
          "http_server_config.headers: HTTP header \"{}\" can not be configured (only "
          "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
          "Content-Security-Policy)",
          name));
    }
    if (!seen.insert(name).second) {
      fail(key + " is given twice");
    }
    std::string value = entry.second.IsNull() ? std::string() : scalar(entry.second, key);
    const std::vector<std::string>& values = allowed->second;
    if (!values.empty() && std::find(values.begin(), values.end(), value) == values.end()) {
      fail(fmt::format("{} \"{}\" is not one of {}", key, value, fmt::join(values, ", ")));
    }
    if (std::any_of(value.begin(), value.end(),
                    [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; })) {
      fail(key + " must not contain control characters (line breaks)");
    }
    if (!value.empty()) {  // blank: the header is not sent
      headers.emplace_back(std::move(name), std::move(value));
    }
  }
  return headers;
}

std::vector<std::pair<std::string, std::string>> parse_http_server_config(const YAML::Node& node) {
  if (node.IsNull()) {
    return {};
  }
  check_keys(node, "http_server_config", {"http2", "headers"});
  // exporter-toolkit's default is true, but without TLS and for scrapes it serves HTTP/1.1, which
  // is all this server speaks: absent and false mean the same here, true cannot be honoured.
  if (node["http2"] && boolean(node["http2"], "http_server_config.http2")) {
    fail(
        "http_server_config.http2: true is not supported: thinpool_exporter serves HTTP/1.1 only "
        "(Prometheus scrapes over HTTP/1.1); remove the key or set it to false");
  }
  return node["headers"] ? parse_headers(node["headers"])
                         : std::vector<std::pair<std::string, std::string>>{};
}

std::map<std::string, std::string> parse_users(const YAML::Node& node) {
  std::map<std::string, std::string> users;
  if (node.IsNull()) {
    return users;
  }
  if (!node.IsMap()) {
    fail("basic_auth_users must be a mapping of user name to bcrypt hash");
  }
  for (const auto& entry : node) {
    std::string user = entry.first.as<std::string>();
    std::string key = "basic_auth_users." + user;
    if (user.empty() || user.find(':') != std::string::npos) {
      fail(fmt::format("basic_auth_users: user name \"{}\" must be non-empty and without ':'",
                       user));
    }
    std::string hash = scalar(entry.second, key);
    if (!looks_like_bcrypt(hash)) {
      // Never echo the value: it might be a plain password pasted by mistake.
      fail(
          fmt::format("{} is not a bcrypt hash ($2a$, $2b$ or $2y$, cost 4-31, 60 characters; "
                      "make one with `htpasswd -nBC 10 {}`)",
                      key, user));
    }
    users.emplace(std::move(user), std::move(hash));
  }
  return users;
}

}  // namespace

Expected<WebConfig> parse_web_config(std::string_view yaml, const std::string& base_dir) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    WebConfig config;
    if (root.IsNull()) {
      return config;
    }
    check_keys(root, "the top level",
               {"tls_server_config", "http_server_config", "basic_auth_users"});
    if (root["tls_server_config"]) {
      config.tls = parse_tls(root["tls_server_config"], base_dir, config.files);
    }
    if (root["http_server_config"]) {
      config.headers = parse_http_server_config(root["http_server_config"]);
    }
    if (root["basic_auth_users"]) {
      config.basic_auth_users = parse_users(root["basic_auth_users"]);
    }
    if (config.tls) {
      // Load the certificate and key into a scratch context now, so that a key that does not
      // match its certificate is reported here rather than by the listener.
      if (Status status = check_tls_config(*config.tls); !status) {
        return status.error();
      }
    }
    return config;
  } catch (const ParseError& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("invalid YAML at line {}, column {}: {}", e.mark.line + 1,
                             e.mark.column + 1, e.msg)};
  }
}

Expected<WebConfig> load_web_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::from_errno(
        errno, fmt::format("--web.config.file \"{}\": {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto slash = path.rfind('/');
  std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  auto config = parse_web_config(text.str(), base_dir);
  if (!config) {
    return Error{fmt::format("--web.config.file \"{}\": {}", path, config.error().message)};
  }
  config->files.insert(config->files.begin(), path);
  return config;
}

}  // namespace thinpool
