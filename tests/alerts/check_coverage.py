#!/usr/bin/env python3
"""Checks that the alerts, their promtool tests and the runbook fit together.

- every alert (name and severity) fires in some promtool test, and every alert name has a test where it stays silent;
- the seed incident's numbers (data 17.81%, metadata 100%) appear in a test;
- every alert has severity, summary, description and a runbook_url whose anchor is a section of docs/runbook.md,
  and that section has Meaning, Impact, Diagnosis and Mitigation;
- every `<!-- runbook-test: NAME -->` marker is followed by a ```sh block, names are unique, the blocks parse with
  busybox ash (`busybox sh -n`) and use neither bashisms nor perl.

Usage: check_coverage.py REPO_ROOT
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

REQUIRED_RUNBOOK_TESTS = {"grow-metadata", "fix-transaction-id"}
SECTION_PARTS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
# Shell constructs that busybox ash does not have (or that a POSIX sh runbook should not use).
BASHISMS = [
    (re.compile(r"(^|[\s;&|(])\[\[\s"), "[[ ]]"),
    (re.compile(r"\bfunction\s+\w+"), "function keyword"),
    (re.compile(r"<\("), "process substitution"),
    (re.compile(r"\$'"), "$'...' quoting"),
    (re.compile(r"\bdeclare\b|\btypeset\b"), "declare/typeset"),
    (re.compile(r"\bperl\b"), "perl (use sed)"),
    (re.compile(r"&>"), "&> redirection"),
    (re.compile(r"\bsource\s"), "source (use .)"),
    (re.compile(r"\$\{[A-Za-z_]+\[|\$\{![A-Za-z_]"), "arrays or indirection"),
]


def github_anchor(heading):
    """The anchor GitHub (and most renderers) give a Markdown heading."""
    anchor = heading.strip().lower()
    anchor = re.sub(r"[^\w\- ]", "", anchor)
    return anchor.replace(" ", "-")


def load_alerts(root):
    alerts = []
    with open(os.path.join(root, "alerts", "thinpool_alerts.yml")) as f:
        for group in yaml.safe_load(f)["groups"]:
            alerts.extend(r for r in group["rules"] if "alert" in r)
    return alerts


def load_test_results(root):
    """(set of (alertname, severity) seen firing, set of alertnames seen silent, text of all tests)."""
    firing, silent, text = set(), set(), ""
    for path in sorted(glob.glob(os.path.join(root, "alerts", "tests", "*_test.yml"))):
        with open(path) as f:
            raw = f.read()
        text += raw
        for test in yaml.safe_load(raw)["tests"]:
            for case in test.get("alert_rule_test", []):
                expected = case.get("exp_alerts") or []
                if not expected:
                    silent.add(case["alertname"])
                for alert in expected:
                    firing.add((case["alertname"], alert.get("exp_labels", {}).get("severity")))
    return firing, silent, text


def runbook_sections(runbook):
    """{anchor: section text} for every `## ` heading."""
    sections = {}
    parts = re.split(r"^## +(.+)$", runbook, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[github_anchor(heading)] = body
    return sections


def runbook_blocks(runbook):
    """[(name, code)] for each runbook-test marker; errors for markers not followed by a ```sh block."""
    blocks, errors = [], []
    for m in re.finditer(r"^<!-- runbook-test: ([\w.-]+) -->\n(```(\w*)\n(.*?)^```)?", runbook, flags=re.M | re.S):
        name, fence, lang, code = m.group(1), m.group(2), m.group(3), m.group(4)
        if not fence or lang != "sh":
            errors.append(f"runbook-test {name}: the marker must be directly followed by a ```sh block")
            continue
        blocks.append((name, code))
    return blocks, errors


def check_blocks(blocks):
    errors = []
    names = [n for n, _ in blocks]
    for dup in {n for n in names if names.count(n) > 1}:
        errors.append(f"runbook-test {dup}: name used more than once")
    for missing in REQUIRED_RUNBOOK_TESTS - set(names):
        errors.append(f"runbook-test {missing}: missing (the VM e2e test runs it)")
    for name, code in blocks:
        for pattern, what in BASHISMS:
            if pattern.search(code):
                errors.append(f"runbook-test {name}: uses {what}, which busybox ash does not have")
        with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
            f.write(code)
            f.flush()
            for shell in (["busybox", "sh", "-n"], ["dash", "-n"]):
                r = subprocess.run(shell + [f.name], capture_output=True, text=True)
                if r.returncode != 0:
                    errors.append(f"runbook-test {name}: {' '.join(shell)}: {r.stderr.strip()}")
    return errors


def main():
    root = sys.argv[1]
    errors = []
    alerts = load_alerts(root)
    firing, silent, tests_text = load_test_results(root)
    with open(os.path.join(root, "docs", "runbook.md")) as f:
        runbook = f.read()
    sections = runbook_sections(runbook)

    for a in alerts:
        name, severity = a["alert"], a.get("labels", {}).get("severity")
        if severity not in ("warning", "critical"):
            errors.append(f"{name}: severity must be warning or critical, is {severity!r}")
        for key in ("summary", "description", "runbook_url"):
            if not a.get("annotations", {}).get(key):
                errors.append(f"{name}: no {key} annotation")
        if (name, severity) not in firing:
            errors.append(f"{name} ({severity}): no promtool test where it fires")
        if name not in silent:
            errors.append(f"{name}: no promtool test where it stays silent")
        anchor = a.get("annotations", {}).get("runbook_url", "").partition("#")[2]
        if anchor not in sections:
            errors.append(f"{name}: runbook_url anchor #{anchor} is not a section of docs/runbook.md")
        else:
            for part in SECTION_PARTS:
                if not re.search(rf"^(###+ +|\*\*){part}", sections[anchor], flags=re.M):
                    errors.append(f"{name}: runbook section has no {part}")
    for number in ("17.81%", "100%"):
        if number not in tests_text:
            errors.append(f"the seed incident's {number} is in no promtool test")

    blocks, block_errors = runbook_blocks(runbook)
    errors += block_errors + check_blocks(blocks)

    for e in errors:
        print("FAIL:", e)
    names = sorted({a["alert"] for a in alerts})
    print(f"{len(alerts)} alert rules ({len(names)} names), {len(firing)} firing cases, "
          f"{len(blocks)} runbook-test blocks: {', '.join(n for n, _ in blocks)}")
    print(f"{len(errors)} problems" if errors else "all checks passed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
