"""tools.s3server: the local stack's S3 keeps objects on disk, so a photo uploaded before a restart of
`make run` is still served after it (bytes, content type, tags), and a deleted object stays deleted."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "uploads-local-test"
KEY = "t/acme/work_order/01HX/fault_photos/ü pic.jpg"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, data_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tools.s3server", "-p", str(port), "--data-dir", str(data_dir)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("tools.s3server did not answer")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _client(port: int):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_objects_survive_a_restart_and_deletes_stay_deleted(tmp_path):
    port, data = _free_port(), tmp_path / "s3"
    proc = _start(port, data)
    try:
        s3 = _client(port)
        s3.create_bucket(Bucket=BUCKET)
        # the browser's way in: a presigned POST with the policy's conditions
        post = s3.generate_presigned_post(BUCKET, KEY, Fields={"Content-Type": "image/jpeg"},
                                          Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 10_000]])
        answer = requests.post(post["url"], data=post["fields"], files={"file": ("pic.jpg", JPEG)}, timeout=10)
        assert answer.status_code == 204
        s3.put_object_tagging(Bucket=BUCKET, Key=KEY, Tagging={"TagSet": [{"Key": "state", "Value": "confirmed"}]})
        s3.put_object(Bucket=BUCKET, Key="t/acme/gone.txt", Body=b"soon deleted")
        s3.delete_object(Bucket=BUCKET, Key="t/acme/gone.txt")
    finally:
        _stop(proc)
    assert len(list((data / BUCKET / "objects").iterdir())) == 1

    proc = _start(port, data)
    try:
        s3 = _client(port)
        found = s3.get_object(Bucket=BUCKET, Key=KEY)
        assert found["Body"].read() == JPEG and found["ContentType"] == "image/jpeg"
        assert s3.get_object_tagging(Bucket=BUCKET, Key=KEY)["TagSet"] == [{"Key": "state", "Value": "confirmed"}]
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [KEY]
        url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
        assert requests.get(url, timeout=10).content == JPEG  # the report's and the console's way out
    finally:
        out = _stop(proc)
    assert "1 object(s) restored" in out
