"""Sources: which media files a list of names means, and opening one of them for reading.

A :class:`Source` is one media file as a value: its URL (a local path or any fsspec URL)
and the storage options that reach it. It shows itself without credentials
(:attr:`Source.shown`, computed once), opens its container or a file object, knows its
size, and turns every I/O failure into framesift's typed errors in one place
(:meth:`Source.io_error`). Local paths go to FFmpeg directly (its own buffered I/O,
fastest); other URLs go through an fsspec file object, so S3, HTTP or memory filesystems
work with the same code.

:func:`expand_sources` turns what a user names (files, folders searched recursively for
:data:`VIDEO_EXTENSIONS`, globs, and fsspec URLs of any of those) into a list of video URLs;
:func:`find_videos` does the same for a batch and says so when the names hold no video at all.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import av
import av.container

from framesift.errors import (
    FramesiftError,
    MediaError,
    MediaNotFoundError,
    NotAVideoError,
    SettingsError,
    StorageError,
    TruncatedMediaError,
)
from framesift.redact import Redactor, redact_options, redact_url

if TYPE_CHECKING:
    import fsspec

__all__ = ["VIDEO_EXTENSIONS", "Source", "expand_sources", "find_videos"]

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".3gp",
        ".avi",
        ".flv",
        ".m2ts",
        ".m4v",
        ".mkv",
        ".mov",
        ".mp4",
        ".mpeg",
        ".mpg",
        ".mts",
        ".mxf",
        ".ogv",
        ".ts",
        ".vob",
        ".webm",
        ".wmv",
    }
)
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, repr=False)
class Source:
    """One media file: ``url`` (a local path or an fsspec URL) and the fsspec
    ``storage_options`` that reach it. The same value names where results are written
    (a folder or a table file): it shows and redacts them alike.

    Hashable (by URL) and picklable, so it can travel to worker processes. Its ``repr``
    and :attr:`shown` never carry credentials.
    """

    url: str
    storage_options: Mapping[str, Any] | None = field(default=None, hash=False)
    shown: str = field(init=False, compare=False)
    """The URL without credentials: the one form of it that messages and rows carry."""

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url:
            raise SettingsError(f"a source URL must be a non-empty string, not {self.url!r}")
        options = dict(self.storage_options) if self.storage_options else None
        object.__setattr__(self, "storage_options", options)
        object.__setattr__(self, "shown", redact_url(self.url))

    @classmethod
    def of(
        cls,
        source: str | os.PathLike[str] | Source,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Source:
        """``source`` as a Source: a Source passes through (it carries its own options,
        so ``storage_options`` must be None or the same), a URL or path is wrapped."""
        if isinstance(source, Source):
            if storage_options is not None and dict(storage_options) != dict(
                source.storage_options or {}
            ):
                raise SettingsError(
                    f"{source.shown}: a Source carries its own storage_options; "
                    "give other options as Source(url, storage_options)"
                )
            return source
        return cls(os.fspath(source), storage_options)

    def __repr__(self) -> str:
        return f"Source({self.shown!r}, storage_options={redact_options(self.storage_options)!r})"

    # where it is ---------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        """Whether the URL names a file on this machine (a path or ``file://``)."""
        return "://" not in self.url or self.url.startswith("file://")

    @property
    def local_path(self) -> str:
        """The file's path on this machine (for a local source)."""
        return self.url[len("file://") :] if self.url.startswith("file://") else self.url

    def filesystem(self) -> tuple[fsspec.AbstractFileSystem, str]:
        """The fsspec filesystem holding the file, and the file's path on it."""
        import fsspec.core  # start-up: a local file is read without fsspec

        with self._known_protocol():
            fs, path = fsspec.core.url_to_fs(self.url, **dict(self.storage_options or {}))
        return fs, str(path)

    @contextlib.contextmanager
    def _known_protocol(self) -> Iterator[None]:
        """SettingsError for a URL fsspec cannot handle (unknown protocol, a filesystem
        package not installed: its message says which)."""
        try:
            yield
        except (ValueError, ImportError) as exc:
            if isinstance(exc, FramesiftError):
                raise
            raise SettingsError(f"cannot open {self.shown}: {self.redact(str(exc))}") from None

    # errors ---------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` (say, a third-party exception's message) without this source's
        credentials: its URL is shown redacted, its secret option values are masked."""
        return Redactor(self.storage_options)(text.replace(self.url, self.shown))

    def io_error(self, exc: OSError, action: str = "read") -> FramesiftError:
        """The typed error for ``exc``, met while trying to ``action`` this source: the one
        place where framesift maps I/O failures of a source to its own errors."""
        if isinstance(exc, FramesiftError):
            return exc
        if action != "write":
            if isinstance(exc, FileNotFoundError):
                return MediaNotFoundError(self.shown, "no such file")
            if isinstance(exc, IsADirectoryError):
                return NotAVideoError(self.shown, "is a directory, not a video file")
        if isinstance(exc, PermissionError):
            return StorageError(f"{self.shown}: permission denied")
        return StorageError(f"{self.shown}: cannot {action} ({self.redact(str(exc))})")

    @contextlib.contextmanager
    def mapped_errors(self, action: str = "read") -> Iterator[None]:
        """Raise :meth:`io_error` for an OSError in the ``with`` block (framesift's own
        errors pass through unchanged)."""
        try:
            yield
        except FramesiftError:
            raise
        except OSError as exc:
            raise self.io_error(exc, action) from exc

    # reading --------------------------------------------------------------------

    def size_bytes(self) -> int:
        """Size in bytes of the file; MediaNotFoundError when nothing is there."""
        with self.mapped_errors("read"):
            if self.is_local:
                return os.path.getsize(self.local_path)
            fs, path = self.filesystem()
            return int(fs.size(path))

    @contextlib.contextmanager
    def open_file(self) -> Iterator[IO[bytes]]:
        """The file opened for binary reading, through fsspec."""
        import fsspec  # start-up: as in filesystem()

        with self._known_protocol(), self.mapped_errors("open"):
            handle = fsspec.open(self.url, "rb", **dict(self.storage_options or {})).open()
        try:
            yield handle
        finally:
            handle.close()

    @contextlib.contextmanager
    def open_container(self, **av_options: Any) -> Iterator[av.container.InputContainer]:
        """The file opened with PyAV (``av_options`` go to ``av.open``), failures mapped to
        framesift's typed errors."""
        with contextlib.ExitStack() as stack:
            if self.is_local:
                target: Any = self._checked_local_path()
            else:
                target = stack.enter_context(self.open_file())
            container = self._av_open(target, av_options)
            try:
                yield container
            finally:
                container.close()

    def _checked_local_path(self) -> str:
        self.check_regular_file()
        return self.local_path

    def check_regular_file(self) -> None:
        """For a local source: MediaNotFoundError when nothing is there, NotAVideoError for
        a folder, a FIFO, a device or a socket (opening a FIFO or a device blocks or never
        ends). Other sources: nothing to check."""
        if not self.is_local:
            return
        try:
            mode = os.stat(self.local_path).st_mode
        except FileNotFoundError:
            raise MediaNotFoundError(self.shown, "no such file") from None
        except OSError as exc:  # a symlink loop, a permission, a name too long
            raise self.io_error(exc) from None
        if stat.S_ISDIR(mode):
            raise NotAVideoError(self.shown, "is a directory, not a video file")
        if not stat.S_ISREG(mode):
            raise NotAVideoError(self.shown, f"is a {_file_kind(mode)}, not a regular file")

    def _av_open(self, target: Any, av_options: Mapping[str, Any]) -> av.container.InputContainer:
        try:
            container = av.open(target, mode="r", **av_options)
        except av.error.InvalidDataError as exc:
            raise _unreadable(self.shown, target) from exc
        except av.error.EOFError as exc:
            raise TruncatedMediaError(self.shown, "file ends before its header does") from exc
        except av.error.FFmpegError as exc:
            raise NotAVideoError(self.shown, f"cannot open ({exc.strerror})") from exc
        except OSError as exc:
            raise self.io_error(exc, "read") from exc
        if not isinstance(container, av.container.InputContainer):
            container.close()
            raise MediaError(self.shown, "opened as an output container")
        return container


def _head(target: Any, size: int = 12) -> bytes:
    """The first bytes of a path or an open binary file (empty when unreadable)."""
    try:
        if isinstance(target, str):
            with open(target, "rb") as handle:
                return handle.read(size)
        target.seek(0)
        return bytes(target.read(size))
    except (OSError, ValueError):
        return b""


def _unreadable(shown: str, target: Any) -> MediaError:
    """The most telling error for a file FFmpeg could not open."""
    head = _head(target)
    if not head:
        return TruncatedMediaError(shown, "the file is empty")
    if head[4:8] == b"ftyp":
        # An MP4/MOV whose index (the moov box, often written last) is missing: the usual
        # sign of a recording or copy that stopped early.
        return TruncatedMediaError(
            shown, "MP4/MOV file without its index (moov box): probably cut short"
        )
    return NotAVideoError(shown, "not a media file FFmpeg can read")


# --------------------------------------------------------------------------- expanding


def _is_video_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def expand_sources(
    sources: Iterable[str], storage_options: Mapping[str, Any] | None = None
) -> list[str]:
    """Files, folders, globs and URLs -> a sorted list of video URLs, without repeats.

    A named file is kept whatever its extension (it will fail with a typed error if it is
    not a video); folders and globs contribute files with video extensions only. A source
    that does not exist is kept too, so that its failure is recorded in the ledger.
    """
    found: dict[str, None] = {}
    for name in sources:
        source = Source(str(name), storage_options)
        if source.is_local:
            found.update(dict.fromkeys(_expand_local(source)))
        elif source.url.startswith(("http://", "https://")):
            found[source.url] = None  # a URL names one file ('?' starts its query, not a glob)
        else:
            found.update(dict.fromkeys(_expand_remote(source)))
    return list(found)


def find_videos(
    sources: Iterable[str], storage_options: Mapping[str, Any] | None = None
) -> list[str]:
    """:func:`expand_sources` for a batch (``ingest``, ``estimate``): the same list, or a
    MediaNotFoundError when the names hold no video at all (a folder without video files,
    a glob that matches none, a path that does not exist), naming each and what is there.

    One missing file among others is kept, as in :func:`expand_sources`, so that its
    failure is recorded beside the videos that went in."""
    names = [str(name) for name in sources]
    found = expand_sources(names, storage_options)
    missing = [u for u in found if _is_missing_local(u, storage_options)]
    if not names or (found and len(missing) < len(found)):
        return found  # nothing named is nothing to do, not an error
    shown = [Source(name, storage_options) for name in names]
    if len(shown) == 1:
        raise MediaNotFoundError(shown[0].shown, f"{_why_no_videos(shown[0])}: no video to work on")
    problems = "; ".join(f"{s.shown}: {_why_no_videos(s)}" for s in shown)
    raise MediaNotFoundError(", ".join(s.shown for s in shown), f"no video to work on ({problems})")


def _is_missing_local(url: str, storage_options: Mapping[str, Any] | None) -> bool:
    source = Source(url, storage_options)
    return source.is_local and not os.path.exists(source.local_path)


def _why_no_videos(source: Source) -> str:
    """What a name that gave no video holds, in a few words."""
    extensions = ", ".join(sorted(VIDEO_EXTENSIONS)[:6])
    if not source.is_local:
        return "no video files there"
    path = source.local_path
    if any(c in _GLOB_CHARS for c in path):
        return f"matches no video file ({extensions} ...)"
    if os.path.isdir(path):
        return f"a folder without video files ({extensions} ...)"
    if not os.path.exists(path):
        return "no such file or folder"
    return "not a video"


def _expand_local(source: Source) -> list[str]:
    path = source.local_path
    if any(c in _GLOB_CHARS for c in path):
        hits = _glob_local(path)
        if not hits:
            logger.warning("no videos match %s", source.shown)
        return hits
    if not os.path.isdir(path):
        return [os.path.abspath(path)]  # named: kept, and checked when it is opened
    return [os.path.abspath(p) for p in _walk_videos(path, lambda _: True)]


def _file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _walk_videos(top: str, wanted: Callable[[str], bool]) -> Iterator[str]:
    """Regular files with video names under ``top`` (in name order, hidden files left out)
    for which ``wanted(path)`` holds. Symlinked folders are followed once: a folder reached
    again (a symlink loop, or two links to one folder) is skipped with a note, and so is
    every FIFO, device or socket (opening one blocks or never ends)."""
    seen: set[tuple[int, int]] = set()
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError as exc:
            logger.warning("skipping folder %s: %s", folder, exc.strerror or exc)
            continue
        if (info.st_dev, info.st_ino) in seen:
            logger.warning("skipping %s: a folder already searched (symlink loop)", folder)
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            logger.warning("skipping folder %s: %s", folder, exc.strerror or exc)
            continue
        subfolders: list[str] = []
        for entry in entries:
            try:
                mode = os.stat(entry.path).st_mode  # follows symlinks
            except OSError:
                if _is_video_name(entry.name) and wanted(entry.path):
                    yield entry.path  # a dangling link: kept, so its failure is recorded
                continue
            if stat.S_ISDIR(mode):
                subfolders.append(entry.path)
            elif (
                _is_video_name(entry.name) and not entry.name.startswith(".") and wanted(entry.path)
            ):
                if stat.S_ISREG(mode):
                    yield entry.path
                else:
                    logger.warning(
                        "skipping %s: a %s, not a video file", entry.path, _file_kind(mode)
                    )
        stack.extend(reversed(subfolders))


def _glob_local(pattern: str) -> list[str]:
    """Regular video files matching a glob. ``**`` (any folders) is matched on a walk that
    detects symlink loops; other globs list one folder level per component."""
    if "**" not in pattern:
        found = []
        for match in sorted(globlib.glob(pattern)):
            try:
                mode = os.stat(match).st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) and _is_video_name(match):
                found.append(os.path.abspath(match))
            elif not stat.S_ISDIR(mode) and _is_video_name(match):
                logger.warning("skipping %s: a %s, not a video file", match, _file_kind(mode))
        return found
    absolute = os.path.abspath(pattern)
    parts = absolute.split(os.sep)
    literal = next(i for i, part in enumerate(parts) if any(c in _GLOB_CHARS for c in part))
    top = os.sep.join(parts[:literal]) or os.sep
    regex = _glob_regex(parts[literal:])
    prefix = len(top.rstrip(os.sep)) + 1
    return sorted(_walk_videos(top, lambda p: regex.fullmatch(p[prefix:]) is not None))


