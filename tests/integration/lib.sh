# Shared helpers for the tests that drive the real binary. Source it; needs $BIN.

# start_exporter LOG [flags...]: starts the exporter on a free loopback port; sets PID and PORT.
start_exporter() {
  local log=$1
  shift
  # Made here: the background job's redirection may not have created it by the first read.
  : >"$log"
  "$BIN" --web.listen-address=127.0.0.1:0 "$@" 2>"$log" &
  PID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on .* (port \([0-9]*\)).*/\1/p' "$log" | head -n 1)
    [ -n "$PORT" ] && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: the exporter did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

stop_exporter() {
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    wait "$PID" || true
  fi
  PID=""
}

# Drops what changes from run to run: durations, process_* values, the HTTP server's own
# thinpool_http_* series (connections and responses so far), the build revision.
normalize_exposition() {
  grep -v -E '^(thinpool_scrape_collector_duration_seconds|process_|# (HELP|TYPE) thinpool_http_|thinpool_http_)' |
    sed -E 's/(thinpool_exporter_build_info\{).*\} 1$/\1...} 1/'
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
