#include "exporter/web_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>

namespace thinpool {
namespace {

const std::string kTestData = THINPOOL_HARDENING_TESTDATA;

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
        BadConfig{"CipherSuites",
                  "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                  "cipher_suites is not supported"},
        BadConfig{"Headers", "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
                  "http_server_config.headers is not supported"},
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

}  // namespace
}  // namespace thinpool
