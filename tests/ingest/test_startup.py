"""Start-up cost: the command loads the compound splitters, faster-whisper, yt-dlp, PyAV and
uvicorn only when a command needs them (they took `stadtstimme --help` to about 8 s).

Checked by what a fresh interpreter has imported, not by the clock, so that it cannot flake."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("compound_split", "HanTa", "faster_whisper", "ctranslate2", "yt_dlp", "av", "uvicorn")


def _imported_after(code: str) -> set[str]:
    """The heavy top-level modules a fresh interpreter holds after running `code`."""
    script = (
        f"import sys\n{code}\nimport json\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_command_loads_no_heavy_module() -> None:
    assert _imported_after("import ingest.cli") == set()


def test_help_and_parsing_load_no_heavy_module() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from ingest.cli import app\n"
        "for args in (['--help'], ['search', '--help'], ['ingest', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0"
    )
    assert _imported_after(code) == set()


def test_analysis_loads_the_splitters_only_to_split_a_compound() -> None:
    light = "from archive.analysis import term, parse_query\nterm('Maskenpflicht')\n"
    assert _imported_after(light + "parse_query('Maskenpflicht -Kita')") == set()
    split = light + "from archive.analysis import analyse\nassert analyse('Maskenpflicht').heads"
    assert _imported_after(split) == {"compound_split", "HanTa"}
