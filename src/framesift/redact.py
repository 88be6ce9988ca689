"""Credentials never reach a log line, an error message or a catalog row.

* :func:`redact_url`: a URL without ``user:password@`` and with secret-looking query
  values masked (``?X-Amz-Signature=***``).
* :func:`redact_options`: fsspec ``storage_options`` with secret values masked.
* :class:`Redactor`: masks known secret values (from storage options and the AWS
  environment) in any text, such as messages built from third-party exceptions.
* :class:`RedactingFilter`: a logging filter that passes every record, traceback included,
  through a Redactor (the command line puts one on its log handler).

This module is the one home of redaction: storage, sources and the catalog import it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "RedactingFilter", "Redactor", "redact_options", "redact_url"]

REDACTED = "***"

_SECRET_NAME = re.compile(r"(key|secret|token|password|passwd|credential|signature|auth)", re.I)
_PUBLIC_NAMES = frozenset({"key_prefix", "sse_kms_key_id_public"})
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def _is_secret_name(name: str) -> bool:
    return name.lower() not in _PUBLIC_NAMES and bool(_SECRET_NAME.search(name))


def redact_url(url: str) -> str:
    """``url`` without ``user:password@`` and with secret-looking query values masked."""
    url = _USERINFO.sub(f"{REDACTED}@", url)
    if "?" not in url or "://" not in url:
        return url
    parts = urlsplit(url)
    query = [
        (name, REDACTED if _is_secret_name(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def redact_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of fsspec ``storage_options`` with secret values (key, secret, token, ...)
    replaced by ``***``, nested dicts (``client_kwargs``, ``config_kwargs``) included."""
    out: dict[str, Any] = {}
    for name, value in (options or {}).items():
        if isinstance(value, Mapping):
            out[name] = redact_options(value)
        elif _is_secret_name(str(name)) and value is not None:
            out[name] = REDACTED
        else:
            out[name] = value
    return out


def _secret_values(options: Mapping[str, Any] | None) -> list[str]:
    found: list[str] = []
    for name, value in (options or {}).items():
        if isinstance(value, Mapping):
            found.extend(_secret_values(value))
        elif _is_secret_name(str(name)) and isinstance(value, str) and len(value) >= 4:
            found.append(value)
    return found


def _userinfo_values(url: str) -> list[str]:
    """The user and password of a URL's ``user:password@`` (masked wherever they appear,
    also where a library quotes them without the ``://`` before them)."""
    if "://" not in url:
        return []
    authority = url.split("://", 1)[1].split("/", 1)[0]
    if "@" not in authority:
        return []
    userinfo = authority.rsplit("@", 1)[0]
    return [v for v in (userinfo, *userinfo.split(":", 1)) if len(v) >= 4]


class Redactor:
    """Masks known secret values (from storage options and the AWS environment) and URL
    credentials in any text: use it on messages built from third-party exceptions."""

    _ENV_SECRETS = (
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ACCESS_KEY_ID",
    )

    def __init__(
        self, storage_options: Mapping[str, Any] | None = None, urls: Iterable[str] = ()
    ) -> None:
        secrets = _secret_values(storage_options)
        secrets += [v for url in urls for v in _userinfo_values(url)]
        secrets += [v for n in self._ENV_SECRETS if len(v := os.environ.get(n, "")) >= 4]
        # Longest first, so a secret containing another one is masked whole.
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = _USERINFO.sub(f"{REDACTED}@", text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class RedactingFilter(logging.Filter):
    """Masks secrets in every record it sees: the message with its arguments, and the
    traceback text. Put it on a handler, so records of every logger pass through it."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    @property
    def redactor(self) -> Redactor:
        return self._redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True
