// The OpenSSL side of --web.config.file. The server creates an SSL_CTX with
// SSL_CTX_new(TLS_server_method()) and hands it to configure_tls_context(), which decides
// everything about TLS: the certificate chain and key (from PEM text read at start-up, which keeps
// working after privileges are dropped), protocol versions, cipher suites and curves (from Go's
// names, as exporter-toolkit takes them) and client certificates. A changed config builds a new
// context; connections already open keep theirs. client_sans_allowed() checks a connection's
// client certificate against client_allowed_sans after the handshake.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <memory>

#include "exporter/web_config.h"

namespace thinpool {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// The reason of the most recent OpenSSL error, and the queue emptied.
std::string openssl_reason() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) {
    last = code;
  }
  if (last == 0) {
    return "unknown OpenSSL error";
  }
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", last);
}

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Never prompt on the terminal for an encrypted key's passphrase: fail instead.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

// RequestClientCert and RequireAnyClientCert ask for a certificate but do not verify it.
int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

int to_openssl(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

Status use_certificate_chain(SSL_CTX* ctx, const TlsServerConfig& tls) {
  BioPtr bio = memory_bio(tls.cert_pem);
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, no_passphrase, nullptr));
  if (!leaf) {
    return Error{fmt::format("tls_server_config: {}: no PEM certificate ({})", tls.cert_source,
                             openssl_reason())};
  }
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    return Error{fmt::format("tls_server_config: {}: {}", tls.cert_source, openssl_reason())};
  }
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* intermediate = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, intermediate) != 1) {  // takes ownership on success
      X509_free(intermediate);
      return Error{fmt::format("tls_server_config: {}: {}", tls.cert_source, openssl_reason())};
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"
  return {};
}

Status use_private_key(SSL_CTX* ctx, const TlsServerConfig& tls) {
  BioPtr bio = memory_bio(tls.key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return Error{fmt::format("tls_server_config: {}: no unencrypted PEM private key ({})",
                             tls.key_source, openssl_reason())};
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return Error{
        fmt::format("tls_server_config: the key in {} does not match the certificate in "
                    "{} ({})",
                    tls.key_source, tls.cert_source, openssl_reason())};
  }
  return {};
}

Status use_client_ca(SSL_CTX* ctx, const TlsServerConfig& tls) {
  BioPtr bio = memory_bio(tls.client_ca_pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  while (X509Ptr ca{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)}) {
    if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
      return Error{fmt::format("tls_server_config.client_ca_file: {}", openssl_reason())};
    }
    ++count;
  }
  ERR_clear_error();
  if (count == 0) {
    return Error{"tls_server_config.client_ca_file: no PEM certificate in it"};
  }
  return {};
}

void set_client_verification(SSL_CTX* ctx, ClientAuth mode) {
  switch (mode) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_certificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         accept_any_certificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
}

// The suites of Go's tls.CipherSuites() (those it does not call insecure), by Go's name, with
// OpenSSL's; the TLS 1.3 ones have no OpenSSL cipher-list name because neither lets them be chosen.
constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kGoCipherSuites = {{
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
}};

// exporter-toolkit's curve names (web/tls_config.go) and OpenSSL's.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kGoCurves = {{
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
}};

template <size_t N>
std::optional<std::string> lookup(
    const std::array<std::pair<std::string_view, std::string_view>, N>& table,
    std::string_view name) {
  for (const auto& [go, openssl] : table) {
    if (go == name) {
      return std::string(openssl);
    }
  }
  return std::nullopt;
}

Status use_cipher_suites_and_curves(SSL_CTX* ctx, const TlsServerConfig& tls) {
  std::string ciphers;
  for (const std::string& name : tls.cipher_suites) {
    std::optional<std::string> openssl = openssl_cipher_name(name);
    if (!openssl) {
      return Error{fmt::format("tls_server_config.cipher_suites: unknown cipher \"{}\"", name)};
    }
    if (!openssl->empty()) {
      ciphers += (ciphers.empty() ? "" : ":") + *openssl;
    }
  }
  // Only TLS 1.3 names: TLS 1.2 keeps no suite (parse_web_config raised min_version to TLS 1.3).
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return Error{fmt::format("tls_server_config.cipher_suites: {}", openssl_reason())};
  }
  std::string groups;
  for (const std::string& name : tls.curve_preferences) {
    std::optional<std::string> openssl = openssl_group_name(name);
    if (!openssl) {
      return Error{fmt::format("tls_server_config.curve_preferences: unknown curve \"{}\"", name)};
    }
    groups += (groups.empty() ? "" : ":") + *openssl;
  }
  if (!groups.empty() && SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
    return Error{fmt::format("tls_server_config.curve_preferences: {}", openssl_reason())};
  }
  return {};
}

