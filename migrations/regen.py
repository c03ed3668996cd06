"""Regenerate the initial migration from the models (development only, before the first release).

python -m migrations.regen
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from models.db import MIGRATIONS_DIR, make_engine


def main() -> None:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    for produced in versions.glob("0001_*.py"):
        text = "\n".join(line.rstrip() for line in produced.read_text(encoding="utf-8").splitlines()) + "\n"
        text = re.sub(r"import models.base\n\n+", "import models.base\n\n", text)
        (versions / "0001_initial.py").write_text(text, encoding="utf-8")
        if produced.name != "0001_initial.py":
            produced.unlink()


if __name__ == "__main__":
    main()
