"""A decoder's work follows the bytes it decodes: the estimate fits each video's looks to
their bytes per packet and carries what they cost to the bytes of the whole video."""

from __future__ import annotations

import dataclasses

import av
import pytest

import framesift as fs
from framesift.estimate_cost import (
    bytes_slope,
    cost_ratio,
    per_pixel,
    per_pixel_at,
    whole_cost,
)
from framesift.estimate_keyframes import KeyframeScan, scan_keyframes
from framesift.estimate_projection import Calibration, KeptCount, Looks, project, time_unit
from framesift.source import Source

SIZE = (320, 240)
PIXELS = SIZE[0] * SIZE[1]
BASE_S, PER_BYTE_S = 0.002, 1e-7  # a frame costs 2 ms and 0.1 ms per KB it carries


def _measured(
    url: str, bytes_per_packet: float, *, frames: int = 50, cpu_s: float | None = None
) -> Calibration:
    """A stretch whose frames cost what the line says (or ``cpu_s``)."""
    per_frame = BASE_S + PER_BYTE_S * bytes_per_packet
    return Calibration(
        source_url=url,
        video_s=frames / 25,
        frames=frames,
        pixels=PIXELS,
        cpu_s=per_frame * frames if cpu_s is None else cpu_s,
        setup_cpu_s=0.0,
        kept=10,
        thumbnail_bytes=100_000,
        table_bytes=10_000,
        packets=frames,
        packet_bytes=round(bytes_per_packet * frames),
    )


def test_the_cost_of_looks_is_fitted_to_their_bytes() -> None:
    looks = [_measured("v.mp4", b) for b in (4_000, 9_000, 12_000, 16_000, 20_000)]
    assert bytes_slope(looks) == pytest.approx(PER_BYTE_S, rel=1e-3)
    assert bytes_slope(looks[:3]) is None  # too few looks to tell
    # Costs the bytes do not explain (R^2 under a half), or that fall as they grow.
    pairs = zip((4e3, 8e3, 12e3, 16e3), (1.0, 2.0, 2.0, 1.0), strict=True)
    unrelated = [_measured("v.mp4", b, cpu_s=c) for b, c in pairs]
    assert bytes_slope(unrelated) is None
    falling = [_measured("v.mp4", b, cpu_s=0.5 - b * 1e-5) for b in (4e3, 8e3, 12e3, 16e3)]
    assert bytes_slope(falling) is None
    uncounted = [dataclasses.replace(c, packets=0, packet_bytes=0) for c in looks]
    assert bytes_slope(uncounted) is None


def test_a_look_is_carried_along_the_line_to_other_bytes() -> None:
    look = _measured("v.mp4", 16_000)  # 3.6 ms a frame
    at_12k = (BASE_S + PER_BYTE_S * 12_000) / PIXELS
    assert per_pixel_at(look, PER_BYTE_S, 12_000) == pytest.approx(at_12k)
    # Unknown slope or bytes: as measured.
    assert per_pixel_at(look, None, 12_000) == per_pixel(look)
    assert per_pixel_at(look, PER_BYTE_S, None) == per_pixel(look)
    # Never beyond a factor of two, whatever the line says far from the looks.
    steep = 3 * PER_BYTE_S  # 16 KB less would cost 4.8 ms less: below nothing
    assert per_pixel_at(look, steep, 0) == pytest.approx(0.0036 / 2 / PIXELS)
    assert per_pixel_at(look, steep, 100_000) == pytest.approx(0.0036 * 2 / PIXELS)


