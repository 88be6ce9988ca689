"""The source value: one URL with its storage options, shown without credentials, with
I/O failures mapped to framesift's typed errors in one place."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import fsspec
import pytest

from framesift.catalog import sources as catalog_sources
from framesift.errors import (
    MediaNotFoundError,
    NotAVideoError,
    SettingsError,
    StorageError,
)
from framesift.source import Source, expand_sources

SECRET = "s3cr3t-value-123"
URL = f"s3://user:{SECRET}@bucket/clip.mp4?X-Amz-Signature={SECRET}"


def test_source_is_a_hashable_picklable_value() -> None:
    options = {"key": "AKIA0000", "secret": SECRET, "client_kwargs": {"region_name": "x"}}
    source = Source(URL, options)
    assert source == Source(URL, dict(options))
    assert len({source, Source(URL, dict(options))}) == 1
    assert pickle.loads(pickle.dumps(source)) == source
    assert Source.of(source) is source
    assert Source.of(Path("clips/a.mp4")) == Source("clips/a.mp4")


def test_source_never_shows_credentials() -> None:
    source = Source(URL, {"secret": SECRET})
    assert SECRET not in source.shown
    assert SECRET not in repr(source)
    assert SECRET not in source.redact(f"failed: {URL} with {SECRET}")
    assert SECRET not in str(source.io_error(OSError(f"denied {URL} {SECRET}")))


def test_source_with_other_options_is_refused() -> None:
    with pytest.raises(SettingsError, match="storage_options"):
        Source.of(Source("memory://a.mp4", {"a": 1}), {"a": 2})
    with pytest.raises(SettingsError):
        Source("")


@pytest.mark.parametrize(
    ("error", "action", "expected"),
    [
        pytest.param(FileNotFoundError("x"), "read", MediaNotFoundError, id="missing"),
        pytest.param(IsADirectoryError("x"), "read", NotAVideoError, id="directory"),
        pytest.param(PermissionError("x"), "read", StorageError, id="permission"),
        pytest.param(OSError("x"), "read", StorageError, id="other"),
        pytest.param(FileNotFoundError("x"), "write", StorageError, id="write-missing"),
    ],
)
def test_io_errors_map_to_typed_errors(
    error: OSError, action: str, expected: type[Exception]
) -> None:
    mapped = Source("memory://bucket/a.mp4").io_error(error, action)
    assert type(mapped) is expected
    assert "memory://bucket/a.mp4" in str(mapped)


def test_reading_a_source(tmp_path: Path) -> None:
    with fsspec.open("memory://framesift-test/a.bin", "wb") as handle:
        handle.write(b"12345")
    remote = Source("memory://framesift-test/a.bin")
    assert remote.size_bytes() == 5
    with remote.open_file() as handle:
        assert handle.read() == b"12345"
    with pytest.raises(MediaNotFoundError):
        Source(str(tmp_path / "gone.mp4")).size_bytes()
    with pytest.raises(MediaNotFoundError):
        Source("memory://framesift-test/gone.bin").size_bytes()
    with pytest.raises(NotAVideoError, match="directory"), Source(str(tmp_path)).open_container():
        pass
    with pytest.raises(SettingsError, match="cannot open"):
        Source("nosuchprotocol://x/y.mp4").size_bytes()
    fsspec.filesystem("memory").rm("framesift-test", recursive=True)


def test_expand_sources_lives_at_the_source_level() -> None:
    assert catalog_sources.expand_sources is expand_sources


def _tree_with_hazards(root: Path) -> list[str]:
    """A folder of empty "videos" with a FIFO, a symlink loop and a second link to one
    folder among them; returns the regular video files, sorted."""
    (root / "a" / "b").mkdir(parents=True)
    files = [root / "top.mp4", root / "a" / "one.mkv", root / "a" / "b" / "two.mp4"]
    for path in files:
        path.write_bytes(b"x")
    (root / "a" / "notes.txt").write_text("not a video")
    os.mkfifo(root / "a" / "pipe.mp4")  # opening it would block forever
    os.symlink(root / "a", root / "a" / "b" / "loop")  # a -> b -> loop -> a ...
    os.symlink(root / "a" / "b", root / "again")  # the same folder by another name
    return sorted(str(p) for p in files)


@pytest.mark.timeout(20)
def test_folders_and_globs_skip_fifos_and_survive_symlink_loops(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    expected = _tree_with_hazards(tmp_path)
    with caplog.at_level(logging.WARNING, logger="framesift.source"):
        walked = expand_sources([str(tmp_path)])
    assert sorted(walked) == expected  # each file once, whatever the links
    assert "pipe.mp4: a FIFO (named pipe), not a video file" in caplog.text
    assert "symlink loop" in caplog.text
    assert expand_sources([f"{tmp_path}/**/*.mp4"]) == [p for p in expected if p.endswith(".mp4")]
    assert expand_sources([f"{tmp_path}/**"]) == expected
    assert expand_sources([f"{tmp_path}/a/*.m[kp][v4]"]) == [expected[1]]
    assert expand_sources([f"{tmp_path}/a/p*.mp4"]) == []  # the FIFO alone: nothing


@pytest.mark.timeout(20)
def test_a_named_fifo_or_device_is_a_typed_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    for name in (str(fifo), "/dev/zero"):
        assert expand_sources([name]) == [name]  # named: kept, so its failure is recorded
        with pytest.raises(NotAVideoError, match="not a regular file"):
            catalog_sources.fingerprint(name)
        with (
            pytest.raises(NotAVideoError, match="not a regular file"),
            Source(name).open_container(),
        ):
            pass
