// Debian 12's civetweb 1.15 loads OpenSSL at run time: dlopen("libssl.so") and
// dlopen("libcrypto.so") (the unversioned names that only libssl-dev provides), then dlsym() of
// each function it uses, among them SSL_get_peer_certificate, which OpenSSL 3 no longer exports
// (it became a macro for SSL_get1_peer_certificate). civetweb does not notice the NULL and calls
// it on every TLS connection: the server segfaults on the first handshake.
//
// This file is built twice, as two tiny shared libraries in the exporter's private library
// folder, with the SONAMEs "libssl.so" and "libcrypto.so" and a DT_NEEDED on the real
// libssl.so.3 / libcrypto.so.3. The exporter links both, so they are loaded at start-up; glibc's
// dlopen() matches a requested name against the SONAMEs of loaded objects before searching the
// disk, so civetweb's dlopen() gets these, and its dlsym() finds every OpenSSL function through
// their dependencies, and SSL_get_peer_certificate here. Nothing else in the process is changed.
#include <openssl/ssl.h>

#ifdef THINPOOL_SHIM_LIBSSL
#undef SSL_get_peer_certificate  // a macro for SSL_get1_peer_certificate in OpenSSL 3's headers
extern "C" {
// The OpenSSL 1.1 function: the peer's certificate with a reference the caller frees.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}
}
#endif

// Referenced by the exporter so that the linker keeps the dependency on both shims.
extern "C" __attribute__((visibility("default"))) int THINPOOL_SHIM_SYMBOL() {
  return 1;
}
