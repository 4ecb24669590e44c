// Recording rules: usage ratios and time to full, shared by the alerts' descriptions and the dashboards; per pool
// and per exporter series for the fleet dashboard. Every series keeps the cluster label (config.libsonnet).
{
  prometheusRules+:: {
    local c = $._config,
    local sel = '{%s}' % c.thinpoolSelector,
    local w = c.fillingUpWindow,
    // The labels of a series per exporter.
    local by = '%s, job, instance' % c.clusterLabel,
    groups+: [
      {
        name: 'thinpool.rules',
        rules: [
          {
            record: 'thinpool:data_usage:ratio',
            expr: 'thinpool_data_used_bytes%s / thinpool_data_size_bytes%s' % [sel, sel],
          },
          {
            record: 'thinpool:metadata_usage:ratio',
            expr: 'thinpool_metadata_used_bytes%s / thinpool_metadata_size_bytes%s' % [sel, sel],
          },
          // Seconds until full along the least-squares line of the last fillingUpWindow, the line predict_linear
          // extrapolates (its slope is deriv). Free bytes over growth rate, so a resize is taken into account.
          // Only pools that are growing have a series.
          {
            record: 'thinpool:data_time_to_full:seconds',
            expr: '(thinpool_data_size_bytes%s - thinpool_data_used_bytes%s) / (deriv(thinpool_data_used_bytes%s[%s]) > 0)'
                  % [sel, sel, sel, w],
          },
          {
            record: 'thinpool:metadata_time_to_full:seconds',
            expr: '(thinpool_metadata_size_bytes%s - thinpool_metadata_used_bytes%s) / (deriv(thinpool_metadata_used_bytes%s[%s]) > 0)'
                  % [sel, sel, sel, w],
          },
          // The metadata the pool will need when its data is full, at its current ratio: the variable part of the
          // metadata used (without the kernel's reserve, min(4096 blocks, 10% of the device), which the used figure
          // includes on Linux 4.19+, and an empty pool's fixed part: metadataEmptyPoolBlocks and a data space-map
          // bitmap block per 16,320 data blocks) over the data used, times the data size, plus the reserve and the
          // fixed part again. Only pools with at least metadataProjectionMinDataRatio of their data used have a
          // series.
          {
            record: 'thinpool:metadata_needed_at_full_data:bytes',
            expr: |||
              (
                (thinpool_metadata_used_bytes%(sel)s - %(reserve)s - %(fixed)s)
                  / (thinpool_data_used_bytes%(sel)s > 0) * thinpool_data_size_bytes%(sel)s
                + %(reserve)s + %(fixed)s
              )
              and (thinpool_data_used_bytes%(sel)s / thinpool_data_size_bytes%(sel)s >= %(min)g)
            ||| % {
              sel: sel,
              reserve: 'clamp_max(floor(thinpool_metadata_size_bytes%s / 40960) * 4096, 16777216)' % sel,
              fixed: '(%d + ceil(thinpool_data_size_bytes%s / thinpool_data_block_size_bytes%s / 16320)) * 4096'
                     % [c.metadataEmptyPoolBlocks, sel, sel],
              min: c.metadataProjectionMinDataRatio,
            },
          },
          // lvm2's own estimate for a pool of this data size and chunk size, as lvcreate sizes metadata when it is
          // not given: 64 bytes per data chunk (lvm2 lib/metadata/thin_manip.c, _estimate_metadata_size:
          // data sectors / (chunk sectors * (512 / 64)) sectors), at least 2 MiB and at most 15.81 GiB
          // (update_pool_metadata_min_max with DEFAULT_THIN_POOL_MIN_METADATA_SIZE and _MAX_METADATA_SIZE).
          {
            record: 'thinpool:metadata_lvm_estimate:bytes',
            expr: 'clamp(64 * thinpool_data_size_bytes%s / thinpool_data_block_size_bytes%s, 2097152, %d)'
                  % [sel, sel, c.lvmMaxMetadataBytes],
          },
          // Virtual size of all thin volumes over the pool's data size (> 1: overprovisioned).
          {
            record: 'thinpool:overprovisioning:ratio',
            expr: 'thinpool_provisioned_bytes%s / thinpool_data_size_bytes%s' % [sel, sel],
          },

          // For the fleet dashboard, which reads recording rules only: a series per pool, or per exporter, however
          // many thin volumes a host has. Rules in a group run in order, so these read the ones above as they were
          // just evaluated.
          //
          // The sooner of the pool's data and metadata time to full; only growing pools have a series.
          {
            record: 'thinpool:time_to_full:seconds',
            expr: 'min without () ({__name__=~"thinpool:data_time_to_full:seconds|thinpool:metadata_time_to_full:seconds",%s})'
                  % c.thinpoolSelector,
          },
          // What the pool's metadata needs (the larger of the projection at full data and lvm2's estimate) over its
          // size: above 1 it is undersized (ThinPoolMetadataUndersized).
          {
            record: 'thinpool:metadata_needed_over_size:ratio',
            expr: 'max without () ({__name__=~"thinpool:metadata_needed_at_full_data:bytes|thinpool:metadata_lvm_estimate:bytes",%s})'
                  % c.thinpoolSelector + ' / thinpool_metadata_size_bytes%s' % sel,
          },
          // Per exporter: its pools, those not writable (thinpool_mode is a state set: a pool's one series at 1 is
          // its mode), its active thin volumes, and the samples of its last scrape, what it costs the TSDB.
          {
            record: 'instance:thinpool_pools:count',
            expr: 'count by (%s) (thinpool_mode{%s,mode="rw"})' % [by, c.thinpoolSelector],
          },
          {
            record: 'instance:thinpool_pools_not_writable:count',
            expr: 'sum by (%s) (thinpool_mode{%s,mode!="rw"})' % [by, c.thinpoolSelector],
          },
          {
            record: 'instance:thinpool_thin_volumes:sum',
            expr: 'sum by (%s) (thinpool_thin_volumes%s)' % [by, sel],
          },
          {
            record: 'instance:thinpool_scrape_samples:max',
            expr: 'max by (%s) (scrape_samples_scraped%s)' % [by, sel],
          },
        ],
      },
    ],
  },
}
