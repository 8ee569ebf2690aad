#!/usr/bin/env python3
"""Compress API description files the way the `.json.gz` files of this folder were written.

Usage:
    python3 gzip_spec.py FILE.json [FILE.json ...]

Writes FILE.json.gz next to each file and removes FILE.json (like `gzip`). The gzip
header holds no file name and a zero timestamp, and the level is 9, so the same input
gives the same bytes with the same zlib. The SHA-256 of the JSON inside is the identity
recorded in README.md; a different zlib may produce other compressed bytes, in which case
update the stored-file SHA-256 there.

Python 3 standard library only.
"""

import gzip
import sys
from pathlib import Path


def main(paths):
    if not paths:
        print(__doc__)
        return 2
    for name in paths:
        path = Path(name)
        target = path.with_name(path.name + ".gz")
        target.write_bytes(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
        path.unlink()
        print("%s -> %s (%d bytes)" % (path, target, target.stat().st_size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
