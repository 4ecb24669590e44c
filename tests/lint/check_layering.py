#!/usr/bin/env python3
"""Holds every #include of the exporter's C++ code to ARCHITECTURE.md's folder table.

A folder may include its own headers and those of the project folders its row lists under "may
include" ("every folder above" = every source folder of an earlier row); the rows must list only
earlier rows, so no include can run back up the pipeline. In the exporter's own code (tests and
benchmarks aside: they test and measure the raw ioctls) two headers have a single home:
<libdevmapper.h> (dm/libdevmapper_client.cc) and <linux/dm-ioctl.h> (dm/dm_ioctl.cc).

Usage: check_layering.py REPO_DIR      Exit 1 and one line per offending include.
"""
import pathlib
import re
import subprocess
import sys

NOT_THE_EXPORTER = {"tests", "bench"}
SINGLE_HOME = {
    "libdevmapper.h": "dm/libdevmapper_client.cc",
    "linux/dm-ioctl.h": "dm/dm_ioctl.cc",
}
ROW = re.compile(r"^\| `([a-z_]+)/` \|.*\| (.*) \|$")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def read_rules(architecture):
    """Folder -> allowed project folders, in table order; raises on a row that names a later one."""
    rules = {}
    for line in architecture.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        folder, allowed_text = match.groups()
        if "every folder above" in allowed_text:
            allowed = set(rules)
        else:
            allowed = set(re.findall(r"`([a-z_]+)/`", allowed_text))
        later = allowed - set(rules)
        if later:
            raise SystemExit(f"ARCHITECTURE.md: {folder}/ may include {sorted(later)}, which come later "
                             "in the table (an include that runs back up)")
        rules[folder] = allowed
    return rules


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    rules = read_rules((repo / "ARCHITECTURE.md").read_text())
    if not rules:
        raise SystemExit("ARCHITECTURE.md: no folder table found")
    files = subprocess.run(["git", "ls-files", "*.cc", "*.h"], cwd=repo, check=True,
                           capture_output=True, text=True).stdout.split()
    problems = []
    checked = 0
    for path in files:
        folder = path.split("/", 1)[0]
        if folder not in rules:
            problems.append(f"{path}: its folder {folder}/ has no row in ARCHITECTURE.md's table")
            continue
        checked += 1
        for number, line in enumerate((repo / path).read_text(errors="replace").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            quote, header = match.groups()
            home = SINGLE_HOME.get(header)
            if quote == "<" and home is not None and path != home and folder not in NOT_THE_EXPORTER:
                problems.append(f"{path}:{number}: includes <{header}>, which only {home} may")
            if quote != '"' or "/" not in header:
                continue
            target = header.split("/", 1)[0]
            if target == folder or target not in rules:
                continue  # its own folder, or a generated or system header
            if target not in rules[folder]:
                problems.append(f"{path}:{number}: includes \"{header}\", but {folder}/ may include "
                                f"only {', '.join(sorted(f + '/' for f in rules[folder])) or 'no project folder'}")
    for problem in problems:
        print(problem, flush=True)
    if problems:
        print(f"FAIL: {len(problems)} include(s) break ARCHITECTURE.md's layering", file=sys.stderr)
        return 1
    print(f"ok: {checked} files follow ARCHITECTURE.md's layering ({len(rules)} folders)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
