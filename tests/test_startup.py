"""A command that is its process's whole life: the collector off while its stack imports,
the heap frozen when it ends (framesift.cli.process); nothing changes for ``main(argv)``
called inside another program. Each check runs in a child process, whose collector it may
freeze."""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
from pathlib import Path

from framesift.cli import build_parser, main, spec_from_args
from framesift.output import write_sample
from processes import python

# main() without argv runs sys.argv[1:], as the console script does; the child prints the
# collector's state after it and inside the pass (at the sink's first picture).
_AS_THE_PROCESS = """
import gc, sys
import framesift.sink as sink
seen = []
write = sink.FsspecImageSink.put
def put(self, *args, **kwargs):
    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
    return write(self, *args, **kwargs)
sink.FsspecImageSink.put = put
from framesift.cli import main
sys.argv = ["framesift", *sys.argv[1:]]
status = main()
print("in the pass:", seen[:1], "after:", gc.isenabled(), gc.get_freeze_count() > 0, status)
"""


def _child(code: str, *argv: str) -> list[str]:
    run = python(code, *argv)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.splitlines()


def test_sample_as_the_process_imports_frozen_collects_in_the_pass_and_ends_frozen(
    cuts_video, tmp_path
):
    out = tmp_path / "out"
    lines = _child(_AS_THE_PROCESS, "sample", str(cuts_video.path), "--out", str(out))
    # Inside the pass the collector runs (over what the pass makes), the stack frozen.
    assert lines[-1] == "in the pass: [(True, True)] after: True True 0"


def test_a_command_not_known_to_end_clean_keeps_its_exit_as_usual():
    lines = _child(_AS_THE_PROCESS, "estimate", "--help")
    assert lines[-1] == "in the pass: [] after: True False 0"


def test_main_with_argv_leaves_the_callers_collector_alone(vfr_video, capsys):
    frozen = gc.get_freeze_count()
    assert main(["probe", str(vfr_video.path)]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    assert "video:" in capsys.readouterr().out


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


def test_the_command_as_its_own_process_writes_what_write_sample_writes(cuts_video, tmp_path):
    out = tmp_path / "out"
    command = ["sample", str(cuts_video.path), "--out", str(out), "--every", "1"]
    run = subprocess.run(
        [sys.executable, "-m", "framesift.cli", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "kept" in run.stdout
    by_command = _files(out)
    shutil.rmtree(out)
    write_sample(str(cuts_video.path), str(out), spec_from_args(build_parser().parse_args(command)))
    assert len(by_command) > 3
    assert _files(out) == by_command


# numpy (and with it OpenBLAS, which reads its thread count once, as it loads) is not yet
# imported when a command starts; the child prints the count OpenBLAS was given.
_BLAS_THREADS = """
import os, sys
if sys.argv[1] == "-":
    os.environ.pop("OPENBLAS_NUM_THREADS", None)
else:
    os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[1]
from framesift.cli import main
sys.argv = ["framesift", *sys.argv[2:]]
status = main()
print("numpy:", "numpy" in sys.modules, "threads:", os.environ.get("OPENBLAS_NUM_THREADS"), status)
"""


def test_a_pass_command_gives_openblas_one_thread_unless_told_otherwise(cuts_video, tmp_path):
    command = ("sample", str(cuts_video.path), "--out", str(tmp_path / "out"), "--every", "1")
    assert _child(_BLAS_THREADS, "-", *command)[-1] == "numpy: True threads: 1 0"
    assert _child(_BLAS_THREADS, "2", *command)[-1] == "numpy: True threads: 2 0"
    # Other commands leave the environment as it was.
    assert _child(_BLAS_THREADS, "-", "estimate", "--help")[-1] == "numpy: False threads: None 0"
