// A TLS handshake in memory for the web config tests: a server SSL set up by
// configure_tls_context() from testdata/server.{crt,key} and a client SSL, joined by a BIO pair,
// and a client certificate made here with the subject alternative names a test needs.
#pragma once

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "exporter/web_config.h"

namespace thinpool {

inline const std::string kTestData = THINPOOL_HARDENING_TESTDATA;

inline std::string read_testdata(const std::string& name) {
  std::ifstream in(kTestData + "/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// client_sans_allowed() on the server side of a real TLS handshake in memory (a BIO pair), with
// the server set up by configure_tls_context() from testdata/server.{crt,key}.
class TlsHandshake : public testing::Test {
 protected:
  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  struct CtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  };
  struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  struct CertFree {
    void operator()(X509* cert) const { X509_free(cert); }
  };
  using SslPtr = std::unique_ptr<SSL, SslFree>;

  // A self-signed client certificate with the subject alternative names `sans` (OpenSSL's
  // "DNS:a,IP:1.2.3.4" syntax), which the server also takes as its client CA.
  void make_client_certificate(const char* sans) {
    key_.reset(EVP_EC_gen("P-256"));
    ASSERT_TRUE(key_);
    cert_.reset(X509_new());
    X509_set_version(cert_.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert_.get()), 3600);
    X509_NAME* subject = X509_get_subject_name(cert_.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("scraper"), -1, -1, 0);
    X509_set_issuer_name(cert_.get(), subject);
    X509_set_pubkey(cert_.get(), key_.get());
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans);
    ASSERT_NE(ext, nullptr) << sans;
    X509_add_ext(cert_.get(), ext, -1);
    X509_EXTENSION_free(ext);
    ASSERT_GT(X509_sign(cert_.get(), key_.get(), EVP_sha256()), 0);
  }

  // Runs a handshake in which the client presents the certificate made above (if `with_cert`);
  // returns the server's SSL (null if the handshake failed).
  SslPtr handshake(ClientAuth client_auth, bool with_cert = true) {
    TlsServerConfig tls;
    tls.cert_pem = read_testdata("server.crt");
    tls.key_pem = read_testdata("server.key");
    tls.cert_source = "server.crt";
    tls.key_source = "server.key";
    tls.client_auth = client_auth;
    if (cert_) {
      BIO* pem = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(pem, cert_.get());
      char* data = nullptr;
      long size = BIO_get_mem_data(pem, &data);
      tls.client_ca_pem.assign(data, static_cast<size_t>(size));
      BIO_free(pem);
    }
    server_ctx_.reset(SSL_CTX_new(TLS_server_method()));
    Status configured = configure_tls_context(server_ctx_.get(), tls);
    EXPECT_TRUE(configured.ok()) << configured.error().message;
    client_ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (with_cert) {
      SSL_CTX_use_certificate(client_ctx_.get(), cert_.get());
      SSL_CTX_use_PrivateKey(client_ctx_.get(), key_.get());
    }
    SslPtr server(SSL_new(server_ctx_.get()));
    client_.reset(SSL_new(client_ctx_.get()));
    BIO* server_bio = nullptr;
    BIO* client_bio = nullptr;
    BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
    SSL_set_bio(server.get(), server_bio, server_bio);
    SSL_set_bio(client_.get(), client_bio, client_bio);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client_.get());
    bool server_done = false;
    bool client_done = false;
    for (int round = 0; round < 20 && !(server_done && client_done); ++round) {
      for (auto [ssl, done] :
           {std::pair{client_.get(), &client_done}, std::pair{server.get(), &server_done}}) {
        if (*done) {
          continue;
        }
        int rc = SSL_do_handshake(ssl);
        int error = SSL_get_error(ssl, rc);
        if (rc == 1) {
          *done = true;
        } else if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
          ERR_clear_error();
          return nullptr;
        }
      }
    }
    return server_done ? std::move(server) : nullptr;
  }

  std::unique_ptr<EVP_PKEY, KeyFree> key_;
  std::unique_ptr<X509, CertFree> cert_;
  std::unique_ptr<SSL_CTX, CtxFree> server_ctx_;
  std::unique_ptr<SSL_CTX, CtxFree> client_ctx_;
  SslPtr client_;
};

}  // namespace thinpool
