"""The server's app (`stadtstimme serve`) exempts what it keeps from garbage collection
(archive.longlived), once made and again once the compound splitters are loaded; create_app,
which tests and scripts call many times, does not. In a process of its own: a freeze lasts as
long as the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.api.served import seed_archive

SCRIPT = """
import gc, json, threading
from api.app import create_app, create_server_app
from archive.analysis import load_models
frozen = [gc.get_freeze_count()]
create_server_app()
frozen.append(gc.get_freeze_count())
for thread in threading.enumerate():
    if thread.name == "settle":
        thread.join(300)
frozen.append(gc.get_freeze_count())
gc.collect()
survivors = len(gc.get_objects())
create_app()
load_models()
frozen.append(gc.get_freeze_count())
print(json.dumps({"frozen": frozen, "survivors": survivors}))
"""


def test_the_server_app_freezes_what_it_keeps_and_create_app_does_not(tmp_path: Path) -> None:
    seeded = seed_archive(tmp_path / "data")
    env = os.environ | {"STADTSTIMME_DATA_DIR": str(seeded.settings.data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    at_start, after_server_app, after_models, after_create_app = found["frozen"]
    assert at_start == 0
    assert after_server_app > 10_000  # the modules, the app, the catalog and engine it opened
    assert after_models > after_server_app  # HanTa's model and compound-split's tables
    # what a full collection still traverses: what came after, not the app or the models
    assert found["survivors"] < after_models / 10
    assert after_create_app == after_models