def test_a_calibrated_video_costs_its_calibration_carried_to_its_whole_bytes() -> None:
    """Its calibration (16 KB a packet), times its spread looks carried to the whole
    video's bytes (10 KB) over its start looks carried to the calibration's: the line's
    cost at 10 KB, where the looks alone would give their own 14 KB's."""
    calibration = _measured("v.mp4", 16_000, frames=500)
    start, spread = _measured("v.mp4", 18_000), _measured("v.mp4", 14_000)
    at_10k = (BASE_S + PER_BYTE_S * 10_000) / PIXELS
    assert whole_cost(calibration, start, spread, PER_BYTE_S, 10_000) == pytest.approx(at_10k)
    assert whole_cost(calibration, start, spread, None, 10_000) == pytest.approx(
        per_pixel(calibration) * per_pixel(spread) / per_pixel(start)  # as before the fit
    )
    # A short video (no spread looks): its start looks carried both ways.
    assert whole_cost(calibration, start, None, PER_BYTE_S, 10_000) == pytest.approx(at_10k)
    assert whole_cost(calibration, start, None, None, 10_000) == per_pixel(calibration)
    assert whole_cost(calibration, None, spread, PER_BYTE_S, 10_000) == per_pixel(calibration)
    # The calibration over its start looks, carried to its bytes, compare as equals.
    assert cost_ratio([(calibration, start, PER_BYTE_S)]) == pytest.approx(1.0)
    assert cost_ratio([(calibration, start, None)]) == pytest.approx(3.6 / 3.8)


def test_the_estimate_carries_every_videos_looks_to_its_whole_bytes(cuts_video) -> None:
    """Where cost follows bytes exactly, a calibrated video and one that is not are each
    estimated at the line's cost for their whole bytes per packet (their keyframe scans'),
    not at their looks' busier bytes."""
    info = fs.probe(str(cuts_video.path))
    video = dataclasses.replace(info.video, width=SIZE[0], height=SIZE[1])
    long = dataclasses.replace(info, url="long.mp4", duration_s=600.0, video=video)
    other = dataclasses.replace(info, url="other.mp4", duration_s=600.0, video=video)
    calibration = [_measured("long.mp4", 16_000, frames=500)]
    scans = tuple(
        KeyframeScan(url, keyframes=60, cuts=0, cpu_s=0.1, packets=15_000, packet_bytes=15_000 * b)
        for url, b in (("long.mp4", 10_000), ("other.mp4", 6_000))
    )
    looks = Looks(
        starts=(_measured("long.mp4", 18_000), _measured("other.mp4", 12_000)),
        keyframes=scans,
        spread=(_measured("long.mp4", 14_000), _measured("other.mp4", 9_000)),
        slopes=(PER_BYTE_S, PER_BYTE_S),
    )
    kept = [KeptCount(10, 10, 0)]
    estimate = project([long, other], calibration, kept, fs.SamplingSpec(), [], looks, None)
    frames = 600.0 * info.video.fps
    cpu = estimate.videos["cpu_seconds"].to_list()
    assert cpu[0] == pytest.approx(frames * (BASE_S + PER_BYTE_S * 10_000))
    assert cpu[1] == pytest.approx(frames * (BASE_S + PER_BYTE_S * 6_000))


def test_a_pass_counts_the_packets_it_reads(cuts_video) -> None:
    """A keyframe scan reads every packet of the video stream (and decodes its keyframes
    only): its counts are the whole stream's. A look stopped at a time reads about its
    frames' packets."""
    path = str(cuts_video.path)
    with av.open(path) as container:
        sizes = [p.size for p in container.demux(video=0) if p.size]
    info = fs.probe(path)
    scan = scan_keyframes(Source(path), info, fs.SamplingSpec())
    assert scan is not None
    assert (scan.packets, scan.packet_bytes) == (len(sizes), sum(sizes))
    assert scan.bytes_per_packet == pytest.approx(sum(sizes) / len(sizes))
    look = fs.SamplingPass(path, fs.SamplingSpec(), until_s=1.0).result().stats
    assert look.frames_decoded <= look.packets_read <= look.frames_decoded + 4
    assert 0 < look.packet_bytes < sum(sizes)


def test_an_estimated_time_is_written_in_the_unit_a_reader_would_use() -> None:
    assert time_unit(24.0) == ("s", 1.0, ".0f")  # not "0.4 min"
    assert time_unit(3.2) == ("s", 1.0, ".1f")  # not "3 s (3-3)"
    assert time_unit(119.0)[0] == "s"
    assert time_unit(120.0) == ("min", 60.0, ".1f")
    assert time_unit(7199.0)[0] == "min"
    assert time_unit(9000.0) == ("h", 3600.0, ".2f")
