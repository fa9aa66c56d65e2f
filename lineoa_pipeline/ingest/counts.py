"""What taking files in counted: the figures a run reports, and staging's own."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date


@dataclass
class IngestCounts:
    """The counts a run reports for the files it took in."""

    files_loaded: int = 0
    files_seen: int = 0
    files_quarantined: int = 0
    messages_new: int = 0
    duplicates: int = 0
    rejected: int = 0
    files_unchanged: int = 0  # loaded from the counts of a file with the same rows, not parsed (unchanged.py)


@dataclass
class StageReport(IngestCounts):
    """What staging did; `months` are the partitions of `messages` it made stale."""

    rows_read: int = 0
    files_read_together: int = 0  # files whose rows DuckDB read as one, in a scan of a few big files
    files_read_alone: int = 0  # files read one by one (a batch of one, or one that did not read cleanly together)
    months: list[date] = field(default_factory=list)

    def add(self, other: StageReport) -> None:
        """Count `other`'s files and rows in too (another lane's)."""
        for counted in fields(self):
            if counted.type == "int":  # the annotations are strings here
                setattr(self, counted.name, getattr(self, counted.name) + getattr(other, counted.name))

    @property
    def files_parsed(self) -> int:
        return self.files_read_together + self.files_read_alone
