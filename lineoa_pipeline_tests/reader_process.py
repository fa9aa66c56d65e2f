"""A notebook stand-in for test_readers: `python -m lineoa_pipeline_tests.reader_process DATA_DIR STOP_FILE MODE`.

Queries the warehouse through `connect()` in a loop until STOP_FILE exists, then prints one JSON object:
every distinct state it saw (source files, their new messages, messages), in order of first sight, the
last state, how many queries ran and every error. MODE `hold` keeps one connection open throughout;
`reopen` opens a new connection for each query (closing the one before), as an analyst re-running a cell.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from lineoa_pipeline.warehouse.connection import connect

STATE = """SELECT (SELECT count(*) FROM source_files),
                  (SELECT coalesce(sum(messages_new), 0) FROM source_files),
                  (SELECT count(*) FROM messages)"""


def main(data_dir: str, stop_file: str, mode: str) -> int:
    seen: list[list[int]] = []
    errors: list[str] = []
    queries = 0
    last: list[int] | None = None
    held = connect(data_dir) if mode == "hold" else None
    print(json.dumps({"ready": True}), flush=True)
    stop = Path(stop_file)
    while True:
        stopping = stop.exists()  # one more query after the stop file appears: the last state is current
        try:
            conn = held or connect(data_dir)
            try:
                row = conn.execute(STATE).fetchone()
            finally:
                if conn is not held:
                    conn.close()
            last = [int(v) for v in row or ()]
            queries += 1
            if last not in seen:
                seen.append(last)
        except Exception:
            errors.append(traceback.format_exc())
        if stopping:
            break
        time.sleep(0.005)
    if held is not None:
        held.close()
    print(json.dumps({"seen": seen, "last": last, "queries": queries, "errors": errors}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
