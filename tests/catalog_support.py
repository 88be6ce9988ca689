"""Helpers for the catalog tests: the S3 test server, catalog targets, small videos.

Fixtures using them live in fixtures_catalog.py (a pytest plugin); test modules import the
helpers from here (importing a plugin module from a test would defeat assert rewriting).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av
import boto3
import numpy as np
from moto.server import ThreadedMotoServer

from framesift.spec import SamplingSpec
from framesift.storage import RetryPolicy, Storage

__all__ = [
    "FAST_RETRY",
    "FRAMES_PER_VIDEO",
    "SECRET",
    "SPEC",
    "CatalogTarget",
    "FaultProxy",
    "S3Server",
    "Videos",
    "all_files",
    "framesift_process",
    "make_video",
    "resume",
    "start_s3_server",
    "storage_option_args",
    "wait_stopped",
]

SECRET = "Sup3rSecretValue-do-not-leak"
"""The secret access key every S3 test uses: tests assert it never shows up anywhere."""
FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)
SPEC = SamplingSpec(interval_s=1.0, detector="content")
FRAMES_PER_VIDEO = 3  # 3 s at one frame a second

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class S3Server:
    server: ThreadedMotoServer
    endpoint_url: str

    def options(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "key": "testing",
            "secret": SECRET,
            "client_kwargs": {"region_name": "us-east-1"},
        }

    def create_bucket(self) -> str:
        name = f"cat-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        ).create_bucket(Bucket=name)
        return name


def start_s3_server() -> S3Server:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return S3Server(server, f"http://{host}:{port}")


@dataclass
class CatalogTarget:
    """Where a test's catalog lives: ``url`` plus the ``storage_options`` to open it."""

    kind: str
    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    s3: S3Server | None = None

    def __str__(self) -> str:
        return self.url


def make_video(
    path: Path,
    colors: list[tuple[int, int, int]],
    *,
    fps: int = 10,
    seconds_per_color: float = 1.0,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """A small MPEG-4 video: one solid colour per second with a moving bar."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        n = 0
        for color in colors:
            for _ in range(int(fps * seconds_per_color)):
                img = np.zeros((size[1], size[0], 3), np.uint8)
                img[:] = color
                img[:, (n * 3) % size[0]] = 255
                n += 1
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@dataclass
class Videos:
    folder: Path
    good: list[Path]
    not_a_video: Path


def all_files(target: CatalogTarget) -> dict[str, bytes]:
    """Every file under the catalog root, key -> bytes (for leak and layout checks)."""
    storage = Storage(target.url, target.storage_options)
    return {k: bytes(storage.fs.cat_file(storage._listed_path(k))) for k in storage.list_files("")}


SRC = str(Path(__file__).parents[1] / "src")


def storage_option_args(target: CatalogTarget) -> list[str]:
    """``--storage-option`` arguments that open ``target`` from the command line."""
    args: list[str] = []
    for name, value in target.storage_options.items():
        args += ["--storage-option", f"{name}={json.dumps(value)}"]
    return args


def framesift_process(
    args: list[str],
    *,
    fault: str | None = None,
    log_to: Path,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``framesift ARGS`` as a real process, with a fault armed (``point[:stop]``, comma
    separated); its stdout and stderr go to ``log_to`` (a pipe could fill while stopped)."""
    full_env = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    full_env.pop("FRAMESIFT_CATALOG_FAULT", None)
    if fault:
        full_env["FRAMESIFT_CATALOG_FAULT"] = fault
    with open(log_to, "wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "framesift.cli", *args], env=full_env, stdout=out, stderr=out
        )


def wait_stopped(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``proc`` stopped itself at its armed fault point (SIGSTOP)."""
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        proc.returncode = os.waitstatus_to_exitcode(status)
        raise AssertionError(f"exited ({proc.returncode}) instead of stopping: {log.read_text()}")


def resume(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGCONT)


class FaultProxy:
    """An HTTP proxy in front of the S3 test server that answers the next ``count``
    requests (of the given methods) with an error status of its own, then forwards again.
    Counts the requests it saw and the errors it injected."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._plan: list[tuple[int, str, str]] = []
        self._methods: frozenset[str] | None = None
        self.requests: list[tuple[str, str]] = []
        self.injected = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(
        self,
        count: int,
        status: int,
        code: str,
        message: str = "injected",
        methods: set[str] | None = None,
    ) -> None:
        with self._lock:
            self._plan = [(status, code, message)] * count
            self._methods = frozenset(methods) if methods else None
            self.requests.clear()
            self.injected = 0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next_fault(self, method: str, path: str) -> tuple[int, str, str] | None:
        with self._lock:
            self.requests.append((method, path))
            if self._plan and (self._methods is None or method in self._methods):
                self.injected += 1
                return self._plan.pop()
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._next_fault(self.command, self.path)
                if fault is not None:
                    status, code, message = fault
                    payload = (
                        b"<html><body>502 Bad Gateway</body></html>"
                        if code == "html"
                        else (
                            '<?xml version="1.0" encoding="UTF-8"?><Error>'
                            f"<Code>{code}</Code><Message>{message}</Message>"
                            "<RequestId>proxy</RequestId></Error>"
                        ).encode()
                    )
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status, reply.reason)
                for name, value in reply.getheaders():
                    if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(name, value)
                # A HEAD reply has no body but says the object's length.
                length = reply.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        return Handler
