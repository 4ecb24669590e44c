// The Grafana dashboard of the thinpool_exporter mixin: grafana/dashboards/thinpool.json is generated from this file
// by alerts/mixin/generate.sh, with the thresholds of alerts/mixin/config.libsonnet. Plain jsonnet, no grafonnet:
// Debian has no grafonnet, and the few panel kinds used here are easy to write out.
{
  grafanaDashboards+:: {
    local c = $._config,
    local ds = { type: 'prometheus', uid: '${datasource}' },
    // Every series of this dashboard is narrowed by the job, instance and (for pool series) pool variables.
    local sel = 'job=~"$job",instance=~"$instance"',
    local poolSel = sel + ',pool=~"$pool"',

    local target(expr, legend, refId='A', instant=false) = {
      datasource: ds,
      expr: expr,
      legendFormat: legend,
      refId: refId,
      [if instant then 'instant']: true,
      [if instant then 'range']: false,
    },

    local thresholds(steps) = {
      mode: 'absolute',
      steps: [{ color: 'green', value: null }] + [{ color: s[0], value: s[1] } for s in steps],
    },
    local metadataSteps = thresholds([['orange', c.metadataAlmostFullWarningRatio], ['red', c.metadataAlmostFullCriticalRatio]]),
    local dataSteps = thresholds([['orange', c.dataAlmostFullWarningRatio], ['red', c.dataAlmostFullCriticalRatio]]),

    local panel(type, title, description, unit, targets, w, h, extra={}) = {
      type: type,
      title: title,
      description: description,
      datasource: ds,
      targets: targets,
      fieldConfig: { defaults: { unit: unit } + std.get(extra, 'defaults', {}), overrides: [] },
      options: std.get(extra, 'options', {}),
      gridPos: { w: w, h: h },
    },
    local timeseries(title, description, unit, targets, w=12, h=8, defaults={}) =
      panel('timeseries', title, description, unit, targets, w, h, {
        defaults: { custom: { lineWidth: 1, fillOpacity: 10, showPoints: 'never' } } + defaults,
        options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
                   tooltip: { mode: 'multi', sort: 'desc' } },
      }),
    local stat(title, description, unit, expr, steps, w=4, h=4) =
      panel('stat', title, description, unit, [target(expr, '', instant=true)], w, h, {
        defaults: { thresholds: steps, color: { mode: 'thresholds' } },
        options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background',
                   graphMode: 'none', textMode: 'value' },
      }),
    local stateTimeline(title, description, targets, mappings) =
      panel('state-timeline', title, description, 'none', targets, 12, 8, {
        defaults: { mappings: [{ type: 'value', options: mappings }], color: { mode: 'thresholds' },
                    thresholds: thresholds([]) },
        options: { showValue: 'never', mergeValues: true, rowHeight: 0.8, legend: { showLegend: false } },
      }),
    local row(title) = { type: 'row', title: title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } },

    // A table of instant queries (format table). With several targets, Grafana names their values "Value #<refId>"
    // and the merge transformation joins their rows on the labels they share, so every target must return the same
    // label set (aggregate with `by`). columns: [[field, title, unit or null]] in display order (Time and job are
    // hidden); a fourth element, value mappings for the column, shown as coloured text. sortBy: the title to sort
    // on, highest first.
    local table(title, description, unit, targets, columns, sortBy=null, w=24, h=8) =
      panel('table', title, description, unit, [t { format: 'table' } for t in targets], w, h, {
        options: { showHeader: true, cellHeight: 'sm', footer: { show: false },
                   [if sortBy != null then 'sortBy']: [{ displayName: sortBy, desc: true }] },
      }) + {
        fieldConfig+: { overrides: [
          {
            matcher: { id: 'byName', options: col[1] },
            properties: (if col[2] != null then [{ id: 'unit', value: col[2] }] else [])
                        + (if std.length(col) > 3 then [
                             { id: 'mappings', value: [{ type: 'value', options: col[3] }] },
                             { id: 'custom.displayMode', value: 'color-text' },
                           ] else []),
          }
          for col in columns
          if col[2] != null || std.length(col) > 3
        ] },
        transformations: (if std.length(targets) > 1 then [{ id: 'merge', options: {} }] else []) + [{
          id: 'organize',
          options: {
            excludeByName: { Time: true, job: true },
            indexByName: { [columns[i][0]]: i for i in std.range(0, std.length(columns) - 1) },
            renameByName: { [col[0]]: col[1] for col in columns },
          },
        }],
      },

    // Lays panels out left to right, wrapping at 24 columns, and numbers them.
    local layout(panels) = std.foldl(
      function(acc, p)
        local fits = acc.x + p.gridPos.w <= 24;
        local x = if fits then acc.x else 0;
        local y = if fits then acc.y else acc.y + acc.rowHeight;
        {
          x: x + p.gridPos.w,
          y: y,
          rowHeight: if fits then std.max(acc.rowHeight, p.gridPos.h) else p.gridPos.h,
          panels: acc.panels + [p { id: std.length(acc.panels) + 1, gridPos+: { x: x, y: y } }],
        },
      panels,
      { x: 0, y: 0, rowHeight: 0, panels: [] },
    ).panels,

    local modeCode = 'max by (job, instance, pool) (\n'
                     + std.join('\n  or ', [
                       'thinpool_mode{%s,mode="%s"} * %d' % [poolSel, m[0], m[1]]
                       for m in [['rw', 1], ['out_of_data_space', 2], ['ro', 3], ['error', 4], ['fail', 5]]
                     ]) + '\n)',

    local variable(name, label, query, includeAll=true) = {
      name: name,
      label: label,
      type: 'query',
      datasource: ds,
      query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      definition: query,
      refresh: 2,
      includeAll: includeAll,
      multi: includeAll,
      allValue: if includeAll then '.+' else null,
      current: {},
      sort: 1,
      hide: 0,
    },

    'thinpool.json': {
      uid: c.dashboardUID,
      title: c.dashboardTitle,
      description: 'Device-mapper thin pools from thinpool_exporter: data and metadata usage, time to full, pool mode, '
                   + 'transaction ids, thin volumes, LVM\'s pools and thin LVs active or not, VG metadata areas, autoextend '
                   + 'protection, exporter health. Thresholds match the alerts (alerts/mixin/config.libsonnet).',
      tags: c.dashboardTags,
      editable: true,
      graphTooltip: 1,
      refresh: c.dashboardRefresh,
      schemaVersion: 37,
      time: { from: 'now-24h', to: 'now' },
      timezone: '',
      links: [],
      annotations: { list: [] },
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: {},
            hide: 0,
            refresh: 1,
            regex: '',
          },
          variable('job', 'Job', 'label_values(thinpool_exporter_build_info, job)', includeAll=false),
          variable('instance', 'Instance', 'label_values(thinpool_exporter_build_info{job=~"$job"}, instance)'),
          variable('pool', 'Pool', 'label_values(thinpool_mode{%s}, pool)' % sel),
        ],
      },
      panels: layout([
        row('Overview'),
        stat('Pools', 'Thin pools the selected exporters see (thinpool_mode has one series per pool and mode).', 'short',
             'count(thinpool_mode{%s,mode="rw"})' % poolSel, thresholds([])),
        stat('Pools not writable', 'Pools whose mode is not rw (ro, out_of_data_space, fail, error). Alert: ThinPoolNotWritable.',
             'short', 'count(thinpool_mode{%s,mode!="rw"} == 1) or vector(0)' % poolSel, thresholds([['red', 1]])),
        stat('Highest metadata usage', 'Largest used/total metadata blocks among the selected pools (lvs Meta%%). lvm2 refuses new thin volumes from %d%%.' % (c.metadataAlmostFullWarningRatio * 100),
             'percentunit', 'max(thinpool:metadata_usage:ratio{%s})' % poolSel, metadataSteps),
        stat('Highest data usage', 'Largest used/total data blocks among the selected pools (lvs Data%).',
             'percentunit', 'max(thinpool:data_usage:ratio{%s})' % poolSel, dataSteps),
        stat('Soonest metadata full', 'Shortest predicted time until a pool\'s metadata is full, at the rate of the last %s. Empty when no metadata grows.' % c.fillingUpWindow,
             's', 'min(thinpool:metadata_time_to_full:seconds{%s})' % poolSel,
             thresholds([['red', 0], ['orange', c.fillingUpCriticalHours * 3600], ['green', c.fillingUpWarningHours * 3600]])),
        stat('Soonest data full', 'Shortest predicted time until a pool\'s data is full, at the rate of the last %s. Empty when no data grows.' % c.fillingUpWindow,
             's', 'min(thinpool:data_time_to_full:seconds{%s})' % poolSel,
             thresholds([['red', 0], ['orange', c.fillingUpCriticalHours * 3600], ['green', c.fillingUpWarningHours * 3600]])),

        row('Usage'),
        timeseries('Metadata usage', 'Used/total metadata blocks per pool. Orange: lvm2 refuses new thin volumes; red: critical alert. At 100% the pool turns read-only.',
                   'percentunit', [target('thinpool:metadata_usage:ratio{%s}' % poolSel, '{{instance}} {{pool}}')],
                   defaults={ min: 0, max: 1, thresholds: metadataSteps, custom+: { thresholdsStyle: { mode: 'line' } } }),
        timeseries('Data usage', 'Used/total data blocks per pool. At 100% writes to unprovisioned blocks queue, then fail.',
                   'percentunit', [target('thinpool:data_usage:ratio{%s}' % poolSel, '{{instance}} {{pool}}')],
                   defaults={ min: 0, max: 1, thresholds: dataSteps, custom+: { thresholdsStyle: { mode: 'line' } } }),
        timeseries('Time to full', 'Predicted time until data and metadata are full, from the growth of the last %s (the slope predict_linear uses). Only growing pools have a line.' % c.fillingUpWindow,
                   's', [
                     target('thinpool:metadata_time_to_full:seconds{%s}' % poolSel, 'metadata {{instance}} {{pool}}', 'A'),
                     target('thinpool:data_time_to_full:seconds{%s}' % poolSel, 'data {{instance}} {{pool}}', 'B'),
                   ], defaults={ min: 0 }),
        timeseries('Metadata and data used', 'Bytes of metadata and data in use, against the device sizes.', 'bytes', [
          target('thinpool_metadata_used_bytes{%s}' % poolSel, 'metadata used {{pool}}', 'A'),
          target('thinpool_metadata_size_bytes{%s}' % poolSel, 'metadata size {{pool}}', 'B'),
          target('thinpool_data_used_bytes{%s}' % poolSel, 'data used {{pool}}', 'C'),
          target('thinpool_data_size_bytes{%s}' % poolSel, 'data size {{pool}}', 'D'),
        ]),
        timeseries('Metadata sizing', 'The metadata each pool has, what it will need when its data is full at its own ratio of metadata to data so far (once %g%% of its data is used), and what lvcreate would give a pool of its data size and chunk size. A need above the size: ThinPoolMetadataUndersized.' % (c.metadataProjectionMinDataRatio * 100),
                   'bytes', [
                     target('thinpool_metadata_size_bytes{%s}' % poolSel, 'size {{pool}}', 'A'),
                     target('thinpool:metadata_needed_at_full_data:bytes{%s}' % poolSel, 'needed at full data {{pool}}', 'B'),
                     target('thinpool:metadata_lvm_estimate:bytes{%s}' % poolSel, 'lvm2 estimate {{pool}}', 'C'),
                   ], defaults={ min: 0 }),

        row('State'),
        stateTimeline('Pool mode', 'Kernel mode of each pool over time (thinpool_mode state set): rw, out_of_data_space, ro (read-only or out of metadata space), error, fail.',
                      [target(modeCode, '{{instance}} {{pool}}')], {
                        '1': { text: 'rw', color: 'green', index: 0 },
                        '2': { text: 'out_of_data_space', color: 'orange', index: 1 },
                        '3': { text: 'ro', color: 'red', index: 2 },
                        '4': { text: 'error', color: 'dark-red', index: 3 },
                        '5': { text: 'fail', color: 'dark-red', index: 4 },
                      }),
        stateTimeline('needs_check and held metadata snapshot', 'needs_check: the kernel wants thin_check/lvconvert --repair before the pool is written again. Snapshot held: a reserve_metadata_snap is active.',
                      [
                        target('thinpool_needs_check{%s}' % poolSel, 'needs_check {{instance}} {{pool}}', 'A'),
                        target('thinpool_metadata_snapshot_held{%s}' % poolSel, 'snapshot held {{instance}} {{pool}}', 'B'),
                      ], {
                        '0': { text: 'no', color: 'green', index: 0 },
                        '1': { text: 'yes', color: 'red', index: 1 },
                      }),
        timeseries('Transaction id', 'The kernel\'s transaction id of each pool and the one LVM recorded in the VG metadata (lvm collector). They must be equal; a lasting difference makes lvcreate fail.',
                   'none', [
                     target('thinpool_transaction_id{%s}' % poolSel, 'kernel {{instance}} {{pool}}', 'A'),
                     target('thinpool_lvm_transaction_id{%s}' % sel, 'LVM {{instance}} {{vg}}/{{lv}}', 'B'),
                   ], defaults={ decimals: 0 }),
        timeseries('Overprovisioning', 'Virtual size of all thin volumes over the pool\'s data size. Above 100% the pool can fill up while every file system still has free space.',
                   'percentunit', [target('thinpool:overprovisioning:ratio{%s}' % poolSel, '{{instance}} {{pool}}')],
                   defaults={ min: 0 }),

        row('Thin volumes'),
        panel('bargauge', 'Top thin volumes by mapped bytes', 'The 10 thin volumes of the selected pools with the most provisioned (mapped) data, now.',
              'bytes', [target('topk(10, thinpool_volume_mapped_bytes{%s})' % poolSel, '{{instance}} {{volume}}', instant=true)],
              12, 8, { options: { orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true,
                                  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
                       defaults: { min: 0, thresholds: thresholds([]) } }),
        timeseries('Thin volumes per pool', 'Number of thin volumes (and snapshots) in each pool: metadata grows with them.',
                   'short', [target('thinpool_thin_volumes{%s}' % poolSel, '{{instance}} {{pool}}')],
                   defaults={ decimals: 0, min: 0 }),

        row('LVM: every pool and thin LV, active or not'),
        stat('Inactive pools', 'Thin pools in LVM\'s metadata that the kernel does not have active (thinpool_lvm_pool_active 0, lvm collector). The Pool variable does not apply: an inactive pool has no dm name. Their thin volumes cannot be used. Alert: ThinPoolInactive.',
             'short', 'count(thinpool_lvm_pool_active{%s} == 0) or vector(0)' % sel, thresholds([['orange', 1]]), h=8),
        table('Inactive thin pools', 'Each thin pool LVM has that the kernel has not activated (thinpool_lvm_pool_active 0), with its thin LVs and their virtual size from LVM\'s metadata (the Pool variable does not apply). Inactive for: since ThinPoolInactive\'s expression first held (ALERTS_FOR_STATE); empty for pools the mixin\'s poolInactiveSelector leaves out or without the alert rules. lvchange -ay VG/LV says why it does not activate (docs/runbook.md#thinpoolinactive).',
              'short', [
                target('max by (job, instance, vg, lv) (time() - ALERTS_FOR_STATE{%s,alertname="ThinPoolInactive"})' % sel,
                       '{{vg}}/{{lv}}', 'A', instant=true),
                target('max by (job, instance, vg, lv) (thinpool_lvm_thin_volumes{%s} and on (job, instance, vg, lv) (thinpool_lvm_pool_active{%s} == 0))' % [sel, sel],
                       '{{vg}}/{{lv}}', 'B', instant=true),
                target('max by (job, instance, vg, lv) (thinpool_lvm_provisioned_bytes{%s} and on (job, instance, vg, lv) (thinpool_lvm_pool_active{%s} == 0))' % [sel, sel],
                       '{{vg}}/{{lv}}', 'C', instant=true),
              ], [['instance', 'Instance', null], ['vg', 'VG', null], ['lv', 'Pool LV', null],
                  ['Value #A', 'Inactive for', 'dtdurations'], ['Value #B', 'Thin LVs', null],
                  ['Value #C', 'Provisioned', 'bytes']], sortBy='Inactive for', w=20),
        timeseries('LVM metadata area usage', 'Per VG: its metadata text (thinpool_lvm_metadata_area_used_bytes) over the largest text lvm2 commits to its smallest metadata area, (size - 512) / 2 - 512 bytes (two copies must fit; 521,472 bytes in the default 1020 KiB area). Read from the PVs, not from backups. At 100%% every change of the VG fails (lvcreate, lvextend, snapshots, autoextend, repairs): remove LVs and snapshots nobody needs, move the metadata to a PV with a larger area. Alert: ThinPoolLvmMetadataAreaAlmostFull from %d%%.' % (c.lvmMetadataAreaWarningRatio * 100),
                   'percentunit', [target('thinpool_lvm_metadata_area_used_bytes{%s} / on (job, instance, vg) ((thinpool_lvm_metadata_area_size_bytes{%s} - 512) / 2 - 512)' % [sel, sel],
                                          '{{instance}} {{vg}}')],
                   defaults={ min: 0, max: 1, custom+: { thresholdsStyle: { mode: 'line' } },
                              thresholds: thresholds([['orange', c.lvmMetadataAreaWarningRatio], ['red', c.lvmMetadataAreaCriticalRatio]]) }),
        timeseries('Missing PVs per VG', 'PVs a VG\'s metadata lists that no scanned device holds or that are flagged MISSING (thinpool_lvm_vg_missing_pvs, vgs -o vg_missing_pv_count). LVs with extents on them do not activate, and lvm2 refuses every change of the VG until the PV is back or removed (vgreduce --removemissing). Alert: ThinPoolLvmPvMissing.',
                   'short', [target('thinpool_lvm_vg_missing_pvs{%s}' % sel, '{{instance}} {{vg}}')],
                   defaults={ decimals: 0, min: 0 }),
        table('Thin LVs per pool: LVM and kernel', 'Per pool, the thin LVs in LVM\'s metadata (active or not, snapshots among them) and their virtual size, beside what the kernel has active (thinpool_thin_volumes, thinpool_provisioned_bytes). lvm2 does not activate thin snapshots by default, so fewer active than in LVM is normal; metadata grows with all of them. Rows join on VG and pool LV; an inactive pool has no dm name and always shows.',
              'short', [
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_thin_volumes{%s,pool=~"$pool|"})' % sel, '{{vg}}/{{lv}}', 'A', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_snapshots{%s,pool=~"$pool|"})' % sel, '{{vg}}/{{lv}}', 'B', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_thin_volumes{%s})' % poolSel, '{{pool}}', 'C', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_provisioned_bytes{%s,pool=~"$pool|"})' % sel, '{{vg}}/{{lv}}', 'D', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_provisioned_bytes{%s})' % poolSel, '{{pool}}', 'E', instant=true),
              ], [['instance', 'Instance', null], ['vg', 'VG', null], ['lv', 'Pool LV', null], ['pool', 'dm name', null],
                  ['Value #A', 'Thin LVs (LVM)', null], ['Value #B', 'Snapshots (LVM)', null],
                  ['Value #C', 'Active (kernel)', null], ['Value #D', 'Provisioned (LVM)', 'bytes'],
                  ['Value #E', 'Provisioned active (kernel)', 'bytes']], sortBy='Thin LVs (LVM)', h=9),
        table('Oldest thin snapshots', 'Thin snapshots (thinpool_lvm_volume_info with an origin) by age since LVM created them (thinpool_lvm_volume_creation_timestamp_seconds), oldest first: the 5 oldest of each pool, 25 at most. A snapshot nobody remembers keeps its blocks and metadata, and its text in the VG\'s metadata area: lvremove VG/LV if it is not needed. Needs --collector.lvm.volume-series (on by default). Pool is the pool LV\'s name.',
              'dtdurations', [
                target('topk(25, topk by (job, instance, vg, pool) (5, (time() - thinpool_lvm_volume_creation_timestamp_seconds{%s}) * on (job, instance, vg, pool, lv) group_left (origin) thinpool_lvm_volume_info{%s,origin!=""}))' % [sel, sel],
                       '{{vg}}/{{lv}}', 'A', instant=true),
              ], [['instance', 'Instance', null], ['vg', 'VG', null], ['pool', 'Pool LV', null], ['lv', 'Snapshot', null],
                  ['origin', 'Origin', null], ['Value', 'Age', null]], sortBy='Age', h=9),

        row('Prevention: autoextend'),
        stat('Pools without autoextend', 'Active LVM thin pools for which lvm2\'s autoextend is disabled (thinpool_lvm_autoextend_step_ratio 0: thin_pool_autoextend_threshold 100 or thin_pool_autoextend_percent 0 in lvm.conf or the pool\'s profile; lvm2\'s and Debian\'s default). Nothing grows them but a person. Alert: ThinPoolAutoextendDisabled from %d%% data or metadata usage.' % (c.autoextendDisabledUsageRatio * 100),
             'short', 'count(thinpool_lvm_autoextend_step_ratio{%s} == 0) or vector(0)' % poolSel, thresholds([['orange', 1]]), h=8),
        table('Autoextend per pool', 'Per LVM thin pool (inactive ones have no dm name), whether lvm2 will grow it by itself: the usage above which dmeventd runs lvextend --use-policies (Threshold; off = disabled) and by how much of its size (Step), whether dmeventd monitors the pool (lvs -o seg_monitor) and runs on the host, and the next extension of data and metadata against the VG\'s free space. Monitored and dmeventd are empty where the exporter cannot see the host\'s dmeventd. Alerts: ThinPoolAutoextendDisabled, ThinPoolAutoextendNotMonitored, ThinPoolDmeventdDown, ThinPoolAutoextendNoSpace; docs/runbook.md#autoextend-with-dmeventd.',
              'short', [
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_autoextend_threshold_ratio{%s,pool=~"$pool|"})' % sel, '{{vg}}/{{lv}}', 'A', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_autoextend_step_ratio{%s,pool=~"$pool|"})' % sel, '{{vg}}/{{lv}}', 'B', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_monitored{%s})' % poolSel, '{{vg}}/{{lv}}', 'C', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_dmeventd_up{%s} + on (job, instance) group_right () (0 * thinpool_lvm_autoextend_step_ratio{%s,pool=~"$pool|"}))' % [sel, sel],
                       '{{vg}}/{{lv}}', 'D', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_data_size_bytes{%s} * on (job, instance, vg, lv) group_left () thinpool_lvm_autoextend_step_ratio{%s})' % [poolSel, sel],
                       '{{vg}}/{{lv}}', 'E', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_metadata_size_bytes{%s} * on (job, instance, vg, lv) group_left () thinpool_lvm_autoextend_step_ratio{%s})' % [poolSel, sel],
                       '{{vg}}/{{lv}}', 'F', instant=true),
                target('max by (job, instance, pool, vg, lv) (thinpool_lvm_vg_free_bytes{%s} + on (job, instance, vg) group_right () (0 * thinpool_lvm_autoextend_step_ratio{%s,pool=~"$pool|"}))' % [sel, sel],
                       '{{vg}}/{{lv}}', 'G', instant=true),
              ], [['instance', 'Instance', null], ['vg', 'VG', null], ['lv', 'Pool LV', null], ['pool', 'dm name', null],
                  ['Value #A', 'Threshold', 'percentunit', { '1': { text: 'off', color: 'orange', index: 0 } }],
                  ['Value #B', 'Step', 'percentunit', { '0': { text: 'off', color: 'orange', index: 0 } }],
                  ['Value #C', 'Monitored', null, { '0': { text: 'no', color: 'red', index: 0 }, '1': { text: 'yes', color: 'green', index: 1 } }],
                  ['Value #D', 'dmeventd', null, { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } }],
                  ['Value #E', 'Next data step', 'bytes'], ['Value #F', 'Next metadata step', 'bytes'],
                  ['Value #G', 'VG free', 'bytes']], sortBy='Next data step', w=20),

        row('Exporter'),
        timeseries('Scrape up', 'Whether Prometheus could scrape each exporter (1) or not (0). Alert: ThinPoolExporterDown.', 'short',
                   [target('up{%s}' % sel, '{{instance}}')], w=6, defaults={ min: 0, max: 1, decimals: 0 }),
        timeseries('Collector success', 'Per collector: 1 if its last run succeeded. Alert: ThinPoolCollectorFailing.', 'short',
                   [target('thinpool_scrape_collector_success{%s}' % sel, '{{instance}} {{collector}}')], w=6,
                   defaults={ min: 0, max: 1, decimals: 0 }),
        timeseries('Collector duration', 'Time each collector took in the last scrape.', 's',
                   [target('thinpool_scrape_collector_duration_seconds{%s}' % sel, '{{instance}} {{collector}}')], w=6),
        timeseries('Parse errors', 'Status or table lines the exporter could not parse, per target type. Alert: ThinPoolParseErrors.',
                   'short', [target('sum by (instance, target) (increase(thinpool_parse_errors_total{%s}[$__rate_interval]))' % sel,
                                    '{{instance}} {{target}}')], w=6, defaults={ min: 0 }),
      ]),
    },
  },
}
