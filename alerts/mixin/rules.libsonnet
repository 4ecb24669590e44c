// Recording rules: usage ratios and time to full, shared by the alerts' descriptions and the dashboard.
{
  prometheusRules+:: {
    local c = $._config,
    local sel = '{%s}' % c.thinpoolSelector,
    local w = c.fillingUpWindow,
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
          // Virtual size of all thin volumes over the pool's data size (> 1: overprovisioned).
          {
            record: 'thinpool:overprovisioning:ratio',
            expr: 'thinpool_provisioned_bytes%s / thinpool_data_size_bytes%s' % [sel, sel],
          },
        ],
      },
    ],
  },
}
