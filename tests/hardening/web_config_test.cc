#include "exporter/web_config.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>

#include "tests/hardening/tls_handshake.h"

namespace thinpool {
namespace {

// bcrypt (cost 4) of "s3cret: with colon" in the three spellings libxcrypt accepts.
constexpr const char* kHash2a = "$2a$04$CUka7tlkWWq5SABBqCl7vON3LzCg1eGT7.a4/y8jbHj88qUZVCnjG";
constexpr const char* kHash2b = "$2b$04$k1T0wJj7drzMpjRuoH4AP.A93RMwaQqUAqRG7WUyRoD1ECCgeEJqm";
constexpr const char* kHash2y = "$2y$04$05JdUuAaK77B2I4n.xi6LObYs5TKPV5YUwW.h9ih8TsRLSpJcUW3G";
// Cost 10 (about 50 ms per check), for the cache test.
constexpr const char* kHashCost10 = "$2y$10$A8s/ZrhbBQ.X21D.KRSbWOezJPlJC1WKgeGxiGvveU/6HMLIByiQK";
constexpr const char* kPassword = "s3cret: with colon";

std::string basic(const std::string& user_and_password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  size_t i = 0;
  const auto& in = user_and_password;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (in.size() - i == 1) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (in.size() - i == 2) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

Expected<WebConfig> parse(const std::string& yaml) {
  return parse_web_config(yaml, kTestData);
}

std::string error_of(const std::string& yaml) {
  auto config = parse(yaml);
  EXPECT_FALSE(config.ok()) << yaml;
  return config.ok() ? "" : config.error().message;
}

TEST(WebConfig, EmptyFileMeansPlainHttpWithoutAuth) {
  auto config = parse("");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->tls);
  EXPECT_TRUE(config->basic_auth_users.empty());
  auto empty_tls = parse("tls_server_config: {}\n");
  ASSERT_TRUE(empty_tls.ok());
  EXPECT_FALSE(empty_tls->tls);
}

TEST(WebConfig, ReadsTlsFilesRelativeToTheConfigFolder) {
  auto config = parse(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  min_version: TLS13\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->tls);
  EXPECT_NE(config->tls->cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(config->tls->key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kNoClientCert);
}

TEST(WebConfig, ClientCertificates) {
  auto config = parse(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: server.crt\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_FALSE(config->tls->client_ca_pem.empty());
}

TEST(WebConfig, CipherSuitesAndCurvesInGoNames) {
  auto config = parse(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  cipher_suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
      "  - TLS_AES_128_GCM_SHA256\n  - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"
      "  curve_preferences: [X25519, CurveP256, CurveP384, CurveP521]\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->tls->cipher_suites.size(), 3U);
  EXPECT_EQ(config->tls->curve_preferences,
            (std::vector<std::string>{"X25519", "CurveP256", "CurveP384", "CurveP521"}));
  EXPECT_EQ(config->tls->min_version, TlsVersion::kTls12);  // a TLS 1.2 suite is listed
  EXPECT_EQ(openssl_cipher_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(openssl_cipher_name("TLS_AES_256_GCM_SHA384"), "");  // TLS 1.3: not configurable
  EXPECT_FALSE(openssl_cipher_name("ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_EQ(openssl_group_name("CurveP521"), "P-521");
  EXPECT_FALSE(openssl_group_name("P-256"));
  // Only TLS 1.3 names: as in Go, TLS 1.2 has no suite left, so only TLS 1.3 is offered.
  auto only13 = parse(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n");
  ASSERT_TRUE(only13.ok()) << only13.error().message;
  EXPECT_EQ(only13->tls->min_version, TlsVersion::kTls13);
}

TEST(WebConfig, HeadersExporterToolkitAllows) {
  auto config = parse(
      "http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n"
      "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
      "    X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n"
      "    Content-Security-Policy: \"default-src 'self'\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->headers,
            (std::vector<std::pair<std::string, std::string>>{
                {"X-Frame-Options", "deny"},
                {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
                {"X-Content-Type-Options", "nosniff"},
                {"X-XSS-Protection", "1"},
                {"Content-Security-Policy", "default-src 'self'"}}));
  // Blank means "not sent" (exporter-toolkit's documentation), http2 absent means its default.
  auto blank = parse("http_server_config:\n  headers:\n    X-XSS-Protection:\n");
  ASSERT_TRUE(blank.ok()) << blank.error().message;
  EXPECT_TRUE(blank->headers.empty());
  EXPECT_TRUE(parse("http_server_config:\n  headers: {}\n").ok());
  EXPECT_TRUE(parse("http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n").ok());
}

TEST(WebConfig, ClientAllowedSans) {
  auto config = parse(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: server.crt\n"
      "  client_allowed_sans: [scraper.example, 127.0.0.1, \"::1\"]\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->tls->client_allowed_sans,
            (std::vector<std::string>{"scraper.example", "127.0.0.1", "::1"}));
}

TEST(WebConfig, ListsEveryFileItWasReadFrom) {
  std::string dir = testing::TempDir() + "web_config_files";
  std::string self = dir + "/web.yml";
  ASSERT_EQ(std::system(("mkdir -p " + dir + " && cp " + kTestData + "/server.crt " + kTestData +
                         "/server.key " + dir + "/")
                            .c_str()),
            0);
  std::ofstream(self) << "tls_server_config:\n  cert_file: server.crt\n  key_file: " << dir
                      << "/server.key\n  client_auth_type: RequireAndVerifyClientCert\n"
                         "  client_ca_file: server.crt\n";
  auto config = load_web_config(self);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->files,
            (std::vector<std::string>{self, dir + "/server.crt", dir + "/server.key"}));
  std::ofstream(self) << "basic_auth_users: {}\n";
  auto plain = load_web_config(self);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->files, std::vector<std::string>{self});
}

TEST(WebConfig, LoadResolvesRelativeNamesAgainstTheFile) {
  auto missing = load_web_config(kTestData + "/no-such-web.yml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "--web.config.file \"" + kTestData + "/no-such-web.yml\": No such file or directory");
}

struct BadConfig {
  const char* name;
  const char* yaml;
  const char* expected_message_part;
};

// gtest prints this instead of the struct's bytes in test names and failures.
void PrintTo(const BadConfig& config, std::ostream* out) {
  *out << config.name;
}

class WebConfigErrors : public testing::TestWithParam<BadConfig> {};

TEST_P(WebConfigErrors, RefusesWithAMessageNamingTheProblem) {
  EXPECT_NE(error_of(GetParam().yaml).find(GetParam().expected_message_part), std::string::npos)
      << error_of(GetParam().yaml);
}

INSTANTIATE_TEST_SUITE_P(
    All, WebConfigErrors,
    testing::Values(
        BadConfig{"UnknownTopLevelKey", "tls_config: {}\n", "unknown field \"tls_config\""},
        BadConfig{"UnknownTlsKey", "tls_server_config:\n  certfile: x\n",
                  "unknown field \"certfile\" in tls_server_config"},
        BadConfig{"MissingKey", "tls_server_config:\n  cert_file: server.crt\n",
                  "missing key_file"},
        BadConfig{"MissingCert", "tls_server_config:\n  key_file: server.key\n",
                  "missing cert_file"},
        BadConfig{"UnreadableFile",
                  "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
                  "nope.crt\": No such file or directory"},
        BadConfig{"KeyDoesNotMatch",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n",
                  "the key in other.key does not match the certificate in server.crt"},
        BadConfig{"NotACertificate",
                  "tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n",
                  "server.key: no PEM certificate"},
        BadConfig{"BadClientAuth",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_auth_type: Always\n",
                  "client_auth_type \"Always\" is not one of"},
        BadConfig{"VerifyWithoutCa",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_auth_type: RequireAndVerifyClientCert\n",
                  "needs client_ca_file"},
        BadConfig{"CaWithoutPolicy",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_ca_file: server.crt\n",
                  "client_auth_type is NoClientCert"},
        BadConfig{"BadVersion",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  min_version: TLS14\n",
                  "min_version \"TLS14\" is not one of TLS10, TLS11, TLS12, TLS13"},
        BadConfig{"MaxBelowMin",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  min_version: TLS13\n  max_version: TLS12\n",
                  "max_version is lower than min_version"},
        BadConfig{"UnknownCipher",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048]\n",
                  "tls_server_config.cipher_suites: unknown cipher "
                  "\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\""},
        BadConfig{"InsecureCipher",  // in Go's InsecureCipherSuites(), refused there too
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA256]\n",
                  "unknown cipher \"TLS_RSA_WITH_AES_128_CBC_SHA256\""},
        BadConfig{"CipherSuitesNotAList",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
                  "tls_server_config.cipher_suites must be a list of strings"},
        BadConfig{"OnlyTls13SuitesWithMaxTls12",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  max_version: TLS12\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                  "cipher_suites lists only TLS 1.3 suites, but max_version is TLS12"},
        BadConfig{"UnknownCurve",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  curve_preferences: [CurveP999]\n",
                  "tls_server_config.curve_preferences: unknown curve \"CurveP999\""},
        BadConfig{"SansWithoutClientAuth",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_allowed_sans: [one]\n",
                  "client_allowed_sans needs client_auth_type RequireAndVerifyClientCert"},
        BadConfig{"SansWithUnverifiedCert",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: [one]\n",
                  "client_allowed_sans needs client_auth_type RequireAndVerifyClientCert"},
        BadConfig{"SansEmpty",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: server.crt\n"
                  "  client_allowed_sans: []\n",
                  "client_allowed_sans is empty"},
        BadConfig{"SansNotStrings",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: server.crt\n"
                  "  client_allowed_sans: [[a]]\n",
                  "tls_server_config.client_allowed_sans must be a string"},
        BadConfig{"HeaderNotAllowed", "http_server_config:\n  headers:\n    Server: x\n",
                  "http_server_config.headers: HTTP header \"Server\" can not be configured"},
        BadConfig{"HeaderNameCase", "http_server_config:\n  headers:\n    x-frame-options: deny\n",
                  "HTTP header \"x-frame-options\" can not be configured"},
        BadConfig{
            "FrameOptionsValue", "http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
            "http_server_config.headers.X-Frame-Options \"foo\" is not one of deny, sameorigin"},
        BadConfig{"FrameOptionsBlank",
                  "http_server_config:\n  headers:\n    X-Frame-Options: \"\"\n",
                  "X-Frame-Options \"\" is not one of deny, sameorigin"},
        BadConfig{"ContentTypeOptionsValue",
                  "http_server_config:\n  headers:\n    X-Content-Type-Options: NOSNIFF\n",
                  "X-Content-Type-Options \"NOSNIFF\" is not one of nosniff"},
        BadConfig{"HeaderLineBreak",
                  "http_server_config:\n  headers:\n    Content-Security-Policy: "
                  "\"a\\r\\nSet-Cookie: x\"\n",
                  "headers.Content-Security-Policy must not contain control characters"},
        BadConfig{"HeadersNotAMap", "http_server_config:\n  headers: [X-Frame-Options]\n",
                  "http_server_config.headers must be a mapping"},
        BadConfig{"Http2True", "http_server_config:\n  http2: true\n",
                  "http_server_config.http2: true is not supported"},
        BadConfig{"Http2NotBool", "http_server_config:\n  http2: maybe\n",
                  "http_server_config.http2 must be true or false"},
        BadConfig{"UsersNotAMap", "basic_auth_users: [alice]\n", "must be a mapping"},
        BadConfig{"PlainPassword", "basic_auth_users:\n  alice: hunter2\n",
                  "basic_auth_users.alice is not a bcrypt hash"},
        BadConfig{"ColonInUser", "basic_auth_users:\n  \"a:b\": x\n", "without ':'"},
        BadConfig{"BadYaml", "tls_server_config: [\n", "invalid YAML at line"}),
    [](const testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

TEST(WebConfig, NeverEchoesAPlainPassword) {
  EXPECT_EQ(error_of("basic_auth_users:\n  alice: hunter2\n").find("hunter2"), std::string::npos);
}

TEST(Bcrypt, AllThreeSpellingsVerify) {
  for (const char* hash : {kHash2a, kHash2b, kHash2y}) {
    EXPECT_TRUE(looks_like_bcrypt(hash)) << hash;
    EXPECT_TRUE(verify_bcrypt(hash, kPassword)) << hash;
    EXPECT_FALSE(verify_bcrypt(hash, "s3cret: with colo")) << hash;
    EXPECT_FALSE(verify_bcrypt(hash, "")) << hash;
  }
}

TEST(Bcrypt, RejectsWhatIsNotBcrypt) {
  EXPECT_FALSE(looks_like_bcrypt("$1$abc$def"));                // md5-crypt
  EXPECT_FALSE(looks_like_bcrypt(std::string(kHash2y) + "x"));  // too long
  EXPECT_FALSE(looks_like_bcrypt("$2y$03$05JdUuAaK77B2I4n.xi6LObYs5TKPV5YUwW.h9ih8TsRLSpJcUW3G"));
  EXPECT_FALSE(looks_like_bcrypt("$2x$04$05JdUuAaK77B2I4n.xi6LObYs5TKPV5YUwW.h9ih8TsRLSpJcUW3G"));
  EXPECT_FALSE(verify_bcrypt("$1$abc$def", "x"));
  // crypt() stops at a NUL: "s3cret: with colon\0anything" must not pass.
  EXPECT_FALSE(verify_bcrypt(kHash2y, std::string(kPassword) + std::string("\0x", 2)));
}

TEST(Base64, DecodesStandardAlphabetWithPadding) {
  EXPECT_EQ(decode_base64("YWxpY2U6c2VjcmV0"), "alice:secret");
  EXPECT_EQ(decode_base64("YQ=="), "a");
  EXPECT_EQ(decode_base64("YWI="), "ab");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_FALSE(decode_base64("YQ="));
  EXPECT_FALSE(decode_base64("Y===") && decode_base64("Y===")->size() > 0);
  EXPECT_FALSE(decode_base64("YW=j"));
  EXPECT_FALSE(decode_base64("YWxp Y2U6"));
}

TEST(BasicAuthenticator, AcceptsOnlyTheRightUserAndPassword) {
  BasicAuthenticator auth(std::map<std::string, std::string>{{"alice", kHash2y}, {"bob", kHash2b}});
  EXPECT_FALSE(auth.authorize(nullptr));
  EXPECT_FALSE(auth.authorize(""));
  EXPECT_FALSE(auth.authorize("Bearer abc"));
  EXPECT_FALSE(auth.authorize("Basic !!!!"));
  EXPECT_FALSE(auth.authorize(basic("alice").c_str()));  // no colon
  EXPECT_FALSE(auth.authorize(basic("alice:wrong").c_str()));
  EXPECT_FALSE(auth.authorize(basic("carol:" + std::string(kPassword)).c_str()));
  EXPECT_TRUE(auth.authorize(basic("alice:" + std::string(kPassword)).c_str()));
  EXPECT_TRUE(auth.authorize(basic("bob:" + std::string(kPassword)).c_str()));
  // The scheme is case-insensitive (RFC 7235).
  std::string lower = basic("alice:" + std::string(kPassword));
  lower.replace(0, 5, "basic");
  EXPECT_TRUE(auth.authorize(lower.c_str()));
  // Remembering alice's success must not let a wrong password through.
  EXPECT_FALSE(auth.authorize(basic("alice:wrong").c_str()));
  EXPECT_FALSE(auth.authorize(basic("bob:wrong").c_str()));
}

TEST(BasicAuthenticator, RemembersSuccessSoScrapesDoNotPayBcryptEachTime) {
  BasicAuthenticator auth(std::map<std::string, std::string>{{"prometheus", kHashCost10}});
  std::string header = basic("prometheus:" + std::string(kPassword));
  ASSERT_TRUE(auth.authorize(header.c_str()));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(auth.authorize(header.c_str()));
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  // 200 bcrypt checks at cost 10 would take about 10 s; remembered ones take microseconds.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(TlsHandshake, MatchesDnsNamesExactly) {
  make_client_certificate("DNS:scraper.example,email:ops@example.com,URI:spiffe://example/scraper");
  SslPtr server = handshake(ClientAuth::kRequireAndVerifyClientCert);
  ASSERT_TRUE(server);
  EXPECT_TRUE(client_sans_allowed(server.get(), {"other", "scraper.example"}));
  EXPECT_TRUE(client_sans_allowed(server.get(), {"ops@example.com"}));
  EXPECT_TRUE(client_sans_allowed(server.get(), {"spiffe://example/scraper"}));
  EXPECT_FALSE(client_sans_allowed(server.get(), {"Scraper.example"}));
  EXPECT_FALSE(client_sans_allowed(server.get(), {"scraper"}));  // the CN is not a SAN
  EXPECT_FALSE(client_sans_allowed(server.get(), {"*.example"}));
}

TEST_F(TlsHandshake, MatchesIpAddressesAsGoPrintsThem) {
  make_client_certificate("IP:127.0.0.1,IP:::1,IP:2001:db8:0:0:1:0:0:1,IP:::ffff:10.0.0.1");
  SslPtr server = handshake(ClientAuth::kRequireAndVerifyClientCert);
  ASSERT_TRUE(server);
  EXPECT_TRUE(client_sans_allowed(server.get(), {"127.0.0.1"}));
  EXPECT_TRUE(client_sans_allowed(server.get(), {"::1"}));
  EXPECT_TRUE(client_sans_allowed(server.get(), {"2001:db8::1:0:0:1"}));
  EXPECT_TRUE(client_sans_allowed(server.get(), {"10.0.0.1"}));
  EXPECT_FALSE(client_sans_allowed(server.get(), {"0:0:0:0:0:0:0:1"}));
  EXPECT_FALSE(client_sans_allowed(server.get(), {"127.0.0.2", "localhost"}));
}

TEST_F(TlsHandshake, EmptyListAllowsAndNoCertificateRefuses) {
  make_client_certificate("DNS:scraper.example");
  SslPtr with_cert = handshake(ClientAuth::kVerifyClientCertIfGiven);
  ASSERT_TRUE(with_cert);
  EXPECT_TRUE(client_sans_allowed(with_cert.get(), {}));
  SslPtr without_cert = handshake(ClientAuth::kVerifyClientCertIfGiven, /*with_cert=*/false);
  ASSERT_TRUE(without_cert);
  EXPECT_TRUE(client_sans_allowed(without_cert.get(), {}));
  EXPECT_FALSE(client_sans_allowed(without_cert.get(), {"scraper.example"}));
}

TEST_F(TlsHandshake, CipherSuitesReachTheContext) {
  TlsServerConfig tls;
  tls.cert_pem = read_testdata("server.crt");
  tls.key_pem = read_testdata("server.key");
  tls.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"};
  tls.curve_preferences = {"CurveP384"};
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  ASSERT_TRUE(configure_tls_context(ctx.get(), tls).ok());
  std::vector<std::string> tls12;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    std::string name = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));
    if (name.rfind("TLS_", 0) != 0) {  // OpenSSL's TLS 1.3 suites keep their standard names
      tls12.push_back(name);
    }
  }
  EXPECT_EQ(tls12, std::vector<std::string>{"ECDHE-ECDSA-AES256-GCM-SHA384"});
  tls.cipher_suites = {"TLS_NOT_A_SUITE"};
  EXPECT_FALSE(configure_tls_context(ctx.get(), tls).ok());
}

}  // namespace
}  // namespace thinpool
