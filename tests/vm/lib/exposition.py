"""The Prometheus text exposition format, parsed just enough for the e2e assertions (python3 stdlib only)."""

import re
from pathlib import Path

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')


_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


def unescape_label_value(text):
    """A label value as the text format escapes it (only \\\\, \\" and \\n) -> the value."""
    def one(m):
        if m.group(1) not in _ESCAPES:
            raise ValueError(f"unknown escape \\{m.group(1)} in label value {text!r}")
        return _ESCAPES[m.group(1)]
    return re.sub(r"\\(.)", one, text, flags=re.S)


def parse_exposition(text):
    """Prometheus text format -> list of (name, labels dict, float). Raises ValueError on a bad line."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"not an exposition line: {line!r}")
        name, labels_text, value = m.groups()
        labels = {}
        pos = 0
        labels_text = labels_text or ""
        while pos < len(labels_text):
            lm = _LABEL.match(labels_text, pos)
            if not lm:
                raise ValueError(f"bad labels in: {line!r}")
            labels[lm.group(1)] = unescape_label_value(lm.group(2))
            pos = lm.end()
        samples.append((name, labels, float(value)))
    return samples


class Scrape:
    """One scrape of /metrics."""

    def __init__(self, path):
        self.path = Path(path)
        self.text = self.path.read_text()
        self.samples = parse_exposition(self.text)
        self._families = {}  # name -> [(labels, value)], in the scrape's order
        for n, l, v in self.samples:
            self._families.setdefault(n, []).append((l, v))
        self._indexes = {}  # (name, label names) -> {their values: [(labels, value)]}, made on first use

    def series(self, name, **labels):
        """The (labels, value) of every series of NAME whose labels have the values given (in the scrape's order).
        Indexed per family and set of label names asked for, so that a scrape of 10,000 volumes is checked in
        seconds."""
        family = self._families.get(name, [])
        if not labels:
            return list(family)
        keys = tuple(sorted(labels))
        index = self._indexes.get((name, keys))
        if index is None:
            index = {}
            for l, v in family:
                index.setdefault(tuple(l.get(k) for k in keys), []).append((l, v))
            self._indexes[(name, keys)] = index
        return list(index.get(tuple(labels[k] for k in keys), []))

    def value(self, name, **labels):
        """The value of the one series matching, or None when there is none (two matches is an error)."""
        found = self.series(name, **labels)
        if len(found) > 1:
            raise AssertionError(f"{name}{labels} matches {len(found)} series")
        return found[0][1] if found else None

    def thinpool_lines(self):
        return [l for l in self.text.splitlines() if l.startswith("thinpool_") and not l.startswith("thinpool_exporter")]


