(import 'mixin.libsonnet').grafanaDashboards['thinpool.json']
