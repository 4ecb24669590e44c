#!/usr/bin/env bash
# --web.config.file against the real binary with curl: basic auth (none, wrong, unknown user, right),
# TLS (plain HTTP refused, old protocol refused), client certificates (required, verified), and
# invalid configs refused at start-up with one clear line. Certificates are made with openssl here.
# Usage: tls_auth_test.sh EXPORTER FIXTURES_DIR
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$(realpath "$1")
FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT
cd "$work"

openssl_quiet() { openssl "$@" 2>/dev/null; }
new_key() { openssl_quiet genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }
new_key ca.key
openssl_quiet req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=thinpool-test-ca
sign() {  # sign NAME CN [EXTENSIONS]
  new_key "$1.key"
  openssl_quiet req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2"
  printf '%s\n' "${3:-basicConstraints=CA:FALSE}" >"$1.ext"
  openssl_quiet x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.crt"
}
sign server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
sign client prometheus
new_key intruder.key
openssl_quiet req -x509 -new -key intruder.key -out intruder.crt -days 2 -subj /CN=prometheus

password="correct horse: battery staple"
hash=$(PASSWORD=$password python3 -W ignore -c \
  'import crypt, os; print(crypt.crypt(os.environ["PASSWORD"], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))')
case $hash in \$2b\$10\$*) ;; *) fail "could not make a bcrypt hash: $hash" ;; esac

status_of() {  # status_of URL [curl args...] -> HTTP status, or "000" when no HTTP response came
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}
expect() {  # expect WHAT WANT GOT
  if [ "$2" != "$3" ]; then fail "$1: want $2, got $3"; fi
  echo "ok: $1 -> $3"
}

echo "== TLS and basic auth"
cat >web.yml <<EOT
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS12
basic_auth_users:
  prometheus: $hash
EOT
start_exporter log1 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=web.yml
https=https://localhost:$PORT
tls=(--cacert ca.crt --resolve "localhost:$PORT:127.0.0.1")
expect "no credentials" 401 "$(status_of "$https/metrics" "${tls[@]}")"
expect "wrong password" 401 "$(status_of "$https/metrics" "${tls[@]}" -u "prometheus:wrong")"
expect "unknown user" 401 "$(status_of "$https/metrics" "${tls[@]}" -u "alice:$password")"
expect "health needs credentials too" 401 "$(status_of "$https/-/healthy" "${tls[@]}")"
expect "right password" 200 "$(status_of "$https/metrics" "${tls[@]}" -u "prometheus:$password")"
curl -sS "${tls[@]}" -u "prometheus:$password" "$https/metrics" >metrics.txt
grep -q '^thinpool_data_used_bytes{' metrics.txt || fail "the authorized scrape has no thinpool_data_used_bytes"
curl -s -D headers.txt -o /dev/null "${tls[@]}" "$https/metrics" || true
grep -qi '^WWW-Authenticate: Basic realm=' headers.txt || fail "a 401 must carry WWW-Authenticate: Basic"
echo "ok: 401 carries WWW-Authenticate: Basic"
expect "plain HTTP to the TLS port" 000 "$(status_of "http://127.0.0.1:$PORT/metrics" -u "prometheus:$password")"
expect "TLS 1.1 when min_version is TLS12" 000 \
  "$(status_of "$https/metrics" "${tls[@]}" --tlsv1.1 --tls-max 1.1 -u "prometheus:$password")"
if grep -q -F "$password" log1; then fail "the password appears in the log"; fi
echo "ok: the password is not in the log"
stop_exporter

echo "== client certificates (RequireAndVerifyClientCert)"
cat >mtls.yml <<EOT
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
EOT
start_exporter log2 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=mtls.yml
https=https://localhost:$PORT
tls=(--cacert ca.crt --resolve "localhost:$PORT:127.0.0.1")
expect "no client certificate" 000 "$(status_of "$https/metrics" "${tls[@]}")"
expect "a certificate from another CA" 000 \
  "$(status_of "$https/metrics" "${tls[@]}" --cert intruder.crt --key intruder.key)"
expect "the client certificate" 200 "$(status_of "$https/metrics" "${tls[@]}" --cert client.crt --key client.key)"
stop_exporter

echo "== basic auth without TLS"
printf 'basic_auth_users:\n  prometheus: %s\n' "$hash" >auth.yml
start_exporter log3 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=auth.yml
expect "plain HTTP, no credentials" 401 "$(status_of "http://127.0.0.1:$PORT/metrics")"
expect "plain HTTP, right password" 200 "$(status_of "http://127.0.0.1:$PORT/metrics" -u "prometheus:$password")"
stop_exporter

echo "== invalid configs refuse to start with one clear line"
refuses() {  # refuses NAME EXPECTED_TEXT YAML
  printf '%s' "$3" >"bad-$1.yml"
  local rc=0
  timeout 10 "$BIN" --web.listen-address=127.0.0.1:0 --devmapper.fixtures="$FIXTURES/empty" \
    --web.config.file="bad-$1.yml" 2>"bad-$1.log" || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$1: exit status $rc, want a refusal"
  grep -q 'listening on' "bad-$1.log" && fail "$1: it listened anyway"
  local errors
  errors=$(grep -c 'level=error' "bad-$1.log" || true)
  [ "$errors" = 1 ] || fail "$1: want exactly one error line, got $errors: $(cat "bad-$1.log")"
  grep 'level=error' "bad-$1.log" | grep -q -F "$2" || fail "$1: the error does not say \"$2\": $(cat "bad-$1.log")"
  echo "ok: $1 (exit $rc): $(grep 'level=error' "bad-$1.log" | sed 's/.*msg=//')"
}
refuses plain-password "is not a bcrypt hash" $'basic_auth_users:\n  prometheus: hunter2\n'
refuses missing-key "missing key_file" $'tls_server_config:\n  cert_file: server.crt\n'
refuses wrong-key "does not match the certificate" \
  $'tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n'
refuses no-such-file "No such file or directory" \
  $'tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n'
refuses typo "unknown field \\\"basic_auth_user\\\"" $'basic_auth_user:\n  a: b\n'
grep -q hunter2 bad-plain-password.log && fail "a plain password was echoed in the error"
echo "PASS: TLS, basic auth and client certificates behave as exporter-toolkit's"
