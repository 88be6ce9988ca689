"""The CLI shells (``framesift ingest``, ``framesift catalog vacuum|compact``) and sources."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog_support import FRAMES_PER_VIDEO, SECRET, CatalogTarget, Videos
from framesift.catalog import Catalog, expand_sources, fingerprint
from framesift.cli import parse_storage_options
from framesift.cli.catalog import add_catalog_arguments, run_catalog
from framesift.cli.ingest import add_ingest_arguments, run_ingest
from framesift.errors import SettingsError

pytest_plugins = ["fixtures_catalog"]


def ingest_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="framesift ingest")
    add_ingest_arguments(parser)
    return parser


def catalog_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="framesift catalog")
    add_catalog_arguments(parser)
    return parser


def options_args(target: CatalogTarget) -> list[str]:
    out: list[str] = []
    for name, value in target.storage_options.items():
        out += ["--storage-option", f"{name}={json.dumps(value)}"]
    return out


def test_parse_storage_options() -> None:
    assert parse_storage_options(
        [
            "anon=true",
            "endpoint_url=http://h:9000",
            "client_kwargs.region_name=eu-west-1",
            "max_concurrency=4",
            'config_kwargs={"a": 1}',
        ]
    ) == {
        "anon": True,
        "endpoint_url": "http://h:9000",
        "client_kwargs": {"region_name": "eu-west-1"},
        "max_concurrency": 4,
        "config_kwargs": {"a": 1},
    }
    with pytest.raises(SettingsError, match="KEY=VALUE"):
        parse_storage_options(["novalue"])


def test_ingest_and_vacuum_commands(
    catalog_url: CatalogTarget, videos: Videos, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ingest_parser().parse_args(
        [
            str(videos.folder),
            "--catalog",
            catalog_url.url,
            "--every",
            "1",
            *options_args(catalog_url),
        ]
    )
    assert run_ingest(args) == 1  # notes.mp4 in the folder is not a video
    out = capsys.readouterr().out
    assert "3 ingested, 0 replaced, 0 text updated, 0 skipped, 1 failed" in out
    assert "NotAVideoError" in out
    assert SECRET not in out
    cat = Catalog(catalog_url.url, catalog_url.storage_options)
    assert cat.videos().height == 3
    assert cat.frames().height == 3 * FRAMES_PER_VIDEO

    vac = catalog_parser().parse_args(
        ["vacuum", catalog_url.url, "--grace", "0", "--dry-run", *options_args(catalog_url)]
    )
    assert run_catalog(vac) == 0
    assert "would remove" in capsys.readouterr().out
    comp = catalog_parser().parse_args(["compact", catalog_url.url, *options_args(catalog_url)])
    assert run_catalog(comp) == 0
    assert "snapshot 1" in capsys.readouterr().out


def test_catalog_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.txt").write_text("x")
    (tmp_path / "clip.mp4").write_bytes(b"x")
    args = ingest_parser().parse_args([str(tmp_path / "clip.mp4"), "--catalog", str(tmp_path)])
    assert run_ingest(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CatalogError" in err
    assert "Traceback" not in err
    vac = catalog_parser().parse_args(["vacuum", str(tmp_path / "none")])
    assert run_catalog(vac) == 2


def test_aws_environment_configures_s3(s3_server: object, videos: Videos, tmp_path: Path) -> None:
    """No storage options at all: endpoint, credentials and region from the standard AWS
    environment variables, in a fresh process as a user would run it."""
    from catalog_support import S3Server

    assert isinstance(s3_server, S3Server)
    bucket = s3_server.create_bucket()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1] / "src"),
        "AWS_ENDPOINT_URL": s3_server.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    code = (
        "import argparse, sys\n"
        "from framesift.cli.ingest import add_ingest_arguments, run_ingest\n"
        "p = argparse.ArgumentParser(); add_ingest_arguments(p)\n"
        "sys.exit(run_ingest(p.parse_args(sys.argv[1:])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(videos.good[0]), "--catalog", f"s3://{bucket}/c"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 ingested" in done.stdout
    assert SECRET not in done.stdout + done.stderr
    cat = Catalog(f"s3://{bucket}/c", s3_server.options())
    assert cat.frames().height == FRAMES_PER_VIDEO


def test_expand_sources(videos: Videos, tmp_path: Path) -> None:
    nested = tmp_path / "deep" / "er"
    nested.mkdir(parents=True)
    (nested / "a.MKV").write_bytes(b"x")
    (nested / "readme.txt").write_text("x")
    (tmp_path / "b.webm").write_bytes(b"x")
    found = expand_sources([str(tmp_path), str(tmp_path / "*.webm"), str(tmp_path / "gone.mp4")])
    assert found == [
        str(tmp_path / "b.webm"),
        str(nested / "a.MKV"),
        str(tmp_path / "gone.mp4"),
    ]
    assert expand_sources([str(videos.folder / "clip*.mp4")]) == [str(p) for p in videos.good]


def test_fingerprint_reads_head_middle_tail(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    data = bytearray(os.urandom(5 << 20))
    big.write_bytes(bytes(data))
    vid, size = fingerprint(str(big))
    assert size == 5 << 20
    assert len(vid) == 24
    data[(5 << 20) // 2] ^= 0xFF  # in the middle chunk
    big.write_bytes(bytes(data))
    assert fingerprint(str(big))[0] != vid
    data[(5 << 20) // 2] ^= 0xFF
    data[1 << 20 | 12345] ^= 0xFF  # between the chunks: documented blind spot
    big.write_bytes(bytes(data))
    assert fingerprint(str(big))[0] == vid


def test_register_commands_adds_ingest_and_catalog(tmp_path: Path) -> None:
    from framesift.cli import register_commands

    parser = argparse.ArgumentParser(prog="framesift")
    register_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        [
            "ingest",
            "a.mp4",
            "b/",
            "--catalog",
            str(tmp_path),
            "--every",
            "2",
            "--force",
            "--storage-option",
            "anon=true",
        ]
    )
    assert args.func is run_ingest
    assert args.sources == ["a.mp4", "b/"]
    assert args.force
    assert parse_storage_options(args.storage_option) == {"anon": True}
    args = parser.parse_args(["catalog", "vacuum", str(tmp_path), "--grace", "10"])
    assert args.func is run_catalog
    assert args.grace == 10.0


@pytest.mark.parametrize(
    ("command", "make", "says"),
    [
        ("ingest", "empty folder", "a folder without video files"),
        ("ingest", "missing path", "no such file or folder"),
        ("estimate", "empty folder", "a folder without video files"),
        ("estimate", "missing path", "no such file or folder"),
    ],
)
def test_nothing_to_work_on_is_one_line_and_a_failure(
    command: str, make: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framesift.cli import main

    source = tmp_path / "footage"
    if make == "empty folder":
        source.mkdir()
        (source / "notes.txt").write_text("not a video")
    catalog = tmp_path / "catalog"
    argv = [command, str(source)] + (["--catalog", str(catalog)] if command == "ingest" else [])
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"framesift {command}: MediaNotFoundError: {source}: {says}")
    assert not catalog.exists()  # no catalog made for nothing


def test_a_failed_video_is_printed_once(
    videos: Videos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framesift.cli import main

    sources = [str(videos.good[0]), str(videos.not_a_video)]
    assert main(["ingest", *sources, "--catalog", str(tmp_path / "c"), "--every", "1"]) == 1
    captured = capsys.readouterr()
    everything = captured.out + captured.err
    assert everything.count("NotAVideoError") == 1
    assert everything.count(videos.not_a_video.name) == 1


def test_the_summary_names_a_failed_file_once(
    videos: Videos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ledger's error message starts with the file's URL; the FAILED line of
    ``catalog summary`` already names it, so it says it once."""
    from framesift.cli import main

    catalog = str(tmp_path / "c")
    sources = [str(videos.good[0]), str(videos.not_a_video)]
    assert main(["ingest", *sources, "--catalog", catalog, "--every", "1"]) == 1
    capsys.readouterr()
    assert main(["catalog", "summary", catalog]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "FAILED" in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"  FAILED  {videos.not_a_video}: NotAVideoError: ")
    assert lines[0].count(videos.not_a_video.name) == 1
    assert lines[0].rstrip() != f"  FAILED  {videos.not_a_video}: NotAVideoError:"  # says why


