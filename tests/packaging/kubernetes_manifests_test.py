#!/usr/bin/env python3
"""Checks deploy/kubernetes without a cluster:
  - prometheusrule.yaml is what generate_prometheusrule.py makes of alerts/ (same groups, same
    order), and promtool accepts its rules;
  - the DaemonSet, Service and ServiceMonitor fit together (selectors, labels, port names) and the
    DaemonSet has what the exporter needs and nothing it does not: /dev/mapper/control from the host
    as a CharDevice, root, SYS_ADMIN only in its capability list, a read-only root file system,
    resource requests and limits, tolerations, probes on /-/healthy;
  - the kustomization lists every manifest.
Usage: kubernetes_manifests_test.py REPO_DIR"""
import pathlib
import shutil
import subprocess
import sys
import tempfile

import yaml

repo = pathlib.Path(sys.argv[1]).resolve()
k8s = repo / "deploy" / "kubernetes"
failures = []


def check(condition, message):
    print(("ok: " if condition else "FAIL: ") + message)
    if not condition:
        failures.append(message)


def load(name):
    return yaml.safe_load((k8s / name).read_text())


# 1. The PrometheusRule mirrors alerts/.
generator = subprocess.run([sys.executable, str(k8s / "generate_prometheusrule.py"), "--check"],
                           capture_output=True, text=True)
if generator.returncode != 0:
    print((generator.stdout + generator.stderr)[-3000:])
check(generator.returncode == 0, "prometheusrule.yaml is up to date with alerts/")
rule = load("prometheusrule.yaml")
expected_groups = []
for source in ("thinpool_rules.yml", "thinpool_alerts.yml"):
    expected_groups += yaml.safe_load((repo / "alerts" / source).read_text())["groups"]
check(rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule",
      "prometheusrule.yaml is a monitoring.coreos.com/v1 PrometheusRule")
check(rule["spec"]["groups"] == expected_groups,
      f"its {len(expected_groups)} groups equal alerts/thinpool_rules.yml + thinpool_alerts.yml")
alerts = sum(1 for g in expected_groups for r in g["rules"] if "alert" in r)
records = sum(1 for g in expected_groups for r in g["rules"] if "record" in r)
print(f"   {alerts} alerting and {records} recording rules")
promtool = shutil.which("promtool")
if promtool:
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as rules_file:
        yaml.safe_dump({"groups": rule["spec"]["groups"]}, rules_file)
        rules_file.flush()
        result = subprocess.run([promtool, "check", "rules", rules_file.name],
                                capture_output=True, text=True)
        check(result.returncode == 0, "promtool check rules accepts the PrometheusRule's groups "
              + (result.stdout + result.stderr).strip().splitlines()[-1])
else:
    print("skip: promtool not installed (scripts/deps/alerts.txt)")

# 2. DaemonSet, Service, ServiceMonitor.
ds = load("daemonset.yaml")
svc = load("service.yaml")
sm = load("servicemonitor.yaml")
check(ds["apiVersion"] == "apps/v1" and ds["kind"] == "DaemonSet", "daemonset.yaml is an apps/v1 DaemonSet")
pod_labels = ds["spec"]["template"]["metadata"]["labels"]
selector = ds["spec"]["selector"]["matchLabels"]
check(all(pod_labels.get(k) == v for k, v in selector.items()), "the DaemonSet's selector matches its pods")
check(all(pod_labels.get(k) == v for k, v in svc["spec"]["selector"].items()),
      "the Service selects the DaemonSet's pods")
check(all(svc["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()),
      "the ServiceMonitor selects the Service")
pod = ds["spec"]["template"]["spec"]
containers = pod["containers"]
check(len(containers) == 1, "one container")
c = containers[0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
check(ports.get("metrics") == 9966, "container port `metrics` is 9966 (the Dockerfile's EXPOSE)")
check("EXPOSE 9966" in (repo / "Dockerfile").read_text(), "the Dockerfile exposes 9966")
check(svc["spec"]["ports"][0]["targetPort"] == "metrics", "the Service targets port `metrics`")
check([e["port"] for e in sm["spec"]["endpoints"]] == ["metrics"], "the ServiceMonitor scrapes port `metrics`")
relabel = sm["spec"]["endpoints"][0].get("relabelings", [])
check(any(r.get("targetLabel") == "job" and r.get("replacement") == "thinpool" for r in relabel),
      'the ServiceMonitor sets job="thinpool", which the rules select')
check('job="thinpool"' in (k8s / "prometheusrule.yaml").read_text(), 'the rules select job="thinpool"')
any_arg = " ".join(c.get("args", []))
check("--web.listen-address=:9966" in any_arg, "the exporter listens on :9966")

sc = c["securityContext"]
caps = sc.get("capabilities", {})
check(caps.get("drop") == ["ALL"] and caps.get("add") == ["SYS_ADMIN"],
      "capabilities: drop ALL, add SYS_ADMIN only")
check(sc.get("readOnlyRootFilesystem") is True, "read-only root file system")
check(sc.get("allowPrivilegeEscalation") is not False or not sc.get("privileged"),
      "no allowPrivilegeEscalation: false next to privileged: true (the API rejects that)")
header = (k8s / "daemonset.yaml").read_text().split("apiVersion")[0]
check(not sc.get("privileged") or "device cgroup" in header,
      "privileged: true is explained (the device cgroup) in the manifest")
check(pod["securityContext"].get("runAsUser") == 0, "runs as root (/dev/mapper/control is root's, 0600)")
check(pod.get("automountServiceAccountToken") is False, "no service account token (no API access needed)")
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = {m["name"]: m for m in c["volumeMounts"]}
check(set(mounts) <= set(volumes), "every volume mount has a volume")
dm = [v for v in volumes.values() if v.get("hostPath", {}).get("path") == "/dev/mapper/control"]
check(len(dm) == 1 and dm[0]["hostPath"].get("type") == "CharDevice",
      "/dev/mapper/control comes from the host as a CharDevice")
check(dm and mounts.get(dm[0]["name"], {}).get("mountPath") == "/dev/mapper/control",
      "mounted at /dev/mapper/control")
check(not any("hostPath" in v and v["hostPath"]["path"] in ("/", "/dev", "/proc", "/sys")
              for v in volumes.values()), "no broad host paths (/, /dev, /proc, /sys)")
check(not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"),
      "no host network, PID or IPC namespace")
res = c.get("resources", {})
check(all(k in res.get("requests", {}) for k in ("cpu", "memory"))
      and all(k in res.get("limits", {}) for k in ("cpu", "memory")), "cpu and memory requests and limits")
check(any(t.get("operator") == "Exists" for t in pod.get("tolerations", [])),
      "tolerations let it run on tainted nodes")
for probe in ("livenessProbe", "readinessProbe"):
    get = c.get(probe, {}).get("httpGet", {})
    check(get.get("path") == "/-/healthy" and get.get("port") == "metrics", f"{probe} on /-/healthy")

# 3. The kustomization.
kustomization = load("kustomization.yaml")
manifests = sorted(p.name for p in k8s.glob("*.yaml") if p.name != "kustomization.yaml")
check(sorted(kustomization["resources"]) == manifests, f"kustomization lists {manifests}")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("PASS: the Kubernetes manifests fit together and the PrometheusRule mirrors alerts/")
