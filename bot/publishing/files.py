"""Writing generated files (digests, archive pages) so readers never see half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` atomically unless the file already holds it; True when written."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # a temporary file of its own: two writers of one path (a day's digest and its neighbour
    # relinking it, in two processes) never replace each other's half-written file
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a server reading the volume
        os.replace(tmp, path)  # atomic: a reader never sees half a digest
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
