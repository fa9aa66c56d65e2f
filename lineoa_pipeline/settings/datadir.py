"""The data directory's layout (`LINEOA_DATA_DIR`, default `data/` in the project root).

Chat history is personal data: whatever the umask, what the pipeline creates here is its owner's alone
(folders 0700, files 0600).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = PROJECT_ROOT / "demo-data"  # `lineoa demo`'s own, never the everyday data/
PRIVATE_UMASK = 0o077
# A media manifest's columns (`media/**/*manifest*.csv`): the user's, and the one `lineoa media save` writes.
MANIFEST_COLUMNS = ("account_name", "chat_name", "sent_at", "kind", "file", "sha256", "bytes")


def keep_private() -> None:
    """Make every file and folder this process creates from now on private to its owner (0600 and 0700):
    the warehouse, the snapshot, the archive and DuckDB's own files alike, however they are opened."""
    os.umask(PRIVATE_UMASK)


@dataclass(frozen=True)
class DataDir:
    """Where one deployment keeps its inputs, archive and warehouse."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> DataDir:
        """`explicit` (a `--data-dir`) wins over `LINEOA_DATA_DIR`, which wins over `data/`."""
        chosen = explicit or os.environ.get("LINEOA_DATA_DIR") or PROJECT_ROOT / "data"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def tags(self) -> Path:
        return self.root / "tags"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def snapshot(self) -> Path:
        """The read-only copy of the warehouse that readers open, replaced whole after each run."""
        return self.root / "warehouse.snapshot.duckdb"

    @property
    def settings_file(self) -> Path:
        return self.root / "lineoa.toml"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts.jsonl"

    def outbox(self, channel: str) -> Path:
        """Alerts a push channel (`webhook`, `email`, `line-…`) has not accepted yet; sent again at the next
        check."""
        return self.root / f".{channel}-outbox.jsonl"

    @property
    def webhook_outbox(self) -> Path:
        return self.outbox("webhook")

    @property
    def lock_file(self) -> Path:
        return self.root / ".lineoa.lock"

    @property
    def work(self) -> Path:
        """Scratch space for one run (extracted zip members, transcoded files); emptied at each start."""
        return self.root / ".work"

    def create(self) -> None:
        """Make the data directory's folders, each 0700 (the archive too when an older version made it)."""
        keep_private()
        for folder in (self.inbox, self.media, self.tags, self.archive):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.archive.chmod(0o700)
