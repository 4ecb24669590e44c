// The fleet dashboard of the thinpool_exporter mixin: every pool of every host, sorted by time to full and by how
// undersized its metadata is, and every exporter with what its series cost. grafana/dashboards/thinpool-fleet.json
// is generated from this file by alerts/mixin/generate.sh.
//
// It stays cheap with hundreds of hosts of thousands of thin volumes each: its queries read only the recording
// rules of rules.libsonnet (a series per pool or per exporter, never one per thin volume) and `up`.
// tests/grafana/lint_dashboard.py --recorded-only checks that. The rules select the exporter's series with
// thinpoolSelector when they record them, so only `up` needs it here.
{
  grafanaDashboards+:: {
    local c = $._config,
    local g = (import 'lib.libsonnet')(c),
    local sel = std.join(',', g.clusterMatchers + ['job=~"$job"', 'instance=~"$instance"']),
    local upSel = std.join(',', [c.thinpoolSelector, sel]),
    local target = g.target,
    local thresholds = g.thresholds,
    local stat = g.stat,
    local timeseries = g.timeseries,
    local table = g.table,
    local row = g.row,
    // Series over time: one line per cluster and job.
    local perCluster = '%s, job' % c.clusterLabel,
    local perClusterLegend = '{{%s}} {{job}}' % c.clusterLabel,

    // The columns of both pool tables: the same queries, sorted differently.
    local poolTargets = [
      target('min by (job, instance, pool) (thinpool:time_to_full:seconds{%s})' % sel, '{{pool}}', 'A', instant=true),
      target('max by (job, instance, pool) (thinpool:data_usage:ratio{%s})' % sel, '{{pool}}', 'B', instant=true),
      target('max by (job, instance, pool) (thinpool:metadata_usage:ratio{%s})' % sel, '{{pool}}', 'C', instant=true),
      target('max by (job, instance, pool) (thinpool:metadata_needed_over_size:ratio{%s})' % sel, '{{pool}}', 'D',
             instant=true),
      target('max by (job, instance, pool) (thinpool:overprovisioning:ratio{%s})' % sel, '{{pool}}', 'E', instant=true),
    ],
    local poolColumns = [
      ['instance', 'Instance', null], ['pool', 'Pool', null], ['Value #A', 'Time to full', 's'],
      ['Value #B', 'Data used', 'percentunit'], ['Value #C', 'Metadata used', 'percentunit'],
      ['Value #D', 'Metadata needed / size', 'percentunit'], ['Value #E', 'Overprovisioned', 'percentunit'],
    ],
    local poolsDescription =
      'Every pool of every selected exporter. Time to full: the sooner of data and metadata at the growth of the '
      + 'last %s, empty for pools that do not grow. Metadata needed / size: the larger of the metadata the pool will need ' % c.fillingUpWindow
      + 'when its data is full (at its own ratio so far) and lvm2\'s estimate for its data and chunk size, over the '
      + 'metadata it has: above 100%, ThinPoolMetadataUndersized. The Pool dashboard has the detail of one host.',

    'thinpool-fleet.json': {
      uid: c.fleetDashboardUID,
      title: c.fleetDashboardTitle,
      description: 'Every thin pool of every host that runs thinpool_exporter: the pools closest to full and with '
                   + 'the most undersized metadata first, and every exporter with its pools, thin volumes and the '
                   + 'samples of its scrapes. Reads recording rules only (alerts/thinpool_rules.yml), a series per '
                   + 'pool or per exporter, so it stays fast with thousands of thin volumes per host.',
      tags: c.dashboardTags + ['fleet'],
      editable: true,
      graphTooltip: 1,
      refresh: c.dashboardRefresh,
      schemaVersion: 37,
      time: { from: 'now-24h', to: 'now' },
      timezone: '',
      links: [{ title: c.dashboardTitle, type: 'dashboards', tags: c.dashboardTags, asDropdown: true,
                includeVars: true, keepTime: true }],
      annotations: { list: [] },
      templating: { list: g.commonVariables('up') },
      panels: g.layout([
        row('Fleet'),
        stat('Exporters', 'Targets of the selected jobs (up).', 'short', 'count(up{%s})' % upSel, thresholds([])),
        stat('Exporters down', 'Targets Prometheus cannot scrape: their pools are not watched. Alert: ThinPoolExporterDown.',
             'short', 'count(up{%s} == 0) or vector(0)' % upSel, thresholds([['red', 1]])),
        stat('Pools', 'Thin pools of all selected exporters (instance:thinpool_pools:count).', 'short',
             'sum(instance:thinpool_pools:count{%s})' % sel, thresholds([])),
        stat('Pools not writable', 'Pools whose mode is not rw. Alert: ThinPoolNotWritable.', 'short',
             'sum(instance:thinpool_pools_not_writable:count{%s}) or vector(0)' % sel, thresholds([['red', 1]])),
        stat('Pools full within %dh' % c.fillingUpWarningHours,
             'Pools whose data or metadata will be full within %d hours at the growth of the last %s. Alerts: ThinPoolDataFillingUp, ThinPoolMetadataFillingUp.'
             % [c.fillingUpWarningHours, c.fillingUpWindow],
             'short', 'count(thinpool:time_to_full:seconds{%s} < %d) or vector(0)' % [sel, c.fillingUpWarningHours * 3600],
             thresholds([['orange', 1]])),
        stat('Undersized metadata', 'Pools whose metadata is smaller than what they will need at full data or than lvm2\'s estimate. Alert: ThinPoolMetadataUndersized.',
             'short', 'count(thinpool:metadata_needed_over_size:ratio{%s} > 1) or vector(0)' % sel,
             thresholds([['orange', 1]])),

        row('Pools'),
        table('Pools by time to full', poolsDescription + ' Soonest full first.', 'short', poolTargets, poolColumns,
              sortBy='Time to full', sortDesc=false, h=10),
        table('Pools by undersized metadata', poolsDescription + ' Most undersized first.', 'short', poolTargets,
              poolColumns, sortBy='Metadata needed / size', h=10),

        row('Over time'),
        timeseries('Highest metadata usage', 'The fullest pool\'s metadata, per cluster and job.', 'percentunit',
                   [target('max by (%s) (thinpool:metadata_usage:ratio{%s})' % [perCluster, sel], perClusterLegend)],
                   w=6, defaults={ min: 0, max: 1 }),
        timeseries('Highest data usage', 'The fullest pool\'s data, per cluster and job.', 'percentunit',
                   [target('max by (%s) (thinpool:data_usage:ratio{%s})' % [perCluster, sel], perClusterLegend)],
                   w=6, defaults={ min: 0, max: 1 }),
        timeseries('Soonest full', 'The shortest time to full of any pool, per cluster and job; no line while nothing grows.',
                   's', [target('min by (%s) (thinpool:time_to_full:seconds{%s})' % [perCluster, sel], perClusterLegend)],
                   w=6, defaults={ min: 0 }),
        timeseries('Thin volumes', 'Active thin volumes, per cluster and job: each costs a few series per scrape (thinpool_volume_*).',
                   'short', [target('sum by (%s) (instance:thinpool_thin_volumes:sum{%s})' % [perCluster, sel], perClusterLegend)],
                   w=6, defaults={ min: 0, decimals: 0 }),

        row('Exporters'),
        table('Exporters by samples per scrape',
              'Every exporter, most samples per scrape first: what it costs the TSDB, mostly one set of thinpool_volume_* '
              + 'and thinpool_lvm_volume_* series per thin volume (grafana/README.md says how to drop them). Up: whether '
              + 'Prometheus can scrape it.',
              'short', [
                target('max by (job, instance) (instance:thinpool_scrape_samples:max{%s})' % sel, '{{instance}}', 'A', instant=true),
                target('max by (job, instance) (instance:thinpool_pools:count{%s})' % sel, '{{instance}}', 'B', instant=true),
                target('max by (job, instance) (instance:thinpool_pools_not_writable:count{%s})' % sel, '{{instance}}', 'C', instant=true),
                target('max by (job, instance) (instance:thinpool_thin_volumes:sum{%s})' % sel, '{{instance}}', 'D', instant=true),
                target('max by (job, instance) (up{%s})' % upSel, '{{instance}}', 'E', instant=true),
              ], [['instance', 'Instance', null], ['Value #A', 'Samples per scrape', null], ['Value #B', 'Pools', null],
                  ['Value #C', 'Not writable', null], ['Value #D', 'Thin volumes', null],
                  ['Value #E', 'Up', null, { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } }]],
              sortBy='Samples per scrape', h=10),
      ]),
    },
  },
}
