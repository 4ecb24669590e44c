// thinpool_exporter monitoring mixin: config (the one place for thresholds), recording rules, alerts, dashboards.
// Self-contained (it imports nothing outside this folder), so that jsonnet-bundler can vendor it:
//   jb install <host>/<owner>/thinpool_exporter/alerts/mixin   (the address you clone this repository from)
// It exports prometheusRules, prometheusAlerts and grafanaDashboards, as the ecosystem's mixins do.
(import 'config.libsonnet')
+ (import 'rules.libsonnet')
+ (import 'alerts.libsonnet')
+ (import 'dashboards/thinpool.libsonnet')
+ (import 'dashboards/fleet.libsonnet')
