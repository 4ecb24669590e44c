"""The device names of the odd_names scenario, as bytes, and the label value the exporter documents for each.

Device-mapper names may hold any byte but '/' (and NUL), up to 127 bytes; libdevmapper refuses to list the ones
outside its whitelist without mangling. guest.sh creates exactly these (ODD_NAMES there must stay in step: the
assertions read the kernel's names back from sysfs and check that each one below is among them)."""

# (pool name, thin volume name)
ODD = [
    (b'odd"quote', b'odd"quote-thin'),
    (b"odd\\back\\slash", b"odd\\back\\slash-thin"),
    ("odd-p\u00f6\u00f6l-\u00fcn\u00efc\u00f6d\u00e9-\U0001f4e6".encode(), "v\u00f6l-\u2603".encode()),
    (b"odd-caf\xe9", b"odd-caf\xe9-thin"),
    (b"odd-bad\xc0\xaf\x80\xe2\x82-\xed\xa0\x80", b"odd-bad\xff-thin"),
    (b"odd with blank\tand tab", b"odd blank thin"),
    (b"odd-new\nline", b"odd-new\nline-thin"),
    (b"odd-" + b"n" * 123, b"odd-long-thin"),
    (b"odd-looks-escaped-\\x41", b"odd-looks-escaped-thin"),
]
ORDINARY_POOLS = [b"vgo-pool-tpool"]
ORDINARY_VOLUMES = [b"vgo-t1"]


def label(name):
    """The label value the exporter gives a name: the bytes as UTF-8, each byte that is not part of a valid UTF-8
    sequence written as the four characters \\xNN (lower-case hex)."""
    return name.decode("utf-8", errors="backslashreplace")


def pools():
    return [p for p, _ in ODD] + ORDINARY_POOLS


def volumes():
    return [v for _, v in ODD] + ORDINARY_VOLUMES


if __name__ == "__main__":
    # For the guest (prepare): one line per odd pool, "POOL_HEX VOLUME_HEX".
    for pool, volume in ODD:
        print(pool.hex(), volume.hex())