// An IP address SAN as Go's net.IP.String() prints it: IPv4 (also IPv4-mapped IPv6) dotted, IPv6
// in hex groups with the longest run of two or more zero groups (the first of equal runs) as "::".
std::string go_ip_string(const unsigned char* bytes, int length) {
  static constexpr unsigned char kV4InV6Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (length == 16 && std::equal(bytes, bytes + 12, kV4InV6Prefix)) {
    bytes += 12;
    length = 4;
  }
  if (length == 4) {
    return fmt::format("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]);
  }
  if (length != 16) {
    std::string hex = "?";
    for (int i = 0; i < length; ++i) {
      hex += fmt::format("{:02x}", bytes[i]);
    }
    return hex;
  }
  std::array<unsigned, 8> groups{};
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i] = (unsigned{bytes[2 * i]} << 8) | bytes[(2 * i) + 1];
  }
  int best_start = -1;
  int best_length = 1;  // a single zero group is not shortened
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && groups[j] == 0) {
      ++j;
    }
    if (j - i > best_length) {
      best_start = i;
      best_length = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string text;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      text += "::";
      i += best_length - 1;
      continue;
    }
    if (!text.empty() && text.back() != ':') {
      text += ':';
    }
    text += fmt::format("{:x}", groups[i]);
  }
  return text;
}

std::string asn1_text(const ASN1_STRING* text) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<size_t>(ASN1_STRING_length(text)));
}

// The certificate's subject alternative names that exporter-toolkit compares: DNS, e-mail, IP, URI.
std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> names;
  std::unique_ptr<GENERAL_NAMES, NamesFree> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
    switch (name->type) {
      case GEN_DNS:
        names.push_back(asn1_text(name->d.dNSName));
        break;
      case GEN_EMAIL:
        names.push_back(asn1_text(name->d.rfc822Name));
        break;
      case GEN_URI:
        names.push_back(asn1_text(name->d.uniformResourceIdentifier));
        break;
      case GEN_IPADD:
        names.push_back(go_ip_string(ASN1_STRING_get0_data(name->d.iPAddress),
                                     ASN1_STRING_length(name->d.iPAddress)));
        break;
      default:
        break;
    }
  }
  return names;
}

}  // namespace

std::optional<std::string> openssl_cipher_name(std::string_view go_name) {
  return lookup(kGoCipherSuites, go_name);
}

std::optional<std::string> openssl_group_name(std::string_view go_name) {
  return lookup(kGoCurves, go_name);
}

bool client_sans_allowed(void* ssl, const std::vector<std::string>& allowed) {
  if (allowed.empty()) {
    return true;
  }
  X509Ptr peer(SSL_get1_peer_certificate(static_cast<SSL*>(ssl)));
  if (!peer) {
    return false;
  }
  std::vector<std::string> names = subject_alt_names(peer.get());
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
  });
}

Status configure_tls_context(void* ssl_ctx, const TlsServerConfig& tls) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  ERR_clear_error();
  if (Status status = use_certificate_chain(ctx, tls); !status) {
    return status;
  }
  if (Status status = use_private_key(ctx, tls); !status) {
    return status;
  }
  if (!tls.client_ca_pem.empty()) {
    if (Status status = use_client_ca(ctx, tls); !status) {
      return status;
    }
  }
  if (Status status = use_cipher_suites_and_curves(ctx, tls); !status) {
    return status;
  }
  set_client_verification(ctx, tls.client_auth);
  // Sessions resumed with a client certificate need an id context, or OpenSSL fails them.
  static constexpr unsigned char kSessionContext[] = "thinpool_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (SSL_CTX_set_min_proto_version(ctx, to_openssl(tls.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, tls.max_version ? to_openssl(*tls.max_version) : 0) != 1) {
    return Error{fmt::format("tls_server_config: protocol versions: {}", openssl_reason())};
  }
  // OpenSSL's read and write buffers (about 34 KiB) only while a record is in flight, not for the
  // whole life of a kept-alive connection.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  uint64_t options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
  if (tls.prefer_server_cipher_suites) {
    options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  }
  SSL_CTX_set_options(ctx, options);
  return {};
}

Status check_tls_config(const TlsServerConfig& tls) {
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    return Error{fmt::format("tls_server_config: SSL_CTX_new: {}", openssl_reason())};
  }
  return configure_tls_context(ctx.get(), tls);
}

}  // namespace thinpool
