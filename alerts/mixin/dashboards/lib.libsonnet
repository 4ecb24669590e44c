// Panel, variable and layout helpers of the mixin's dashboards, given the mixin's _config. Plain jsonnet, no
// grafonnet: Debian has no grafonnet, and the few panel kinds used here are easy to write out.
function(c) {
  local lib = self,
  ds:: { type: 'prometheus', uid: '${datasource}' },

  // The cluster label's matcher when the dashboards show several clusters (showMultiCluster), else nothing.
  clusterMatchers:: if c.showMultiCluster then ['%s=~"$cluster"' % c.clusterLabel] else [],
  // Every grouping and matching by job and instance also keeps the cluster label, as the rules and alerts do: a
  // query written `by (job, instance, ...)` or `on (job, instance, ...)` is given it here, in one place.
  withCluster(expr):: std.strReplace(expr, '(job, instance', '(%s, job, instance' % c.clusterLabel),

  target(expr, legend, refId='A', instant=false):: {
    datasource: lib.ds,
    expr: lib.withCluster(expr),
    legendFormat: legend,
    refId: refId,
    [if instant then 'instant']: true,
    [if instant then 'range']: false,
  },

  thresholds(steps):: {
    mode: 'absolute',
    steps: [{ color: 'green', value: null }] + [{ color: s[0], value: s[1] } for s in steps],
  },

  panel(type, title, description, unit, targets, w, h, extra={}):: {
    type: type,
    title: title,
    description: description,
    datasource: lib.ds,
    targets: targets,
    fieldConfig: { defaults: { unit: unit } + std.get(extra, 'defaults', {}), overrides: [] },
    options: std.get(extra, 'options', {}),
    gridPos: { w: w, h: h },
  },
  timeseries(title, description, unit, targets, w=12, h=8, defaults={})::
    lib.panel('timeseries', title, description, unit, targets, w, h, {
      defaults: { custom: { lineWidth: 1, fillOpacity: 10, showPoints: 'never' } } + defaults,
      options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
                 tooltip: { mode: 'multi', sort: 'desc' } },
    }),
  stat(title, description, unit, expr, steps, w=4, h=4)::
    lib.panel('stat', title, description, unit, [lib.target(expr, '', instant=true)], w, h, {
      defaults: { thresholds: steps, color: { mode: 'thresholds' } },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background',
                 graphMode: 'none', textMode: 'value' },
    }),
  stateTimeline(title, description, targets, mappings)::
    lib.panel('state-timeline', title, description, 'none', targets, 12, 8, {
      defaults: { mappings: [{ type: 'value', options: mappings }], color: { mode: 'thresholds' },
                  thresholds: lib.thresholds([]) },
      options: { showValue: 'never', mergeValues: true, rowHeight: 0.8, legend: { showLegend: false } },
    }),
  row(title):: { type: 'row', title: title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } },

  // A table of instant queries (format table). With several targets, Grafana names their values "Value #<refId>"
  // and the merge transformation joins their rows on the labels they share, so every target must return the same
  // label set (aggregate with `by`). columns: [[field, title, unit or null]] in display order (Time and job are
  // hidden); a fourth element, value mappings for the column, shown as coloured text. sortBy: the title to sort
  // on, highest first (lowest first with sortDesc=false).
  table(title, description, unit, targets, columns, sortBy=null, w=24, h=8, sortDesc=true)::
    local cols = (if c.showMultiCluster then [[c.clusterLabel, 'Cluster', null]] else []) + columns;
    lib.panel('table', title, description, unit, [t { format: 'table' } for t in targets], w, h, {
      options: { showHeader: true, cellHeight: 'sm', footer: { show: false },
                 [if sortBy != null then 'sortBy']: [{ displayName: sortBy, desc: sortDesc }] },
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
        for col in cols
        if col[2] != null || std.length(col) > 3
      ] },
      transformations: (if std.length(targets) > 1 then [{ id: 'merge', options: {} }] else []) + [{
        id: 'organize',
        options: {
          excludeByName: { Time: true, job: true },
          indexByName: { [cols[i][0]]: i for i in std.range(0, std.length(cols) - 1) },
          renameByName: { [col[0]]: col[1] for col in cols },
        },
      }],
    },

  // Lays panels out left to right, wrapping at 24 columns, and numbers them.
  layout(panels):: std.foldl(
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

  variable(name, label, query, includeAll=true):: {
    name: name,
    label: label,
    type: 'query',
    datasource: lib.ds,
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

  // The data source, cluster (with showMultiCluster), job and instance variables, read from `series` with the
  // mixin's thinpoolSelector: what the dashboards offer is what the rules and alerts watch.
  commonVariables(series):: [
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
  ] + (if c.showMultiCluster then [
         lib.variable('cluster', 'Cluster', 'label_values(%s{%s}, %s)' % [series, c.thinpoolSelector, c.clusterLabel]),
       ] else []) + [
    lib.variable('job', 'Job', 'label_values(%s{%s}, job)'
                               % [series, std.join(',', [c.thinpoolSelector] + lib.clusterMatchers)], includeAll=false),
    lib.variable('instance', 'Instance', 'label_values(%s{%s}, instance)'
                                         % [series, std.join(',', [c.thinpoolSelector] + lib.clusterMatchers
                                                                  + ['job=~"$job"'])]),
  ],
}
