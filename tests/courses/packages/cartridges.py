"""The hand-made cartridges of ``tests/fixtures/cartridges`` zipped as a school would upload
them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cartridges"


def cartridge(name: str) -> bytes:
    """The fixture folder ``name`` as .imscc bytes."""
    folder = FIXTURES / name
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out.getvalue()
