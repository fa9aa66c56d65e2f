"""A run writing one month, for test_lake: `python -m lineoa_pipeline_tests.month_writer_process DATA_DIR MONTH
BARRIER_DIR NAME PEERS`.

Writes the month (YYYY-MM-01) of `messages` with the real `write_months`, its first commit held until all
PEERS writers are ready to commit too, so that their transactions overlap for certain. Prints one JSON
object: how many commits it tried (1 + the retries a conflict cost it).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline.warehouse.classify import write_months
from lineoa_pipeline.warehouse.connection import write_connection


class HeldCommit:
    """A connection whose first COMMIT waits until every peer has reached its own."""

    def __init__(self, conn: Any, barrier: Path, name: str, peers: int) -> None:
        self.conn, self.barrier, self.name, self.peers = conn, barrier, name, peers
        self.commits = 0

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.conn, attr)

    def execute(self, sql: str, parameters: object = None) -> Any:
        if sql.strip().upper() == "COMMIT":
            self.commits += 1
            if self.commits == 1:
                (self.barrier / self.name).touch()
                deadline = time.monotonic() + 60
                while len(list(self.barrier.iterdir())) < self.peers and time.monotonic() < deadline:
                    time.sleep(0.01)
        return self.conn.execute(sql, parameters)


def main(data_dir: str, month: str, barrier: str, name: str, peers: str) -> int:
    first = date.fromisoformat(month)
    with write_connection(DataDir(Path(data_dir))) as conn:
        held = HeldCommit(conn, Path(barrier), name, int(peers))
        write_months(held, first, first)  # type: ignore[arg-type]
    print(json.dumps({"commits": held.commits}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
