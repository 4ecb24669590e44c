// The OpenSSL side of --web.config.file. The server creates an SSL_CTX with
// SSL_CTX_new(TLS_server_method()) and hands it to configure_tls_context(), which decides
// everything about TLS: the certificate chain and key (from PEM text read at start-up, which keeps
// working after privileges are dropped), protocol versions and client certificates. A changed
// config builds a new context; connections already open keep theirs.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

}  // namespace

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
  set_client_verification(ctx, tls.client_auth);
  // Sessions resumed with a client certificate need an id context, or OpenSSL fails them.
  static constexpr unsigned char kSessionContext[] = "thinpool_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (SSL_CTX_set_min_proto_version(ctx, to_openssl(tls.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, tls.max_version ? to_openssl(*tls.max_version) : 0) != 1) {
    return Error{fmt::format("tls_server_config: protocol versions: {}", openssl_reason())};
  }
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
