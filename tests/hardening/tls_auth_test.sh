#!/usr/bin/env bash
# --web.config.file against the real binary with curl: basic auth (none, wrong, unknown user, right),
# TLS (plain HTTP refused, old protocol refused), cipher suites and curves, client certificates
# (required, verified, client_allowed_sans), http_server_config.headers on every response, the
# config and the files it names read again while the exporter runs (a certificate swapped by rename
# and in place with no scrape failing, basic-auth users changed, a broken edit keeping the previous
# config with one error line), two listen addresses, and invalid configs refused at start-up with
# one clear line. Certificates are made with openssl here.
# Usage: tls_auth_test.sh EXPORTER FIXTURES_DIR
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
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
sign_by() {  # sign_by CA NAME CN [EXTENSIONS]
  new_key "$2.key"
  openssl_quiet req -new -key "$2.key" -out "$2.csr" -subj "/CN=$3"
  printf '%s\n' "${4:-basicConstraints=CA:FALSE}" >"$2.ext"
  openssl_quiet x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -days 2 \
    -extfile "$2.ext" -out "$2.crt"
}
sign() { sign_by ca "$@"; }  # sign NAME CN [EXTENSIONS]
sign server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
sign client prometheus
sign client-named prometheus "subjectAltName=DNS:prometheus.example"
sign client-ip prometheus "subjectAltName=IP:192.0.2.10"
sign client-other prometheus "subjectAltName=DNS:intruder.example"
new_key ca-b.key  # a second CA, for the certificate swapped under a running exporter
openssl_quiet req -x509 -new -key ca-b.key -out ca-b.crt -days 2 -subj /CN=thinpool-test-ca-b
sign_by ca-b server-b localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
cat ca.crt ca-b.crt >both-cas.crt
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

echo "== cipher_suites (TLS 1.2) and curve_preferences"
cat >suites.yml <<EOT
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  curve_preferences: [CurveP384]
EOT
start_exporter log4 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=suites.yml
https=https://localhost:$PORT
tls=(--cacert ca.crt --resolve "localhost:$PORT:127.0.0.1")
expect "TLS 1.2 with a suite in the list" 200 \
  "$(status_of "$https/metrics" "${tls[@]}" --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256)"
expect "TLS 1.2 with only a suite not in the list" 000 \
  "$(status_of "$https/metrics" "${tls[@]}" --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384)"
expect "TLS 1.3 (its suites are not configurable, as in Go)" 200 \
  "$(status_of "$https/metrics" "${tls[@]}" --tlsv1.3)"
expect "a curve in the list" 200 "$(status_of "$https/metrics" "${tls[@]}" --curves P-384)"
expect "only a curve not in the list" 000 "$(status_of "$https/metrics" "${tls[@]}" --curves X25519)"
stop_exporter

echo "== client_allowed_sans"
cat >sans.yml <<EOT
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [prometheus.example, 192.0.2.10]
EOT
start_exporter log5 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=sans.yml
https=https://localhost:$PORT
tls=(--cacert ca.crt --resolve "localhost:$PORT:127.0.0.1")
expect "a DNS SAN in the list" 200 \
  "$(status_of "$https/metrics" "${tls[@]}" --cert client-named.crt --key client-named.key)"
expect "an IP SAN in the list" 200 \
  "$(status_of "$https/metrics" "${tls[@]}" --cert client-ip.crt --key client-ip.key)"
expect "same CA, SAN not in the list: no response" 000 \
  "$(status_of "$https/metrics" "${tls[@]}" --cert client-other.crt --key client-other.key)"
expect "same CA, no SAN at all: no response" 000 \
  "$(status_of "$https/metrics" "${tls[@]}" --cert client.crt --key client.key)"
stop_exporter

echo "== http_server_config.headers on every response"
cat >headers.yml <<EOT
tls_server_config:
  cert_file: server.crt
  key_file: server.key
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000; includeSubDomains
basic_auth_users:
  prometheus: $hash
