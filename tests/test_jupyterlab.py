"""The tuning widget in JupyterLab, in a real headless Chromium: run the notebook, move the
threshold slider with the keyboard, see the scene count follow."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

import framesift as fs
from browser import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM
from framesift.notebook import SamplingTuner

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab on 127.0.0.1 with its own config, runtime and settings folders."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("JupyterLab did not start")
        yield base, token, root
    finally:
        server.terminate()
        server.wait(20)


@pytest.mark.timeout(180)
def test_threshold_slider_recounts_scenes_in_the_browser(jupyterlab, cuts_video) -> None:
    from playwright.sync_api import sync_playwright

    base, token, root = jupyterlab
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import framesift as fs\n"
            "from framesift.notebook import SamplingTuner\n"
            f"spec = fs.SamplingSpec(interval_s=1.0, min_scene_len_frames=5)\n"
            f"result = fs.sample_video({str(cuts_video.path)!r}, spec)\n"
            "tuner = SamplingTuner(result)\n"
            "tuner"
        )
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, root / "tune.ipynb")
    scenes = len(cuts_video.cut_frames) + 1
    # The same widget in this process says what the browser must show after each move.
    spec = fs.SamplingSpec(interval_s=1.0, min_scene_len_frames=5)
    here = SamplingTuner(fs.sample_video(str(cuts_video.path), spec))
    here.threshold.value = here.threshold.max
    one_scene = re.sub("<[^>]+>", "", here.summary.value)
    here.interval.value = here.interval.max
    sparse = re.sub("<[^>]+>", "", here.summary.value)
    assert one_scene.startswith("1 scene, ")
    assert sparse != one_scene  # fewer kept frames: the third state is told apart
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/lab/tree/tune.ipynb?token={token}")
            page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            # Run once the notebook's kernel is up (cells run earlier can be dropped).
            page.wait_for_function(
                "(() => { const w = window.jupyterapp.shell.currentWidget;"
                " const k = w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel;"
                " return !!k && k.status === 'idle'; })()",
                timeout=90_000,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

            def shows(text: str, timeout_ms: int) -> None:
                page.wait_for_function(
                    "text => document.body.innerText.includes(text)", arg=text, timeout=timeout_ms
                )

            # The summary label the widget sets after each re-selection.
            page.wait_for_function(
                f"/(^|[^0-9]){scenes} scenes, /.test(document.body.innerText)", timeout=90_000
            )
            handles = page.locator(".noUi-handle")
            handles.nth(0).focus()  # threshold
            page.keyboard.press("End")  # its maximum: above every score
            shows(one_scene, 30_000)
            handles.nth(2).focus()  # interval
            page.keyboard.press("End")  # one frame a minute: only the first frame is kept
            shows(sparse, 30_000)
        finally:
            browser.close()
