"""moto's server (the local stack's S3 and SQS) with S3 objects kept on disk, so uploaded photos,
signatures and files survive a restart of `make run`.

    python -m tools.s3server [-H 127.0.0.1] [-p 8002] [--data-dir .local/s3]

moto's server keeps everything in memory and has no persistence of its own (its recorder replays every
request of every service — queue receives and deletes too — from an ever-growing log). Here moto still
answers every request (presigned POST uploads with their policy conditions, presigned GET, HEAD,
tagging, SQS), and a thin layer mirrors S3 to files: the backend methods that change an object mark it,
and after each request the marked objects are written (`<dir>/<bucket>/objects/<quoted key>`, with its
metadata — content type, user metadata — and tags in `<dir>/<bucket>/meta/<quoted key>.json`) or
removed. At start the files are loaded back into moto before the first request is served. Without
--data-dir it is plain moto_server (in memory). SQS queues and messages stay in memory."""
from __future__ import annotations

import argparse
import json
import os
import threading
from pathlib import Path
from urllib.parse import quote, unquote

_dirty: set[tuple[str, str]] = set()
_dirty_lock = threading.Lock()
_flush_lock = threading.Lock()


def _backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    return s3_backends[DEFAULT_ACCOUNT_ID]["global"]


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _paths(self, bucket: str, key: str) -> tuple[Path, Path]:
        name = quote(key, safe="")  # one flat file per key: no '/', no '..' reaches the file system
        return self.root / bucket / "objects" / name, self.root / bucket / "meta" / f"{name}.json"

    def save(self, bucket: str, key: str) -> None:
        backend = _backend()
        data_path, meta_path = self._paths(bucket, key)
        try:
            found = backend.get_object(bucket, key)
        except Exception:  # the bucket or key is gone
            found = None
        if found is None:
            data_path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            return
        meta = {"key": key, "metadata": dict(found.metadata),
                "tags": {t["Key"]: t["Value"] for t in backend.get_object_tagging(found)["Tags"]}}
        for path, content in ((data_path, found.value), (meta_path, json.dumps(meta).encode())):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, path)  # a crash leaves the old file or the new one, never half of one

    def save_bucket(self, bucket: str) -> None:
        (self.root / bucket / "objects").mkdir(parents=True, exist_ok=True)

    def restore(self, region: str = "us-east-1") -> int:
        """Load every stored bucket and object into moto; returns the number of objects."""
        backend = _backend()
        count = 0
        if not self.root.is_dir():
            return 0
        for bucket_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            bucket = bucket_dir.name
            if bucket not in backend.buckets:
                backend.create_bucket(bucket, region)
            objects = bucket_dir / "objects"
            for data_path in sorted(objects.iterdir()) if objects.is_dir() else []:
                if data_path.name.endswith(".tmp"):
                    continue
                meta_path = bucket_dir / "meta" / f"{data_path.name}.json"
                meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
                key = meta.get("key") or unquote(data_path.name)
                stored = backend.put_object(bucket, key, data_path.read_bytes())
                stored.set_metadata(meta.get("metadata") or {})
                if meta.get("tags"):
                    backend.put_object_tagging(stored, meta["tags"])
                count += 1
        return count


def _mark(bucket: str, key: str) -> None:
    with _dirty_lock:
        _dirty.add((bucket, key))


def install_hooks() -> None:
    """Wrap the S3 backend methods that change objects so each change is marked for the next flush."""
    from moto.s3.models import S3Backend

    def wrap(name, bucket_and_key):
        original = getattr(S3Backend, name)

        def changed(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            for bucket, key in bucket_and_key(args, kwargs, result):
                if bucket and key:
                    _mark(bucket, key)
            return result
        setattr(S3Backend, name, changed)

    def arg(args, kwargs, i, name):
        return kwargs.get(name) if name in kwargs else (args[i] if len(args) > i else None)

    def of_key(key):
        return [(getattr(key, "bucket_name", None), getattr(key, "name", None))]
    wrap("put_object", lambda a, k, r: [(arg(a, k, 0, "bucket_name"), arg(a, k, 1, "key_name"))])
    wrap("delete_object", lambda a, k, r: [(arg(a, k, 0, "bucket_name"), arg(a, k, 1, "key_name"))])
    wrap("put_object_tagging", lambda a, k, r: of_key(arg(a, k, 0, "key")))
    if hasattr(S3Backend, "delete_object_tagging"):
        wrap("delete_object_tagging", lambda a, k, r: [(arg(a, k, 0, "bucket_name"), arg(a, k, 1, "key_name"))])
    if hasattr(S3Backend, "delete_objects"):
        wrap("delete_objects", lambda a, k, r: [(arg(a, k, 0, "bucket_name"), obj.get("Key") if isinstance(obj, dict) else obj)
                                                for obj in (arg(a, k, 1, "objects") or [])])
    create = S3Backend.create_bucket

    def create_bucket(self, bucket_name, *args, **kwargs):
        result = create(self, bucket_name, *args, **kwargs)
        _mark(bucket_name, "")
        return result
    S3Backend.create_bucket = create_bucket


def flush(store: Store) -> None:
    with _flush_lock:
        with _dirty_lock:
            pending = sorted(_dirty)
            _dirty.clear()
        for bucket, key in pending:
            if key:
                store.save(bucket, key)
            else:
                store.save_bucket(bucket)


def persisting(app, store: Store):
    """WSGI middleware: after each request, write what it changed (moto builds the whole response first)."""
    def wrapped(environ, start_response):
        try:
            return app(environ, start_response)
        finally:
            if environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE"):
                flush(store)
    return wrapped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.s3server", description=__doc__.split("\n\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8002)
    parser.add_argument("--data-dir", help="keep S3 buckets and objects here (default: in memory only)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    import signal

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from moto.server import signal_handler
    from werkzeug.serving import run_simple
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal_handler)
    app = DomainDispatcherApplication(create_backend_app)
    if args.data_dir:
        store = Store(Path(args.data_dir))
        restored = store.restore()
        install_hooks()
        print(f"s3server: {restored} object(s) restored from {args.data_dir}", flush=True)
        app = persisting(app, store)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