EOT
start_exporter log6 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=headers.yml
https=https://localhost:$PORT
tls=(--cacert ca.crt --resolve "localhost:$PORT:127.0.0.1")
for case in "200 /metrics with-password" "401 /metrics" "404 /no-such-page with-password"; do
  read -r want path with_password <<<"$case"
  credentials=()
  if [ -n "$with_password" ]; then credentials=(-u "prometheus:$password"); fi
  curl -s -D "headers-$want.txt" -o /dev/null --max-time 10 "${tls[@]}" "${credentials[@]}" \
    "$https$path" || true
  expect "status of $path" "$want" "$(awk 'NR == 1 { print $2 }' "headers-$want.txt")"
  grep -q -i -x $'X-Frame-Options: deny\r' "headers-$want.txt" ||
    fail "the $want response has no X-Frame-Options: deny: $(cat "headers-$want.txt")"
  grep -q -i -x $'Strict-Transport-Security: max-age=31536000; includeSubDomains\r' "headers-$want.txt" ||
    fail "the $want response has no Strict-Transport-Security: $(cat "headers-$want.txt")"
  echo "ok: the $want response carries the configured headers"
done
stop_exporter

echo "== basic auth without TLS"
printf 'basic_auth_users:\n  prometheus: %s\n' "$hash" >auth.yml
start_exporter log3 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=auth.yml
expect "plain HTTP, no credentials" 401 "$(status_of "http://127.0.0.1:$PORT/metrics")"
expect "plain HTTP, right password" 200 "$(status_of "http://127.0.0.1:$PORT/metrics" -u "prometheus:$password")"
stop_exporter

echo "== a certificate swapped under the running exporter (by rename, then in place)"
cp server.crt live.crt
cp server.key live.key
printf 'tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n' >rotate.yml
start_exporter log7 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=rotate.yml
https=https://localhost:$PORT
tls=(--resolve "localhost:$PORT:127.0.0.1")
issuer() {  # the issuer of the certificate that a new connection is served
  openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -issuer 2>/dev/null || true
}
expect "served by CA A" 200 "$(status_of "$https/metrics" "${tls[@]}" --cacert ca.crt)"
scrape_every_50ms() {  # until the file stop-scraping exists, trusting both CAs
  while [ ! -e stop-scraping ]; do
    printf '%s\n' "$(status_of "$https/metrics" "${tls[@]}" --cacert both-cas.crt)" >>swap-statuses.txt
    sleep 0.05
  done
}
rm -f stop-scraping swap-statuses.txt
scrape_every_50ms &
scraper=$!
sleep 0.5
cp server-b.crt live.crt.new
cp server-b.key live.key.new
mv live.crt.new live.crt  # as certificate tools and Kubernetes secrets replace them
mv live.key.new live.key
sleep 1.3  # the files are looked at again at most once a second
expect "after the swap by rename, CA B" 200 "$(status_of "$https/metrics" "${tls[@]}" --cacert ca-b.crt)"
expect "after the swap by rename, not CA A" 000 "$(status_of "$https/metrics" "${tls[@]}" --cacert ca.crt)"
expect "after the swap by rename, the certificate's issuer" "issuer=CN = thinpool-test-ca-b" "$(issuer)"
cat server.crt >live.crt  # written in place
cat server.key >live.key
sleep 1.3
expect "after writing in place, CA A again" 200 "$(status_of "$https/metrics" "${tls[@]}" --cacert ca.crt)"
expect "after writing in place, the certificate's issuer" "issuer=CN = thinpool-test-ca" "$(issuer)"
touch stop-scraping
wait "$scraper"
scrapes=$(wc -l <swap-statuses.txt)
failed=$(grep -c -v -x 200 swap-statuses.txt || true)
[ "$scrapes" -ge 30 ] || fail "only $scrapes scrapes during the swaps"
[ "$failed" = 0 ] || fail "$failed of $scrapes scrapes during the swaps failed: $(sort swap-statuses.txt | uniq -c)"
echo "ok: $scrapes scrapes every 50 ms during both swaps, all 200"
# A check between the two writes in place sees a key that does not match: logged, and the previous
# certificate kept until the key follows.
grep 'level=error' log7 | sed 's/^/   logged: /' || true
stop_exporter

