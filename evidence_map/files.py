"""Files written whole: a reader, a preview or another build sees the old file or the new one,
never half of one. Every file the build keeps or generates is written through `replace_file`."""

from __future__ import annotations

import os
from pathlib import Path


def replace_file(path: Path, data: str | bytes, durable: bool = False, keep_mode: bool = False) -> None:
    """Write `data` (text as UTF-8) to a temporary file beside `path`, then rename it over `path`.

    `durable`: flushed to disk before the rename (files people edit, like the screening queue);
    `keep_mode`: the new file keeps the old one's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if keep_mode and path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
