#!/usr/bin/env python3
"""Makes a large /metrics body out of a small one: every sample of each family repeated COPIES times with a
copy="N" label in front of its own (HELP and TYPE once per family), e.g. 100 copies of the lvm-healthy
fixture's 14.5 kB body give about 1 MB.

Usage: bench/http_candidates/large_body.py SMALL_BODY COPIES > LARGE_BODY
"""
import re
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("Usage: ")[1].strip())
    lines, copies = open(sys.argv[1], encoding="utf-8").read().splitlines(), int(sys.argv[2])
    families, out = [], []
    for line in lines:
        if line.startswith("# HELP") or not families:
            families.append([])
        families[-1].append(line)
    for family in families:
        out.extend(line for line in family if line.startswith("#"))
        samples = [re.match(r"([^{ ]+)\{?(.*)", line).groups() for line in family if line and not line.startswith("#")]
        for i in range(copies):
            for name, rest in samples:
                labels = f'copy="{i}"' + ("," + rest if not rest.startswith(" ") else "}" + rest)
                out.append(f"{name}{{{labels}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
