// Parsing and validation of the exporter-toolkit web config. The checks follow exporter-toolkit's
// (web/tls_config.go) so that a file Prometheus's exporters accept means the same here; options
// that cannot be honoured with civetweb and OpenSSL are refused rather than silently ignored,
// because ignoring a security setting (e.g. client_allowed_sans) would weaken it unnoticed.
#include "exporter/web_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

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

std::string read_file(const std::string& base_dir, const std::string& name,
                      const std::string& key) {
  std::string path =
      !name.empty() && name.front() != '/' && !base_dir.empty() ? base_dir + "/" + name : name;
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

std::optional<TlsServerConfig> parse_tls(const YAML::Node& node, const std::string& base_dir) {
  if (node.IsNull()) {
    return std::nullopt;
  }
  const std::string where = "tls_server_config";
  check_keys(node, where,
             {"cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file",
              "client_allowed_sans", "min_version", "max_version", "cipher_suites",
              "prefer_server_cipher_suites", "curve_preferences"});
  for (const char* unsupported : {"cipher_suites", "curve_preferences", "client_allowed_sans"}) {
    if (node[unsupported]) {
      fail(
          fmt::format("{}.{} is not supported by thinpool_exporter (OpenSSL's defaults apply to "
                      "ciphers and curves); remove it",
                      where, unsupported));
    }
  }
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
      cert_file.empty() ? cert_inline : read_file(base_dir, cert_file, where + ".cert_file");
  tls.key_pem = key_file.empty() ? key_inline : read_file(base_dir, key_file, where + ".key_file");
  tls.client_auth = parse_client_auth(client_auth_type);
  if (!client_ca_file.empty()) {
    if (tls.client_auth == ClientAuth::kNoClientCert) {
      fail(where +
           ": client_ca_file is set but client_auth_type is NoClientCert (set "
           "client_auth_type, e.g. RequireAndVerifyClientCert)");
    }
    tls.client_ca_pem = read_file(base_dir, client_ca_file, where + ".client_ca_file");
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
  return tls;
}

void parse_http_server_config(const YAML::Node& node) {
  if (node.IsNull()) {
    return;
  }
  check_keys(node, "http_server_config", {"http2", "headers"});
  if (node["http2"]) {
    boolean(node["http2"], "http_server_config.http2");  // civetweb speaks HTTP/1.1 only
  }
  if (node["headers"] && !node["headers"].IsNull()) {
    fail("http_server_config.headers is not supported by thinpool_exporter; remove it");
  }
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
      config.tls = parse_tls(root["tls_server_config"], base_dir);
    }
    if (root["http_server_config"]) {
      parse_http_server_config(root["http_server_config"]);
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
  return config;
}

}  // namespace thinpool
