#!/bin/sh
# alerts/alertmanager.example.yml is a valid Alertmanager 0.25 configuration and routes critical alerts to the
# pager and warnings to tickets.
# Usage: alertmanager_config_test.sh CONFIG
set -eu
config=$1
amtool check-config "$config"
route() {  # route EXPECTED_RECEIVER LABEL=VALUE...
  expected=$1
  shift
  if amtool config routes test --config.file="$config" --verify.receivers="$expected" "$@" >/dev/null 2>&1; then
    echo "ok   $* -> $expected"
  else
    echo "FAIL $* -> $(amtool config routes test --config.file="$config" "$@" 2>/dev/null), expected $expected"
    exit 1
  fi
}
route pager alertname=ThinPoolMetadataAlmostFull severity=critical pool=p instance=h
route pager alertname=ThinPoolTransactionIdMismatch severity=critical
route tickets alertname=ThinPoolMetadataAlmostFull severity=warning pool=p instance=h
route tickets alertname=ThinPoolExporterDown severity=warning
route tickets alertname=SomethingElse
echo "5 passed, 0 failed"
