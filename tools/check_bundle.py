"""Check the Lambda bundle that `chalice package` built: what is in it, and that it runs on bare Python.

    python -m tools.check_bundle build/package/deployment.zip

Prints the zip's size and its largest top-level entries, fails when a development-only package made
it into the bundle (the chalice command line's dependencies, test tools), then unzips it and imports
`app` with an interpreter that sees nothing but the bundle (`python -S -I`: no site-packages, no
PYTHONPATH, no user site), as the Lambda runtime would, and has the app answer one API Gateway event
(`GET /health`) through its own handler.
"""
from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Never needed at run time: the chalice CLI's dependencies and the test/tooling packages.
FORBIDDEN = {"pip", "setuptools", "wheel", "click", "inquirer", "blessed", "jinxed", "readchar", "editor",
             "wcwidth", "yaml", "moto", "pytest", "hypothesis", "jsonschema", "cfnlint", "werkzeug", "flask"}

SMOKE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ.update({"STAGE": "local", "AUTH_MODE": "local", "AWS_DEFAULT_REGION": "us-east-1",
                   "DEFINITIONS_TABLE": "t-definitions", "RECORDS_TABLE": "t-records",
                   "UPLOADS_BUCKET": "t-uploads", "JWT_ISSUER": "bundle-check",
                   "LOCAL_JWT_SECRET": "bundle-check-" + "x" * 32})
import logging, time
logging.basicConfig(level=logging.ERROR)
started = time.perf_counter()
import app
import_ms = (time.perf_counter() - started) * 1000
logging.getLogger("aftersales").setLevel(logging.ERROR)
leaked = sorted(p for p in sys.path if "site-packages" in p)
assert not leaked, f"site-packages on the path: {leaked}"
event = {"resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {"Host": "x"},
         "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/health", "httpMethod": "GET", "stage": "api",
                            "requestId": "bundle-check", "identity": {"sourceIp": "127.0.0.1"}}}
class Context:
    aws_request_id = "bundle-check"
    function_name = "bundle-check"
    memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self):
        return 29000
reply = app.app(event, Context())
print(json.dumps({"import_ms": round(import_ms), "routes": len(app.app.routes), "health_status": reply["statusCode"], "body": reply["body"][:500],
                  "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def sizes(zip_path: Path) -> tuple[int, collections.Counter]:
    by_top: collections.Counter = collections.Counter()
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            top = info.filename.split("/")[0]
            if top.endswith(".dist-info"):
                top = top.split("-")[0] + " (dist-info)"
            by_top[top] += info.compress_size
    return zip_path.stat().st_size, by_top


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("zip", type=Path)
    args = parser.parse_args()
    total, by_top = sizes(args.zip)
    print(f"{args.zip}: {total / 1e6:.1f} MB")
    for name, size in by_top.most_common(12):
        print(f"  {size / 1e6:6.2f} MB  {name}")
    packages = {name.removesuffix(".py").split(" ")[0].lower() for name in by_top}
    leaked = sorted(packages & FORBIDDEN)
    if leaked:
        sys.exit(f"development-only packages in the bundle: {', '.join(leaked)}")
    with tempfile.TemporaryDirectory() as unpacked:
        with zipfile.ZipFile(args.zip) as z:
            z.extractall(unpacked)
        run = subprocess.run([sys.executable, "-S", "-I", "-c", SMOKE, unpacked], capture_output=True, text=True,
                             timeout=120, cwd=unpacked)
    if run.returncode:
        sys.exit(f"`import app` from the bundle failed:\n{run.stderr[-3000:]}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    if result["health_status"] != 200:
        sys.exit(f"GET /health from the bundle answered {result['health_status']}: {result['body']}\n{run.stderr[-3000:]}")
    print(f"bare-Python import of the bundle: `import app` {result['import_ms']} ms, {result['routes']} routes, "
          f"GET /health {result['health_status']}")


if __name__ == "__main__":
    main()
