// Alerts. Every alert has severity, summary, a templated description and a runbook_url to its runbook section
// (docs/runbook.md, heading = alert name). Thresholds and windows come from config.libsonnet.
local percent(ratio) = std.toString(std.floor(ratio * 10000 + 0.5) / 100) + '%';

{
  prometheusAlerts+:: {
    local c = $._config,
    local sel = '{%s}' % c.thinpoolSelector,

    // "vg-pool-tpool (LV vg/pool) on host:9966"; the LV part only for LVM pools.
    local where = '{{ $labels.pool }}{{ if $labels.vg }} (LV {{ $labels.vg }}/{{ $labels.lv }}){{ end }} on {{ $labels.instance }}',

    // The value of a series of the same pool, formatted, or `fallback` when it has none.
    local poolValue(metric, format, fallback) =
      '{{ with printf `%s{job=%%q,instance=%%q,pool=%%q}` $labels.job $labels.instance $labels.pool | query }}'
      % metric + '{{ . | first | value | %s }}{{ else }}%s{{ end }}' % [format, fallback],

    // The same for series of an LVM pool by VG and LV (an inactive pool has pool=""), and of a VG.
    local lvmPoolValue(metric, format, fallback) =
      '{{ with printf `%s{job=%%q,instance=%%q,vg=%%q,lv=%%q}` $labels.job $labels.instance $labels.vg $labels.lv | query }}'
      % metric + '{{ . | first | value | %s }}{{ else }}%s{{ end }}' % [format, fallback],
    local vgValue(expr, format, fallback) =
      '{{ with printf `%s` $labels.job $labels.instance $labels.vg | query }}' % expr
      + '{{ . | first | value | %s }}{{ else }}%s{{ end }}' % [format, fallback],
    local vgSel = '{job=%q,instance=%q,vg=%q}',
    // The value of any expression, its printf arguments given as template expressions.
    // `unit` follows the value, not the fallback.
    local queryValue(expr, args, format, fallback, unit='') =
      '{{ with printf `%s` %s | query }}{{ . | first | value | %s }}%s{{ else }}%s{{ end }}'
      % [expr, std.join(' ', args), format, unit, fallback],
    local lvArgs = ['$labels.job', '$labels.instance', '$labels.vg', '$labels.lv'],
    local lvSel = '{job=%q,instance=%q,vg=%q,lv=%q}',
    // The pool's next autoextend step in bytes of its data or metadata device: lvm2 grows both by the same percent.
    local stepBytes(what) = queryValue(
      'thinpool_' + what + '_size_bytes' + lvSel + ' * on (job, instance, vg, lv) thinpool_lvm_autoextend_step_ratio'
      + lvSel, lvArgs + lvArgs, 'humanize1024', 'unknown', 'B'
    ),
    local poolBytes(metric) =
      queryValue(metric + '{job=%q,instance=%q,pool=%q}', ['$labels.job', '$labels.instance', '$labels.pool'],
                 'humanize1024', 'unknown', 'B'),
    local autoextendThreshold = lvmPoolValue('thinpool_lvm_autoextend_threshold_ratio', 'humanizePercentage', 'unknown'),
    local autoextendStep = lvmPoolValue('thinpool_lvm_autoextend_step_ratio', 'humanizePercentage', 'unknown'),
    local vgFree = queryValue('thinpool_lvm_vg_free_bytes' + vgSel, ['$labels.job', '$labels.instance', '$labels.vg'],
                              'humanize1024', 'unknown', 'B'),
    local areaSize = 'thinpool_lvm_metadata_area_size_bytes' + vgSel,
    local areaUsed = 'thinpool_lvm_metadata_area_used_bytes' + vgSel,
    // lvm2's largest metadata text for an area (lib/format_text/format-text.c, _vg_write_raw): the area less its
    // header sector holds two copies, each starting on a sector boundary.
    local areaMax(size) = '((%s - 512) / 2 - 512)' % size,

    local dataUsage = poolValue('thinpool:data_usage:ratio', 'humanizePercentage', 'unknown'),
    local metadataUsage = poolValue('thinpool:metadata_usage:ratio', 'humanizePercentage', 'unknown'),
    local dataTimeToFull = poolValue('thinpool:data_time_to_full:seconds', 'humanizeDuration', 'not growing'),
    local metadataTimeToFull = poolValue('thinpool:metadata_time_to_full:seconds', 'humanizeDuration', 'not growing'),
    local usage = 'Data ' + dataUsage + ' used, metadata ' + metadataUsage + ' used. Time to full at the rate of the last '
                  + c.fillingUpWindow + ': data ' + dataTimeToFull + ', metadata ' + metadataTimeToFull + '.',

    // Every matching and grouping by job and instance, and every query of a description, also goes by the cluster
    // label: two clusters may have the same job, instance and pool names. Written once here rather than in each
    // expression; tests/alerts/check_cluster_label.py checks the generated files for one that lacks it.
    local cl = c.clusterLabel,
    local withCluster(text) = std.foldl(function(acc, r) std.strReplace(acc, r[0], r[1]), [
      ['(job, instance', '(%s, job, instance' % cl],
      ['{job=%q,instance=%q', '{%s=%%q,job=%%q,instance=%%q' % cl],
      ['$labels.job $labels.instance', '$labels.%s $labels.job $labels.instance' % cl],
    ], text),

    // The runbook the alert's own exporter serves (its `instance` label), or the hosted copy set in runbookURL.
    // Alerts whose labels have no `instance` (ThinPoolExporterAbsent: absent() has no target to name) link to any
    // exporter this Prometheus still has, of any job or cluster; where there is none at all, only runbookURL helps.
    local withoutInstance = ['ThinPoolExporterAbsent'],
    local runbookURL(name) =
      if c.runbookURL != '' then '%s#%s' % [c.runbookURL, std.asciiLower(name)]
      else if !std.member(withoutInstance, name) then
        '%s://{{ $labels.instance }}/runbook#%s' % [c.runbookScheme, std.asciiLower(name)]
      else ('{{ if $labels.instance }}%(s)s://{{ $labels.instance }}/runbook'
            + '{{ else }}{{ with query "thinpool_exporter_build_info" }}%(s)s://{{ (. | first).Labels.instance }}/runbook'
            + '{{ end }}{{ end }}#%(a)s') % { s: c.runbookScheme, a: std.asciiLower(name) },

    local alert(name, severity, expr, forDuration, summary, description) = {
      alert: name,
      expr: withCluster(expr),
      'for': forDuration,
      labels: { severity: severity },
      annotations: {
        summary: summary,
        description: withCluster(description),
        runbook_url: runbookURL(name),
      },
    },

    local almostFull(what, Kind, warning, critical, forDuration, consequence) = [
      alert(
        'ThinPool%sAlmostFull' % Kind, l.severity, 'thinpool:%s_usage:ratio >= %g' % [what, l.ratio], forDuration,
        'Thin pool %s usage is above %s.' % [what, percent(l.ratio)],
        'Thin pool ' + where + ' has used {{ $value | humanizePercentage }} of its ' + what + ' space. '
        + consequence + ' ' + usage,
      )
      for l in [{ severity: 'warning', ratio: warning }, { severity: 'critical', ratio: critical }]
    ],

    local fillingUp(what, Kind) = [
      alert(
        'ThinPool%sFillingUp' % Kind, l.severity,
        'predict_linear(thinpool_%s_used_bytes%s[%s], %d * 3600) > thinpool_%s_size_bytes%s'
        % [what, sel, c.fillingUpWindow, l.hours, what, sel],
        l.forDuration,
        'Thin pool %s is predicted to be full within %d hours.' % [what, l.hours],
        'Thin pool ' + where + ' is filling up its ' + what + ' space and, at the rate of the last '
        + c.fillingUpWindow + ', will be full within ' + l.hours + ' hours. ' + usage,
      )
      for l in [
        { severity: 'warning', hours: c.fillingUpWarningHours, forDuration: c.fillingUpWarningFor },
        { severity: 'critical', hours: c.fillingUpCriticalHours, forDuration: c.fillingUpCriticalFor },
      ]
    ],

    groups+: [
      {
        name: 'thinpool.alerts',
        rules:
          almostFull(
            'metadata', 'Metadata', c.metadataAlmostFullWarningRatio, c.metadataAlmostFullCriticalRatio,
            c.metadataAlmostFullFor,
            'lvm2 refuses new thin volumes from ' + percent(c.metadataAlmostFullWarningRatio)
            + ' metadata use; at 100% the pool turns read-only and writes fail.'
          )
          + fillingUp('metadata', 'Metadata')
          + almostFull(
            'data', 'Data', c.dataAlmostFullWarningRatio, c.dataAlmostFullCriticalRatio, c.dataAlmostFullFor,
            'At 100% writes to unprovisioned blocks queue, then fail with I/O errors.'
          )
          + fillingUp('data', 'Data')
          + [
            alert(
              'ThinPoolMetadataCannotGrow', 'critical',
              '(thinpool:metadata_usage:ratio >= %g) and on(job, instance, pool) (' % c.metadataAlmostFullWarningRatio
              + '(thinpool_metadata_size_bytes%s * %g > on(job, instance, vg) group_left() thinpool_lvm_vg_free_bytes%s)'
                % [sel, c.metadataGrowthFreeFactor, sel]
              + ' or (thinpool_metadata_size_bytes%s >= %d))' % [sel, c.lvmMaxMetadataBytes],
              c.metadataCannotGrowFor,
              'Thin pool metadata is almost full and cannot grow.',
              'Thin pool ' + where + ' has used {{ $value | humanizePercentage }} of its metadata and cannot grow it: '
              + '{{ with printf `thinpool_metadata_size_bytes{job=%q,instance=%q,pool=%q}` $labels.job $labels.instance $labels.pool | query }}'
              + '{{ if ge (. | first | value) %d.0 }}' % c.lvmMaxMetadataBytes
              + 'it is already {{ . | first | value | humanize1024 }}B, lvm2\'s largest thin-pool metadata. Stop '
              + 'creating volumes and snapshots in this pool, remove snapshots nobody needs, and move volumes to a new '
              + 'pool with a larger chunk size.{{ else }}'
              + 'volume group {{ $labels.vg }} has only '
              + '{{ with printf `thinpool_lvm_vg_free_bytes{job=%q,instance=%q,vg=%q}` $labels.job $labels.instance $labels.vg | query }}{{ . | first | value | humanize1024 }}B{{ else }}unknown{{ end }}'
              + ' free, less than ' + c.metadataGrowthFreeFactor + ' times the metadata size ('
              + '{{ . | first | value | humanize1024 }}B). '
              + 'lvextend --poolmetadatasize will fail: add a PV to the VG first.{{ end }}{{ end }} ' + usage,
            ),
            alert(
              'ThinPoolMetadataUndersized', 'warning',
              'max without() ({__name__=~"thinpool:metadata_needed_at_full_data:bytes|thinpool:metadata_lvm_estimate:bytes",%s})'
              % c.thinpoolSelector + ' > thinpool_metadata_size_bytes%s' % sel,
              c.metadataUndersizedFor,
              'Thin pool metadata is too small for its data.',
              'Thin pool ' + where + ' has ' + poolValue('thinpool_metadata_size_bytes', 'humanize1024', 'unknown')
              + 'B of metadata and should have at least {{ $value | humanize1024 }}B: '
              + '{{ with printf `thinpool:metadata_needed_at_full_data:bytes{job=%q,instance=%q,pool=%q}` '
              + '$labels.job $labels.instance $labels.pool | query }}at its ratio of metadata to data so far it will '
              + 'need {{ . | first | value | humanize1024 }}B when its data is full{{ else }}too little of its data '
              + 'is used yet to project what it will need{{ end }}, and lvm2 sizes metadata for its data size and '
              + 'chunk size at '
              + poolValue('thinpool:metadata_lvm_estimate:bytes', 'humanize1024', 'unknown') + 'B. '
              + 'Grow it before it fills (lvextend --poolmetadatasize, docs/runbook.md#grow-metadata). ' + usage,
            ),
            alert(
              'ThinPoolNotWritable', 'critical', 'thinpool_mode{%s,mode!="rw"} == 1' % c.thinpoolSelector,
              c.notWritableFor,
              'Thin pool is not writable.',
              'Thin pool ' + where + ' is in {{ $labels.mode }} mode: writes to unprovisioned blocks '
              + '(out_of_data_space) or all writes (ro, fail, error) are not served. ' + usage,
            ),
            alert(
              'ThinPoolNeedsCheck', 'critical', 'thinpool_needs_check%s == 1' % sel, c.needsCheckFor,
              'Thin pool metadata needs a check and repair.',
              'The kernel set needs_check on thin pool ' + where + ': its metadata must be checked and repaired '
              + '(thin_check, lvconvert --repair) before the pool can be written again. ' + usage,
            ),
            alert(
              'ThinPoolMetadataSnapshotHeld', 'warning', 'thinpool_metadata_snapshot_held%s == 1' % sel,
              c.metadataSnapshotHeldFor,
              'Thin pool has held a metadata snapshot for a long time.',
              'Thin pool ' + where + ' has held a metadata snapshot (reserve_metadata_snap) for more than '
              + c.metadataSnapshotHeldFor + '. It pins old metadata blocks, so metadata use only grows. ' + usage,
            ),
            alert(
              'ThinPoolTransactionIdMismatch', 'critical',
              'thinpool_transaction_id{%s,vg!=""} != on(job, instance, vg, lv) group_left() thinpool_lvm_transaction_id%s'
              % [c.thinpoolSelector, sel],
              c.transactionIdMismatchFor,
              'Kernel and LVM disagree on the thin pool transaction id.',
              'Thin pool ' + where + ' has kernel transaction id {{ $value }} but LVM metadata of VG {{ $labels.vg }} expects '
              + '{{ with printf `thinpool_lvm_transaction_id{job=%q,instance=%q,vg=%q,lv=%q}` $labels.job $labels.instance $labels.vg $labels.lv | query }}{{ . | first | value }}{{ else }}unknown{{ end }}'
              + '. lvcreate, lvremove and snapshots in this pool fail until they agree. ' + usage,
            ),
            alert(
              'ThinPoolInactive', c.poolInactiveSeverity,
              'thinpool_lvm_pool_active{%s} == 0'
              % std.join(',', [c.thinpoolSelector] + (if c.poolInactiveSelector == '' then [] else [c.poolInactiveSelector])),
              c.poolInactiveFor,
              'A thin pool in LVM\'s metadata is not active.',
              'Thin pool LV {{ $labels.vg }}/{{ $labels.lv }} on {{ $labels.instance }} is in LVM\'s metadata but has not '
              + 'been active in the kernel for ' + c.poolInactiveFor + ', so its '
              + lvmPoolValue('thinpool_lvm_thin_volumes', 'humanize', 'unknown') + ' thin volume(s) ('
              + lvmPoolValue('thinpool_lvm_provisioned_bytes', 'humanize1024', 'unknown') + 'B provisioned) cannot be '
              + 'used. Either it was deactivated on purpose (lvchange -an, autoactivation disabled, the activation skip '
              + 'flag, activation/volume_list) or its activation failed (thin_check found its metadata damaged, a PV '
              + 'under it is missing, its _tmeta is active on its own): lvchange -ay {{ $labels.vg }}/{{ $labels.lv }} '
              + 'says which. A pool that is inactive on purpose belongs in the mixin\'s poolInactiveSelector.',
            ),
            alert(
              'ThinPoolLvmPvMissing', 'critical', 'thinpool_lvm_vg_missing_pvs%s > 0' % sel, c.lvmPvMissingFor,
              'A volume group has missing physical volumes.',
              'Volume group {{ $labels.vg }} on {{ $labels.instance }} lists {{ $value }} PV(s) that are missing (no '
              + 'device holds them, or its metadata flags them MISSING). LVs with extents on them do not activate: a '
              + 'thin pool whose _tdata or _tmeta lies there stays inactive. lvm2 refuses every change of the VG '
              + '("Cannot change VG ... while PVs are missing"), so lvcreate, lvextend and dmeventd\'s autoextend fail '
              + 'for all its pools until the PV is back or removed from the VG (vgreduce --removemissing).',
            ),
          ]
          + [
            alert(
              'ThinPoolLvmMetadataAreaAlmostFull', l.severity,
              'thinpool_lvm_metadata_area_used_bytes%s / on(job, instance, vg) %s >= %g'
              % [sel, areaMax('thinpool_lvm_metadata_area_size_bytes' + sel), l.ratio],
              c.lvmMetadataAreaFor,
              'LVM metadata of a volume group is above %s of what its metadata area can hold.' % percent(l.ratio),
              'The LVM metadata of volume group {{ $labels.vg }} on {{ $labels.instance }} is '
              + vgValue(areaUsed, 'humanize1024', 'unknown') + 'B, {{ $value | humanizePercentage }} of the '
              + vgValue(areaMax(areaSize), 'humanize1024', 'unknown') + 'B that lvm2 can commit to its smallest '
              + 'metadata area (' + vgValue(areaSize, 'humanize1024', 'unknown') + 'B: two copies must fit). Past '
              + 'that, lvm2 refuses every change of the VG ("exceeds maximum metadata size"): lvcreate, lvextend, '
              + 'snapshots, dmeventd\'s autoextend and lvconvert --repair fail. Remove LVs and snapshots nobody needs, '
              + 'and move the metadata to a PV with a larger metadata area while there is still room to add one.',
            )
            for l in [
              { severity: 'warning', ratio: c.lvmMetadataAreaWarningRatio },
              { severity: 'critical', ratio: c.lvmMetadataAreaCriticalRatio },
            ]
          ]
          + [
            alert(
              'ThinPoolAutoextendDisabled', 'warning',
              '(max without () ({__name__=~"thinpool:data_usage:ratio|thinpool:metadata_usage:ratio",%s}) >= %g)'
              % [c.thinpoolSelector, c.autoextendDisabledUsageRatio]
              + ' and on (job, instance, vg, lv) (thinpool_lvm_autoextend_step_ratio{%s} == 0)'
                % std.join(',', [c.thinpoolSelector]
                                + (if c.autoextendDisabledSelector == '' then [] else [c.autoextendDisabledSelector])),
              c.autoextendDisabledFor,
              'Thin pool is above %s used and lvm2 will not extend it: autoextend is disabled.'
              % percent(c.autoextendDisabledUsageRatio),
              'Thin pool ' + where + ' has used {{ $value | humanizePercentage }} of its data or metadata space (the '
              + 'higher of the two) and lvm2 will not extend it: autoextend is disabled for it '
              + '(activation/thin_pool_autoextend_threshold 100 or thin_pool_autoextend_percent 0, lvm2\'s default, in '
              + 'lvm.conf or its metadata profile). From ' + percent(c.autoextendDisabledUsageRatio) + ' any enabled '
              + 'autoextend would already be growing it; at ' + percent(c.metadataAlmostFullWarningRatio) + ' metadata '
              + 'lvm2 refuses new thin volumes, at 100% the pool stops serving writes. Volume group {{ $labels.vg }} '
              + 'has ' + vgFree + ' free. Turn autoextend on for it (docs/runbook.md#enable-autoextend) or grow it '
              + 'by hand (lvextend). ' + usage,
            ),
            alert(
              'ThinPoolAutoextendNotMonitored', 'warning',
              '(thinpool_lvm_monitored%s == 0) and on (job, instance, vg, lv) (thinpool_lvm_autoextend_step_ratio%s > 0)'
              % [sel, sel],
              c.autoextendNotMonitoredFor,
              'Thin pool has autoextend configured but dmeventd does not monitor it.',
              'Thin pool ' + where + ' is to be extended by ' + autoextendStep + ' of its size whenever its data or '
              + 'metadata usage passes ' + autoextendThreshold + ', but dmeventd does not monitor it, so nothing '
              + 'extends it and nobody is warned as it fills. lvm2 registers a pool with dmeventd when it activates it '
              + 'only while activation/monitoring is 1 in lvm.conf. lvchange --monitor y {{ $labels.vg }}/{{ $labels.lv }} '
              + 'registers it now; lvs -o+seg_monitor must then say monitored (docs/runbook.md#enable-autoextend). '
              + usage,
            ),
            alert(
              'ThinPoolDmeventdDown', 'warning',
              '(thinpool_lvm_dmeventd_up%s == 0) and on (job, instance) ' % sel
              + '(count by (job, instance) (thinpool_lvm_autoextend_step_ratio{%s,pool!=""} > 0))' % c.thinpoolSelector,
              c.dmeventdDownFor,
              'dmeventd does not run on a host whose thin pools rely on autoextend.',
              'dmeventd does not run on {{ $labels.instance }}, where '
              + queryValue('count(thinpool_lvm_autoextend_step_ratio{job=%q,instance=%q,pool!=""} > 0)',
                           ['$labels.job', '$labels.instance'], 'humanize', 'some')
              + ' active thin pool(s) have autoextend configured: none of them is extended when it fills, and lvm2 '
              + 'logs no warning as it does. Start it (systemctl start dm-event.socket dm-event.service) and register '
              + 'the pools again (vgchange --monitor y VG, what lvm2-monitor.service does at boot); '
              + 'docs/runbook.md#thinpooldmeventddown.',
            ),
            alert(
              'ThinPoolAutoextendNoSpace', 'warning',
              std.join(' or ', [
                '(thinpool_%s_size_bytes%s * on (job, instance, vg, lv) group_left () (thinpool_lvm_autoextend_step_ratio%s > 0)'
                % [what, sel, sel]
                + ' > on (job, instance, vg) group_left () thinpool_lvm_vg_free_bytes%s)' % sel
                for what in ['data', 'metadata']
              ]),
              c.autoextendNoSpaceFor,
              'Thin pool autoextend cannot grow the pool: its volume group lacks the free space.',
              'Thin pool ' + where + ' is to be extended by ' + autoextendStep + ' of its size whenever its data or '
              + 'metadata usage passes ' + autoextendThreshold + ', but volume group {{ $labels.vg }} has only '
              + vgFree + ' free: the next extension needs ' + stepBytes('data') + ' for data (of '
              + poolBytes('thinpool_data_size_bytes') + ') and ' + stepBytes('metadata') + ' for metadata (of '
              + poolBytes('thinpool_metadata_size_bytes') + '; as much again when the VG has a spare metadata LV, '
              + 'which lvm2 grows with it). lvextend --use-policies fails when dmeventd '
              + 'runs it, and the pool fills as if autoextend were off. Add a PV to the VG (vgextend) or free extents '
              + '(docs/runbook.md#thinpoolautoextendnospace). ' + usage,
            ),
          ]
          + [
            alert(
              'ThinPoolStatusBlocked', 'critical', 'thinpool_status_blocked%s == 1' % sel, c.statusBlockedFor,
              'Thin pool status calls block: the devices under the pool stopped answering.',
              'A status call on thin pool ' + where + ' has not returned for ' + c.statusBlockedFor + ' or more: '
              + 'the kernel is waiting for the pool\'s metadata or data device, which usually means a PV below it '
              + 'stopped answering (a path-less multipath map, a hung iSCSI LUN, a suspended device). The pool\'s '
              + 'usage series are absent meanwhile, so its fill alerts cannot fire, and writes to its volumes are '
              + 'likely stuck.',
            ),
            alert(
              'ThinPoolStackSuspended', 'warning', 'thinpool_stack_suspended%s == 1' % sel, c.stackSuspendedFor,
              'A device-mapper device of the thin pool has been suspended for a long time.',
              'Thin pool ' + where + ' or a device-mapper device below it has been suspended for more than '
              + c.stackSuspendedFor + '. LVM suspends devices only for the moment a change takes; a lasting '
              + 'suspension means a command hung or was killed halfway, and all I/O to the pool waits until the '
              + 'device is resumed.',
            ),
            alert(
              'ThinPoolLvmPvReadStuck', 'critical',
              'thinpool_lvm_pv_read_stuck_seconds%s > %d' % [sel, c.pvReadStuckSeconds], c.pvReadStuckFor,
              'A physical volume does not answer reads.',
              'Reading physical volume {{ $labels.device }} of volume group {{ $labels.vg }} on {{ $labels.instance }} '
              + 'has been waiting for {{ $value | humanizeDuration }}: the device stopped answering. I/O of every '
              + 'logical volume on it is likely stuck; the exporter reads the VG\'s metadata from its other PVs or '
              + 'from the backup meanwhile.',
            ),
            alert(
              'ThinPoolDeviceErrors', 'warning',
              'increase(thinpool_device_errors_total{%s,reason=~"table|status"}[%s]) > 0'
              % [c.thinpoolSelector, c.deviceErrorsWindow], '0m',
              'thinpool_exporter had to leave devices out: device-mapper calls on them failed.',
              'thinpool_exporter on {{ $labels.instance }} left out {{ $value | humanize }} device(s) in the last '
              + c.deviceErrorsWindow + ' because a device-mapper {{ $labels.reason }} call on them failed: those '
              + 'devices have no series and their alerts cannot fire. Every other device is reported.',
            ),
            alert(
              'ThinPoolCollectorFailing', 'warning', 'thinpool_scrape_collector_success%s == 0' % sel,
              c.collectorFailingFor,
              'A thinpool_exporter collector is failing.',
              'Collector {{ $labels.collector }} of thinpool_exporter on {{ $labels.instance }} has failed every scrape '
              + 'for ' + c.collectorFailingFor + ': its pools are not monitored. The exporter log says why.',
            ),
            alert(
              'ThinPoolParseErrors', 'warning',
              'increase(thinpool_parse_errors_total%s[%s]) > 0' % [sel, c.parseErrorsWindow], '0m',
              'thinpool_exporter cannot parse device-mapper output.',
              'thinpool_exporter on {{ $labels.instance }} failed to parse {{ $value | humanize }} {{ $labels.target }} '
              + 'status or table lines in the last ' + c.parseErrorsWindow + ': the devices behind them are not monitored.',
            ),
            alert(
              'ThinPoolExporterDown', 'warning', 'up%s == 0' % sel, c.exporterDownFor,
              'thinpool_exporter cannot be scraped.',
              'Prometheus has failed to scrape thinpool_exporter on {{ $labels.instance }} (job {{ $labels.job }}) for '
              + c.exporterDownFor + ': thin pools on that host are not monitored.',
            ),
            alert(
              'ThinPoolExporterAbsent', 'warning', 'absent(up%s)' % sel, c.exporterAbsentFor,
              'No thinpool_exporter target is known to Prometheus.',
              'Prometheus has had no target matching ' + std.strReplace(c.thinpoolSelector, '"', "'")
              + ' for ' + c.exporterAbsentFor + ': no thin pool is monitored. Check the scrape configuration.',
            ),
          ],
      },
    ],
  },
}