def test_search_without_text_says_so(
    videos: Videos, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from framesift.cli import main

    catalog = str(tmp_path / "c")
    args = ["--catalog", catalog, "--every", "1", "--no-subtitles", "--no-sidecars"]
    assert main(["ingest", str(videos.good[0]), *args]) == 0
    capsys.readouterr()
    assert main(["search", "anything", "--catalog", catalog]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "holds no text to search" in captured.err
    assert "0 hits" not in captured.err


def test_scenes_as_data_count_like_the_library(cuts_video, capsys) -> None:
    import framesift as fs
    from framesift.cli import main

    library = fs.sample_video(
        str(cuts_video.path), fs.SamplingSpec(interval_s=None, min_scene_len_frames=5)
    ).scenes
    assert main(["scenes", str(cuts_video.path), "--min-scene-len", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["scene_index"] for r in rows] == library["scene_index"].to_list()
    assert rows[0]["scene_index"] == 0
    assert [r["start_frame"] for r in rows] == [0, *cuts_video.cut_frames]
    # end_frame is exclusive: the next scene's first frame, as in the catalog
    assert [r["end_frame"] for r in rows[:-1]] == cuts_video.cut_frames
    assert main(["scenes", str(cuts_video.path), "--min-scene-len", "5", "--csv"]) == 0
    csv = capsys.readouterr().out.splitlines()
    assert csv[0] == "scene_index,start_s,end_s,start_frame,end_frame,score"
    for line in csv[1:]:
        for value in line.split(",")[1:3]:
            assert len(value.partition(".")[2]) <= 6, line  # no 13.999999999999998
