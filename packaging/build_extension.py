"""Pack the browser extension: ``dist/claude-watch-extension-<version>.zip`` (``make package``).

Usage: ``python packaging/build_extension.py VERSION OUTDIR``. The zip holds
``packaging/browser-extension`` as it is (no build step), with the manifest's ``version`` set to
the app's version (its numeric part: browsers accept only dotted integers), so the extension and
the app it talks to are released together. The same zip loads in Chromium (unpacked, or through
the Chrome Web Store, which drops the ``key``) and in Firefox (``about:debugging`` or AMO).
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "browser-extension"
# Fixed timestamps and order, so the same source gives the same zip.
EPOCH = (2020, 1, 1, 0, 0, 0)


def manifest_version(version: str) -> str:
    """``0.1.0`` stays; ``1.2.3.dev4`` or ``1.2rc1`` keep their leading dotted integers."""
    match = re.match(r"\d+(?:\.\d+){0,3}", version)
    if match is None:
        raise ValueError(f"no numeric version in {version!r}")
    return match.group(0)


def build(version: str, outdir: Path, source: Path = SOURCE) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"claude-watch-extension-{version}.zip"
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = manifest_version(version)
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.name != "manifest.json")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("manifest.json", EPOCH), json.dumps(manifest, indent=2) + "\n")
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: build_extension.py VERSION OUTDIR", file=sys.stderr)
        return 2
    print(build(argv[0], Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
