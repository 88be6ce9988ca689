"""Canary secrets never printed at any verbosity nor written anywhere in the catalog.

Fake credentials are set where users put them (the AWS environment with a session token,
``--storage-option`` values, a key and secret inside the catalog URL); every command's
stdout and stderr at ``-v`` and ``-vv``, and every file the catalog and its local cache
hold, are searched for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog_support import SRC, S3Server, Videos

pytest_plugins = ["fixtures_catalog"]

pytestmark = pytest.mark.s3

TOKEN = "CANARYsessionTOKEN0000xyzzy"
ENV_SECRET = "CANARYenvSECRET1111plugh"
ENV_KEY = "CANARYENVKEYID22"
OPTION_SECRET = "CANARYoptionSECRET3333"
URL_SECRET = "CANARYurlSECRET4444"
CANARIES = (TOKEN, ENV_SECRET, ENV_KEY, OPTION_SECRET, URL_SECRET)


def framesift(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "framesift.cli", *args],
        env={**os.environ, "PYTHONPATH": SRC, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    text = done.stdout + done.stderr
    assert "Traceback" not in text, text
    return text


def test_no_canary_in_any_output_or_file(
    s3_server: S3Server, videos: Videos, tmp_path: Path
) -> None:
    bucket = s3_server.create_bucket()
    cache = tmp_path / "cache"
    env = {
        "AWS_ACCESS_KEY_ID": ENV_KEY,
        "AWS_SECRET_ACCESS_KEY": ENV_SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": "us-east-1",
        "FRAMESIFT_CACHE_DIR": str(cache),
    }
    endpoint = ["--storage-option", f"endpoint_url={s3_server.endpoint_url}"]
    catalog = ["--catalog", f"s3://{bucket}/cat", *endpoint]
    outputs: list[str] = []
    for verbose in ("-v", "-vv"):
        outputs.append(framesift([verbose, "ingest", str(videos.folder), *catalog], env))
        outputs.append(framesift([verbose, "catalog", "summary", *catalog], env))
        if verbose == "-vv":  # the -v output of these is a subset of their -vv output
            outputs.append(framesift([verbose, "catalog", "check", *catalog], env))
            outputs.append(framesift([verbose, "search", "anything", *catalog], env))
            outputs.append(framesift([verbose, "catalog", "compact", *catalog], env))
            vacuum = ["catalog", "vacuum", "--grace", "0", *catalog]
            outputs.append(framesift([verbose, *vacuum], env))
        # credentials as storage options, and inside the URL
        with_options = [
            *catalog,
            "--storage-option",
            f"key={ENV_KEY}",
            "--storage-option",
            f"secret={OPTION_SECRET}",
        ]
        outputs.append(framesift([verbose, "catalog", "summary", *with_options], env))
        in_url = [f"s3://{ENV_KEY}:{URL_SECRET}@{bucket}/cat", *endpoint]
        outputs.append(framesift([verbose, "catalog", "summary", *in_url], env))
        # failures: a missing bucket, a wrong secret
        missing = [f"s3://no-such-bucket-{bucket}/cat", *endpoint]
        failed = framesift([verbose, "catalog", "summary", *missing], env)
        assert f"no-such-bucket-{bucket}" in failed
        outputs.append(failed)
    everything = "\n".join(outputs)
    assert "botocore" not in everything  # third-party debug logs are held back
    assert "INFO framesift" in everything  # while framesift's own log lines still show
    for canary in CANARIES:
        assert canary not in everything, canary
    written = [p for p in [*cache.rglob("*")] if p.is_file()]
    assert written  # the local cache of the remote catalog was used
    for path in written:
        data = path.read_bytes()
        for canary in CANARIES:
            assert canary.encode() not in data, (path, canary)
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.startswith("cat/commits/") for k in keys)
    for key in keys:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for canary in CANARIES:
            assert canary.encode() not in data, (key, canary)
