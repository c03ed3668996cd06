"""Visit photos on disk: <media_dir>/<yyyy>/<mm>/<visit_id>-<n>.<ext>."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from services.parsing import SHANGHAI

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
}


def extension_for(content_type: str) -> str:
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "jpg")


def photo_path(media_dir: Path, *, visit_id: int, n: int, content_type: str, now: datetime) -> Path:
    local = now.astimezone(SHANGHAI)
    return Path(media_dir) / f"{local:%Y}" / f"{local:%m}" / f"{visit_id}-{n}.{extension_for(content_type)}"


def save_photo(
    media_dir: Path, *, visit_id: int, n: int, data: bytes, content_type: str, now: datetime
) -> Path:
    """Write the bytes (atomically: temp file then rename) and return the path."""
    path = photo_path(media_dir, visit_id=visit_id, n=n, content_type=content_type, now=now)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
