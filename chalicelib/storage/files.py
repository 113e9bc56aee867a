"""S3 access for attachment and import uploads: presigned POST/GET, HEAD, read, tags. The boto3
client is created on first use (Lambda cold start) and points at the stage's bucket and, on the local
stack, at moto's server (S3_ENDPOINT)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .. import mediatypes
from ..config import get_settings
from ..errors import ServiceUnavailable
from . import keys

PENDING_TAG = "<Tagging><TagSet><Tag><Key>upload</Key><Value>pending</Value></Tag></TagSet></Tagging>"
_client = None
_client_key: tuple | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str


def client():
    """The S3 client for the current settings (re-created when tests change the endpoint)."""
    global _client, _client_key
    settings = get_settings()
    wanted = (settings.region, settings.s3_endpoint)
    with _lock:
        if _client is None or _client_key != wanted:
            import boto3
            from botocore.config import Config
            # Path-style addressing: works with moto's server and any bucket name; SigV4 for presigning.
            config = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                            retries={"max_attempts": 3, "mode": "standard"})
            _client = boto3.client("s3", region_name=settings.region, endpoint_url=settings.s3_endpoint, config=config)
            _client_key = wanted
        return _client


def _checked(key: str) -> tuple[str, ...]:
    """Every S3 call goes through here: a key outside the layout (storage.keys) is never signed or read."""
    segments = keys.object_key_segments(key)
    if segments is None:
        raise keys.UnsafeKey(f"not an object key of this app: {str(key)[:80]!r}")
    return segments


def bucket() -> str:
    return get_settings().uploads_bucket


def presigned_post(key: str, content_type: str, size: int, *, max_size: int | None = None,
                   expires: int | None = None) -> dict:
    """{url, fields} for a browser/phone form POST that S3 accepts only for exactly this key, content
    type and size — or any size from `size` to `max_size` (moto does not enforce the conditions: the
    server checks the object itself). Tagged 'pending': the bucket's lifecycle expires it."""
    _checked(key)
    conditions: list[Any] = [{"key": key}, {"Content-Type": content_type},
                             ["content-length-range", size, max_size or size], {"tagging": PENDING_TAG}]
    fields = {"Content-Type": content_type, "tagging": PENDING_TAG}
    try:
        return client().generate_presigned_post(bucket(), key, Fields=fields, Conditions=conditions,
                                                ExpiresIn=expires or get_settings().upload_post_seconds)
    except Exception as exc:  # botocore errors: credentials, endpoint
        raise ServiceUnavailable("file storage is unavailable; retry", code="storage_unavailable") from exc


def presigned_get(key: str, filename: str | None = None, content_type: str | None = None) -> tuple[str, int]:
    """A short-lived GET that always fixes how the browser treats the object, whatever S3 stored with it:
    a raster image inline with its own type; anything else a download (Content-Disposition attachment),
    active content (SVG, HTML, XML, JavaScript) typed application/octet-stream. The filename is sanitised."""
    seconds = get_settings().download_url_seconds
    disposition, served = mediatypes.serving(content_type, filename, fallback=_checked(key)[-1])
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key, "ResponseContentDisposition": disposition,
                              "ResponseContentType": served}
    return client().generate_presigned_url("get_object", Params=params, ExpiresIn=seconds), seconds


def _object_call(operation: str, key: str) -> dict | None:
    """head_object / get_object of the key; None when the object does not exist."""
    from botocore.exceptions import ClientError
    _checked(key)
    try:
        return getattr(client(), operation)(Bucket=bucket(), Key=key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise ServiceUnavailable("file storage is unavailable; retry", code="storage_unavailable") from exc


def head(key: str) -> ObjectInfo | None:
    """Size and content type of an object, or None when it does not exist."""
    response = _object_call("head_object", key)
    if response is None:
        return None
    return ObjectInfo(size=int(response.get("ContentLength", -1)),
                      content_type=str(response.get("ContentType", "")).split(";")[0].strip().lower())


class TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"object has {size} bytes")
        self.size = size


def read(key: str, max_bytes: int) -> bytes | None:
    """The object's bytes, None when it does not exist; TooLarge (before reading it) past max_bytes."""
    got = read_typed(key, max_bytes)
    return None if got is None else got[0]


def read_typed(key: str, max_bytes: int) -> tuple[bytes, str] | None:
    """(bytes, stored content type) of the object, None when it does not exist; TooLarge (before
    reading it) past max_bytes."""
    response = _object_call("get_object", key)
    if response is None:
        return None
    body = response["Body"]
    try:
        size = int(response.get("ContentLength", -1))
        if size > max_bytes:
            raise TooLarge(size)
        data = body.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge(len(data))
        return data, mediatypes.essence(response.get("ContentType"))
    finally:
        body.close()


def mark_attached(key: str, state: str = "attached") -> None:
    """Replace the 'pending' tag (the bucket's lifecycle expires pending objects) with 'attached'
    (or back to 'pending' when the attaching write failed)."""
    from botocore.exceptions import ClientError
    _checked(key)
    try:
        client().put_object_tagging(Bucket=bucket(), Key=key, Tagging={"TagSet": [{"Key": "upload", "Value": state}]})
    except ClientError as exc:
        raise ServiceUnavailable("file storage is unavailable; retry", code="storage_unavailable") from exc


def create_bucket() -> None:
    """Local stack and tests only (deployed stages get the bucket from CloudFormation)."""
    from botocore.exceptions import ClientError
    try:
        kwargs: dict[str, Any] = {"Bucket": bucket()}
        if get_settings().region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": get_settings().region}
        client().create_bucket(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def reset_client() -> None:
    global _client, _client_key
    with _lock:
        _client, _client_key = None, None


__all__ = ["ObjectInfo", "TooLarge", "presigned_post", "presigned_get", "head", "read", "read_typed", "mark_attached", "create_bucket", "reset_client"]