def _glob_regex(parts: list[str]) -> re.Pattern[str]:
    """A regular expression for the path components of a glob below its literal folder:
    ``**`` is any number of folders, ``*`` and ``?`` stay within one name, ``[...]`` is a
    set of characters."""
    pieces: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            pieces.append(".*" if last else "(?:[^/]+/)*")
            continue
        out = ""
        j = 0
        while j < len(part):
            c = part[j]
            if c == "*":
                out += "[^/]*"
            elif c == "?":
                out += "[^/]"
            elif c == "[" and (end := _set_end(part, j)) > 0:
                body = part[j + 1 : end]
                body = "^" + body[1:] if body.startswith("!") else body
                out += "[" + body.replace("\\", "\\\\") + "]"
                j = end
            else:
                out += re.escape(c)
            j += 1
        pieces.append(out + ("" if last else "/"))
    return re.compile("".join(pieces))


def _set_end(part: str, start: int) -> int:
    """Where the ``[...]`` set opened at ``start`` closes (-1: it does not; a ``]`` first
    in the set, after an optional ``!``, is one of its characters)."""
    first = start + 1
    if part[first : first + 1] == "!":
        first += 1
    if part[first : first + 1] == "]":
        first += 1
    return part.find("]", first)


def _expand_remote(source: Source) -> list[str]:
    fs, path = source.filesystem()
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    with source.mapped_errors("list"):
        if any(c in _GLOB_CHARS for c in path):
            paths = [p for p in fs.glob(path) if _is_video_name(p) and fs.isfile(p)]
            if not paths:
                logger.warning("no videos match %s", source.shown)
        elif fs.isdir(path):
            paths = [p for p in fs.find(path) if _is_video_name(p)]
        else:
            paths = [path]
    return [f"{protocol}://{fs._strip_protocol(p)}" for p in sorted(paths)]
