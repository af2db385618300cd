"""Rebuild the demo statements in this folder from their `.json` scripts (needs espeak-ng, ffmpeg).

The committed .ogg files are what the demo ingests; this script says how they were made.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    for script in sorted(HERE.glob("*.json")):
        meta = json.loads(script.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            subprocess.run(
                ["espeak-ng", "-v", "de", "-s", "130", "-w", str(wav), meta["script"]], check=True
            )
            subprocess.run(
                [
                    "ffmpeg",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-t",
                    "1",
                    "-i",
                    "anullsrc=r=22050:cl=mono",
                    "-i",
                    str(wav),
                    "-filter_complex",
                    "[0][1]concat=n=2:v=0:a=1",
                    "-c:a",
                    "libopus",
                    "-b:a",
                    "24k",
                    str(script.with_suffix(".ogg")),
                ],
                check=True,
            )
        print(script.with_suffix(".ogg").name, file=sys.stderr)


if __name__ == "__main__":
    main()
