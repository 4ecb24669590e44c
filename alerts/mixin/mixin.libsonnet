// thinpool_exporter monitoring mixin: config (the one place for thresholds), recording rules, alerts, dashboard.
(import 'config.libsonnet')
+ (import 'rules.libsonnet')
+ (import 'alerts.libsonnet')
+ (import '../../grafana/dashboards/thinpool.libsonnet')
