"""tools.deploy_console against moto: the API URL and sign-in settings are injected as config.json at
deploy (never built in), hashed assets cached for a year, entry points (index.html, the service worker,
its Workbox runtime, the manifest) no-cache with their content types and invalidated, and
the local stack's demo-user file never reaches a deployed bucket; the stack template has the console
bucket private behind CloudFront with the console's security headers."""
import json
from pathlib import Path

import boto3
from moto import mock_aws

from tools import deploy_console

ROOT = Path(__file__).resolve().parents[2]


def _dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "sw.js").write_text("importScripts('./workbox-774a133b.js')")
    (tmp_path / "workbox-774a133b.js").write_text("self.workbox = {}")
    (tmp_path / "manifest.webmanifest").write_text('{"name": "After-sales console"}')
    (tmp_path / "local-users.json").write_text("[{\"token\": \"secret\"}]")
    return tmp_path


@mock_aws
def test_the_console_goes_up_with_its_config_injected(tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="console-bucket")
    config = deploy_console.console_config("https://api.example.com/api/", "eu-west-1", "eu-west-1_Pool", "client123")
    keys = deploy_console.upload(s3, "console-bucket", _dist(tmp_path), config)
    assert sorted(keys) == ["assets/index-abc123.js", "config.json", "index.html", "manifest.webmanifest", "sw.js",
                            "workbox-774a133b.js"]
    stored = json.loads(s3.get_object(Bucket="console-bucket", Key="config.json")["Body"].read())
    assert stored == {"apiUrl": "https://api.example.com/api", "auth": "cognito",
                      "cognito": {"authority": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", "clientId": "client123"}}
    asset = s3.head_object(Bucket="console-bucket", Key="assets/index-abc123.js")
    assert asset["CacheControl"].endswith("immutable") and asset["ContentType"] == "text/javascript"
    assert s3.head_object(Bucket="console-bucket", Key="index.html")["CacheControl"] == "no-cache"
    # the service worker, its Workbox runtime and the manifest: revalidated every time (a new build is seen at once)
    for key, kind in (("sw.js", "text/javascript"), ("workbox-774a133b.js", "text/javascript"),
                      ("manifest.webmanifest", "application/manifest+json")):
        head = s3.head_object(Bucket="console-bucket", Key=key)
        assert (head["CacheControl"], head["ContentType"]) == ("no-cache", kind), key
    names = [o["Key"] for o in s3.list_objects_v2(Bucket="console-bucket")["Contents"]]
    assert "local-users.json" not in names


def test_the_stack_serves_the_console_privately_with_its_headers():
    for stage in ("dev", "prod"):
        resources = json.loads((ROOT / ".chalice" / f"resources-{stage}.json").read_text())["Resources"]
        bucket = resources["ConsoleBucket"]["Properties"]
        assert all(bucket["PublicAccessBlockConfiguration"].values())
        distribution = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
        assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
        assert {e["ErrorCode"] for e in distribution["CustomErrorResponses"]} == {403, 404}  # the SPA's routes
        policy = resources["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        csp = policy["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        scripts = csp.split("script-src")[1].split(";")[0]
        assert scripts.strip() == "'self'"  # no inline script, no eval (the form validator and Vega interpret)
        assert "frame-ancestors 'none'" in csp
        statement = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"} and "AWS:SourceArn" in json.dumps(statement)


@mock_aws
def test_a_deploy_invalidates_the_service_worker_and_the_manifest_with_the_entry_points():
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "console", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "console-bucket.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})
    distribution = created["Distribution"]["Id"]
    invalidation = deploy_console.invalidate(cloudfront, distribution)
    paths = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)["Invalidation"]["InvalidationBatch"]["Paths"]
    assert {"/index.html", "/config.json", "/sw.js", "/manifest.webmanifest"} <= set(paths["Items"])
