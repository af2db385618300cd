"""CLI start-up: the median of 10 runs of `stadtstimme --help`, `list` and `export`, in seconds.

Run as `.venv/bin/python bench/startup.py [DATA_DIR]`: on an empty data directory unless one is
given (then `list` and `export` read it). A command that fails (an empty archive, an unknown id)
is timed all the same: what is measured is how long the command takes to answer.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10
COMMANDS = (["--help"], ["list"], ["export", "nosuchid"])
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    data = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="startup-")
    env = os.environ | {"STADTSTIMME_DATA_DIR": data}
    for command in COMMANDS:
        seconds = []
        for _ in range(RUNS):
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "ingest", *command], env=env, cwd=ROOT, capture_output=True
            )
            seconds.append(time.perf_counter() - began)
        print(f"{' '.join(command)}: median {statistics.median(seconds):.2f} s of {RUNS}")


if __name__ == "__main__":
    main()
