"""Publish the built console to a deployed stage: `python -m tools.deploy_console --stack aftersales-dev`.

Reads the stack's outputs (EndpointURL, ConsoleBucketName, ConsoleDistributionId, ConsoleUrl), writes
`config.json` beside the assets — the API URL and the Cognito sign-in settings are injected here, at
deploy, never built into the bundle — uploads `console/dist` (hashed assets cached for a year, the
rest — index.html, the service worker and its Workbox runtime, the manifest, icons — `no-cache`, each
with its content type), and invalidates the entry points (index.html, config.json, sw.js, the
manifest). Sign-in: OIDC authorization code + PKCE against the stage's Cognito user pool
(`--user-pool-id`, `--client-id` of an app client whose callback URL is <ConsoleUrl>/callback). Set
CONSOLE_ORIGIN=<ConsoleUrl> in the stage's .chalice/config.json environment so the API's CORS answers
only the console."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tools.console_server import cache_control, content_type

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "console" / "dist"


def stack_outputs(cloudformation, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def console_config(api_url: str, region: str, user_pool_id: str, client_id: str) -> dict:
    return {"apiUrl": api_url.rstrip("/"), "auth": "cognito",
            "cognito": {"authority": f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}", "clientId": client_id}}


def upload(s3, bucket: str, dist: Path, config: dict) -> list[str]:
    """Every file of `dist` plus config.json; returns the keys written."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist}/index.html is missing: run `make console` first")
    written = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        if key in ("config.json", "local-users.json"):
            continue  # config comes from the stack; demo users exist on the local stack only
        # as the local server says: hashed assets for a year; index.html, sw.js, workbox-*.js, the manifest no-cache
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), CacheControl=cache_control(key),
                      ContentType=content_type(key))
        written.append(key)
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config).encode(), CacheControl="no-cache",
                  ContentType="application/json")
    return written + ["config.json"]


def invalidate(cloudfront, distribution: str) -> str:
    paths = ["/index.html", "/config.json", "/", "/sw.js", "/manifest.webmanifest"]
    answer = cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": f"console-{time.time_ns()}"})
    return answer["Invalidation"]["Id"]


def main() -> None:
    import boto3
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", required=True)
    parser.add_argument("--user-pool-id", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--region", default=None)
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    config = console_config(outputs["EndpointURL"], session.region_name, args.user_pool_id, args.client_id)
    keys = upload(session.client("s3"), outputs["ConsoleBucketName"], DIST, config)
    invalidation = invalidate(session.client("cloudfront"), outputs["ConsoleDistributionId"])
    print(f"console: {len(keys)} files to {outputs['ConsoleBucketName']}, invalidation {invalidation}\n"
          f"  open {outputs['ConsoleUrl']}  (API {config['apiUrl']})")


if __name__ == "__main__":
    main()
