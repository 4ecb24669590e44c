// THE one place for thresholds, windows and selectors of thinpool_exporter's rules, alerts and dashboard.
//
// Change a value here, run alerts/mixin/generate.sh, commit the regenerated files
// (alerts/thinpool_rules.yml, alerts/thinpool_alerts.yml, grafana/dashboards/thinpool.json and thinpool-fleet.json).
// The test `alerts_generated_up_to_date` fails while they are out of date.
//
// To override without editing this file, import the mixin and patch _config, e.g.
//   (import 'alerts/mixin/mixin.libsonnet') + { _config+:: { metadataAlmostFullWarningRatio: 0.7 } }
// (alerts/README.md shows the whole recipe).
{
  _config+:: {
    // Label matchers selecting the exporter's series (and its `up`). Every rule, alert and dashboard uses it.
    thinpoolSelector: 'job="thinpool"',

    // The label that tells clusters apart (external_labels of each Prometheus, or a target label). Every rule and
    // alert keeps it: matching and aggregation go by it, with job and instance. Series without it match as one
    // cluster, so it costs nothing where there is a single one.
    clusterLabel: 'cluster',
    // Dashboards: a Cluster variable, a matcher on it in every query and a Cluster column in tables.
    showMultiCluster: false,

    // Every alert's runbook_url. Empty: the runbook the exporter itself serves, through the alert's own
    // `instance` label: <runbookScheme>://<instance>/runbook#<alertname in lower case> (https where the exporter
    // serves TLS). Where `instance` is relabeled to something that is not the exporter's address, or on-call cannot
    // reach the exporter's port, set it to a hosted copy of docs/runbook.md, e.g.
    // 'https://wiki.example.com/thinpool-runbook': every link is then <runbookURL>#<alertname in lower case>.
    runbookURL: '',
    runbookScheme: 'http',

    // Metadata usage (used/total metadata blocks, lvs Meta%).
    // 75% is where lvm2 2.03 refuses to create new thin volumes ("free space in thin pool reached threshold").
    metadataAlmostFullWarningRatio: 0.75,
    // At 100% the kernel switches the pool to read-only (the seed incident); page well before.
    metadataAlmostFullCriticalRatio: 0.90,
    metadataAlmostFullFor: '5m',

    // Data usage (used/total data blocks, lvs Data%). lvm2/dmeventd warn from 80%.
    dataAlmostFullWarningRatio: 0.80,
    dataAlmostFullCriticalRatio: 0.95,
    dataAlmostFullFor: '5m',

    // Filling up: predict_linear over fillingUpWindow; fires when the pool is predicted full within the horizon.
    fillingUpWindow: '6h',
    fillingUpWarningHours: 24,
    fillingUpWarningFor: '1h',
    fillingUpCriticalHours: 4,
    fillingUpCriticalFor: '15m',

    // Pool mode other than rw (ro, out_of_data_space, fail, error), and needs_check set.
    notWritableFor: '1m',
    needsCheckFor: '1m',

    // A held metadata snapshot (thin_dump/thin_delta on a live pool) pins old metadata blocks; backups hold it
    // for a while, a forgotten `dmsetup message ... reserve_metadata_snap` holds it forever.
    metadataSnapshotHeldFor: '2h',

    // Undersized metadata: the metadata a pool will need once its data is full, projected from its own ratio of
    // metadata to data, and lvm2's sizing estimate for its data size and chunk size.
    // The projection is made only once this share of the data is used: below it the fixed part dominates. The
    // seed incident's pool (metadata rising 5.6 times faster than data as a share of each) is at about 20%
    // metadata when its data reaches 2%.
    metadataProjectionMinDataRatio: 0.02,
    // What a pool with one empty thin volume uses besides the kernel's reserve, in 4 KiB blocks: superblock,
    // space-map roots, empty btrees, plus one bitmap block per 16,320 data blocks (the rules add those). Linux 6.1:
    // 11 blocks for 1 GiB of 64 KiB blocks (e2e_undersized_metadata), 9 for 256 MiB without a thin volume.
    metadataEmptyPoolBlocks: 9,
    metadataUndersizedFor: '1h',
    // lvm2's largest thin-pool metadata (DEFAULT_THIN_POOL_MAX_METADATA_SIZE, 15.81 GiB): it cannot grow past it.
    lvmMaxMetadataBytes: 16978542592,

    // Kernel vs LVM transaction id: an LVM change in flight differs for milliseconds, a real mismatch stays.
    transactionIdMismatchFor: '5m',

    // "Metadata cannot grow": metadata at or above metadataAlmostFullWarningRatio and the VG's free space is less
    // than this many times the current metadata size (2 = room to double the metadata LV and its spare, _pmspare).
    metadataGrowthFreeFactor: 2,
    metadataCannotGrowFor: '5m',

    // Thin pools in LVM's metadata that the kernel does not have active (thinpool_lvm_pool_active 0). An lvchange
    // or a repair keeps a pool inactive for seconds to minutes; one still inactive after poolInactiveFor was not
    // activated at boot, failed to activate, or was deactivated on purpose. Warning, not critical: the exporter
    // cannot tell those apart, and nothing gets worse while a pool stays inactive (docs/runbook.md#thinpoolinactive).
    poolInactiveFor: '15m',
    poolInactiveSeverity: 'warning',
    // Pools that are inactive on purpose: extra label matchers, joined to thinpoolSelector, e.g. 'vg!~"archive|spare"'
    // (per VG), 'lv!~".*-cold"' (per pool), or a label you attach in the scrape config (relabeling), e.g.
    // 'thinpool_inactive_ok!="true"'. Empty: every pool is expected to be active.
    poolInactiveSelector: '',

    // LVM's metadata area (mda) on each PV: lvm2 refuses to commit VG metadata text larger than
    // (area size - 512) / 2 - 512 bytes (two copies must fit; 521,472 bytes in lvm2's default 1020 KiB area), and
    // every command that changes the VG fails from then on (lvcreate, lvextend, dmeventd's autoextend, repairs). Every
    // LV, snapshot and segment adds text. The fix needs a new PV and a little room to add it: warn early.
    lvmMetadataAreaWarningRatio: 0.75,
    lvmMetadataAreaCriticalRatio: 0.90,
    lvmMetadataAreaFor: '5m',

    // A VG whose metadata lists PVs that are missing (not found, or flagged MISSING): lvm2 refuses every change of
    // the VG and does not activate LVs with extents on them. A multipath or iSCSI path flap is over in seconds.
    lvmPvMissingFor: '5m',

    // Prevention: lvm2's autoextend (dmeventd runs `lvextend --use-policies` once a pool's data or metadata usage
    // passes activation/thin_pool_autoextend_threshold, growing it by thin_pool_autoextend_percent), and whether it
    // can work. From the lvm collector's thinpool_lvm_autoextend_{threshold,step}_ratio, thinpool_lvm_vg_free_bytes,
    // thinpool_lvm_monitored and thinpool_lvm_dmeventd_up.
    //
    // A pool whose data or metadata usage is at or above this ratio while autoextend is disabled (step 0; lvm2's and
    // Debian's default). 50% because it is the lowest threshold lvm2 applies (a lower one is taken as 50, and
    // dmeventd's thin plugin does not look at a pool below 50%): any pool with autoextend enabled would be growing
    // by now. It leaves 25 points before ThinPoolMetadataAlmostFull's 75%, where lvm2 refuses new thin volumes.
    autoextendDisabledUsageRatio: 0.50,
    // Usage moves slowly and the setting is deliberate: an hour keeps an edit of lvm.conf in progress, or a pool
    // that crosses 50% and is trimmed back, out.
    autoextendDisabledFor: '1h',
    // Pools where autoextend is off on purpose (a VG with no room to grow, sized by hand): extra label matchers,
    // joined to thinpoolSelector, e.g. 'vg!~"archive|fixed-.*"'. Empty: every pool is expected to autoextend.
    autoextendDisabledSelector: '',
    // Autoextend configured (step > 0) but dmeventd does not monitor the active pool, or dmeventd does not run.
    // lvm2 unregisters a pool while it changes it (lvconvert, lvchange --refresh) and registers it again after an
    // activation; dmeventd restarts in place on upgrades (dmeventd -R). Those take seconds, not 15 minutes.
    autoextendNotMonitoredFor: '15m',
    dmeventdDownFor: '15m',
    // Autoextend configured but the VG's free space is smaller than the next extension: lvextend --use-policies
    // needs step x data size (and, for metadata, step x metadata size) of free extents, or it fails. VG free space
    // changes when someone creates or removes an LV: an hour keeps a short-lived LV out.
    autoextendNoSpaceFor: '1h',

    // Devices that stop answering. A PV whose reads have waited this many seconds (the exporter reads LVM's
    // metadata from the other PVs or the backup meanwhile); a pool whose status calls block (its usage is unknown
    // meanwhile, and the I/O of its volumes is usually stuck too); a pool whose device-mapper stack stays
    // suspended (LVM suspends for milliseconds to seconds while it changes a table; minutes mean a command hung).
    pvReadStuckSeconds: 120,
    pvReadStuckFor: '1m',
    statusBlockedFor: '2m',
    stackSuspendedFor: '10m',
    // Devices the exporter had to leave out because an ioctl on them failed.
    deviceErrorsWindow: '15m',

    // Exporter health.
    collectorFailingFor: '15m',
    parseErrorsWindow: '15m',
    exporterDownFor: '5m',
    exporterAbsentFor: '15m',

    // Dashboard.
    dashboardUID: 'thinpool-exporter',
    dashboardTitle: 'Thin pools (device-mapper)',
    dashboardTags: ['thinpool', 'device-mapper', 'lvm'],
    dashboardRefresh: '1m',
    // The fleet dashboard: every pool of every host, from recording rules only.
    fleetDashboardUID: 'thinpool-exporter-fleet',
    fleetDashboardTitle: 'Thin pools: fleet',
  },
}