echo "== basic-auth users read again with the file"
new_password="another horse: battery staple"
new_hash=$(PASSWORD=$new_password python3 -W ignore -c \
  'import crypt, os; print(crypt.crypt(os.environ["PASSWORD"], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))')
printf 'basic_auth_users:\n  prometheus: %s\n' "$hash" >reload.yml
start_exporter log8 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=reload.yml
http=http://127.0.0.1:$PORT
expect "the first password" 200 "$(status_of "$http/metrics" -u "prometheus:$password")"
printf 'basic_auth_users:\n  prometheus: %s\n' "$new_hash" >reload.yml
sleep 1.3
expect "the first password, once its hash is replaced" 401 "$(status_of "$http/metrics" -u "prometheus:$password")"
expect "the new password" 200 "$(status_of "$http/metrics" -u "prometheus:$new_password")"
grep -q 'read again' log8 || fail "no line says the config was read again: $(cat log8)"

echo "== a broken edit keeps the previous config, with one error line"
printf 'basic_auth_users:\n  prometheus: [%s\n' "$new_hash" >reload.yml  # not YAML: [ never closed
for i in 1 2 3; do  # over 2 s: the broken file is looked at more than once
  sleep 0.8
  expect "the new password, the broken file in place ($i)" 200 \
    "$(status_of "$http/metrics" -u "prometheus:$new_password")"
done
expect "the first password, the broken file in place" 401 "$(status_of "$http/metrics" -u "prometheus:$password")"
errors=$(grep -c 'level=error' log8 || true)
[ "$errors" = 1 ] || fail "want exactly one error line for the broken edit, got $errors: $(cat log8)"
grep 'level=error' log8 | grep -q 'the previous config stays in use' ||
  fail "the error does not say the previous config stays in use: $(cat log8)"
echo "ok: one error line: $(grep 'level=error' log8 | sed 's/.*msg=//')"
stop_exporter

echo "== two listen addresses (and [::1] where IPv6 loopback works)"
listen=(--web.listen-address=127.0.0.2:0)
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  listen+=("--web.listen-address=[::1]:0")
fi
start_exporter log9 --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file=web.yml "${listen[@]}"
sockets=$(sed -n 's/.*listening on [^ ]* at \([^ ]*\) (port \([0-9]*\)).*/\1 \2/p' log9)
[ "$(wc -l <<<"$sockets")" = $((1 + ${#listen[@]})) ] || fail "want $((1 + ${#listen[@]})) listening sockets: $(cat log9)"
while read -r bound bound_port; do
  expect "a scrape through $bound" 200 "$(status_of "https://localhost:$bound_port/metrics" --cacert ca.crt \
    --resolve "localhost:$bound_port:${bound%:*}" -u "prometheus:$password")"
done <<<"$sockets"
stop_exporter

echo "== invalid configs refuse to start with one clear line"
refuses() {  # refuses NAME EXPECTED_TEXT YAML
  printf '%s' "$3" >"bad-$1.yml"
  local rc=0
  timeout 10 "$BIN" --web.listen-address=127.0.0.1:0 --devmapper.fixtures="$FIXTURES/empty" \
    --web.config.file="bad-$1.yml" 2>"bad-$1.log" || rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then fail "$1: exit status $rc, want a refusal"; fi
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
refuses http2 "http_server_config.http2: true is not supported" $'http_server_config:\n  http2: true\n'
refuses cipher "tls_server_config.cipher_suites: unknown cipher" \
  $'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [RC4]\n'
refuses header "HTTP header \\\"Server\\\" can not be configured" \
  $'http_server_config:\n  headers:\n    Server: thinpool\n'
refuses sans-unverified "client_allowed_sans needs client_auth_type" \
  $'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_allowed_sans: [a]\n'
grep -q hunter2 bad-plain-password.log && fail "a plain password was echoed in the error"
echo "PASS: TLS, basic auth and client certificates behave as exporter-toolkit's, and are read again while running"
