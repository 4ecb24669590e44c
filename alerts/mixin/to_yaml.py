#!/usr/bin/env python3
"""Writes Prometheus rule groups given as JSON (jsonnet's output, on stdin) as YAML on stdout, keys in the order
Prometheus' documentation uses. jsonnet's own std.manifestYamlDoc is correct but takes seconds on long strings."""
import json
import sys

import yaml

ORDER = ["name", "interval", "rules", "record", "alert", "expr", "for", "labels", "annotations",
         "summary", "description", "runbook_url"]


def ordered(value):
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))
        return {k: ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


class Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # indent list items under their key
        return super().increase_indent(flow, False)


yaml.dump(ordered(json.load(sys.stdin)), sys.stdout, Dumper=Dumper, sort_keys=False, width=110,
          default_flow_style=False, allow_unicode=True)
