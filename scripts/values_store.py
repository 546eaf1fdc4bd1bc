"""The vendored values.yaml files of every supported chart release, kept as one compressed store.

third_party/upstream/charts/values.tar.xz holds `values/<chart>/<version>.yaml` members, each a
release's values.yaml byte for byte (scripts/update-charts.py keeps one only where the set of
values paths changes). The releases are near copies of each other, so one solid xz stream keeps
~17 MB of text in ~100 KB. The archive is written deterministically (sorted members, no times,
no owners) and only when a member changes, so an unchanged `make charts` leaves it untouched.

    from scripts.values_store import read, write
    files = read()                       # {"values/loki/6.55.0.yaml": "...", ...}
    write(files)                         # True when the archive changed

`python scripts/values_store.py` lists the members and their sizes; `--extract DIR` unpacks them
to read or diff with ordinary tools.
"""

from __future__ import annotations

import argparse
import io
import lzma
import sys
import tarfile
from functools import cache
from pathlib import Path

STORE = Path(__file__).resolve().parent.parent / "third_party" / "upstream" / "charts" / "values.tar.xz"
PRESET = 9 | lzma.PRESET_EXTREME


@cache
def _read(path: Path, stamp: tuple[int, int]) -> dict[str, str]:
    if not path.exists():
        return {}
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(path.read_bytes()))) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}


def read(path: Path = STORE) -> dict[str, str]:
    """Member name -> text, for every file in the store (cached per file version)."""
    stat = path.stat() if path.exists() else None
    return dict(_read(path, (stat.st_size, stat.st_mtime_ns) if stat else (0, 0)))


def pack(files: dict[str, str]) -> bytes:
    """The archive bytes of `files`: same input, same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name].encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return lzma.compress(raw.getvalue(), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=PRESET)


def write(files: dict[str, str], path: Path = STORE) -> bool:
    """Replace the store's content with `files`; False (and no write) when nothing changed."""
    if read(path) == files:
        return False
    path.write_bytes(pack(files))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", metavar="DIR", help="unpack every member under DIR")
    args = parser.parse_args(argv)
    files = read()
    for name, text in sorted(files.items()):
        if args.extract:
            target = Path(args.extract) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        print(f"{name}: {len(text)} bytes")
    print(f"{len(files)} files, {sum(map(len, files.values()))} bytes in {STORE.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
