"""The local worker (tools/localworker.py) on DynamoDB Local's real stream and moto's SQS server
(in-process ThreadedMotoServer): a record written through the app reaches both stream handlers after one
poll (report aggregate + event on the FIFO queue), stream positions survive a restart, scheduled handlers
run on their local rate, an inbound SQS message becomes a record and is deleted (a malformed one goes to
the DLQ), a failing handler is logged and retried while the loop goes on. Shard rollover and expired
iterators against a fake streams client. Every test calls the worker's single steps: no sleeps."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from tests.api.helpers import MANAGER, new_customer, new_work_order
from tests.api.test_inbound_api import CREATE, FORM
from tools import localworker

@pytest.fixture(scope="module")
def sqs_endpoint():
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def stack(ddblocal_backend, sqs_endpoint, monkeypatch, tmp_path):
    """DynamoDB Local tables with a stream, queues on moto's server, the shipped app in tenant demo."""
    from chalice.test import Client

    from app import app
    from chalicelib.config import reset_settings
    from chalicelib.seed import install_app
    from chalicelib.storage import queues
    from tests.conftest import ApiClient

    env = localworker.create_queues(sqs_endpoint, prefix=f"t{uuid.uuid4().hex[:8]}")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    queues.reset_client()
    install_app("demo")
    worker = localworker.Worker(app, checkpoint_path=tmp_path / "checkpoints.json",
                                queue_urls={"inbound_messages": env["INBOUND_QUEUE_URL"]})
    with Client(app) as client:
        api = ApiClient(client.http)
        api.env, api.worker = env, worker
        api.sqs = localworker.sqs_client(sqs_endpoint, "us-east-1")
        yield api
    queues.reset_client()


def receive_all(api, url):
    out = []
    while True:
        batch = api.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                        VisibilityTimeout=0).get("Messages", [])
        if not batch:
            return out
        out.extend(batch)
        api.sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                             for i, m in enumerate(batch)])


def drain(worker):
    """Hand the stream's backlog (the app install's writes) to the handlers: a few polls at most."""
    for _ in range(20):
        if worker.poll_streams() == 0:
            return
    raise AssertionError("the stream never ran dry")


def worker_lines(caplog, prefix):
    return [r.getMessage() for r in caplog.records if r.name == "localworker" and r.getMessage().startswith(prefix)]


@pytest.mark.ddblocal
def test_record_reaches_both_stream_handlers_after_one_poll(stack, caplog):
    api, worker = stack, stack.worker
    assert {c.name for c in worker.consumers} == {"record_events", "maintain_reports"}
    drain(worker)
    receive_all(api, api.env["EVENTS_QUEUE_URL"])
    # built (empty) and serving before the order exists: only the stream can count it from here on
    assert api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["rows"] == []
    customer = new_customer(api)
    order = new_work_order(api, customer["id"], priority="urgent")
    assert api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["rows"] == []

    caplog.set_level("INFO", logger="localworker")
    assert worker.poll_streams() > 0  # ONE poll

    rows = api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["rows"]  # maintain_reports
    assert [(r["region"], r["status"], r["orders"], r["urgent"]) for r in rows] == [("north", "Review", 1, 1)]
    events = [json.loads(m["Body"]) for m in receive_all(api, api.env["EVENTS_QUEUE_URL"])]  # record_events
    assert {(e["type"], e["record_id"]) for e in events} >= {("record.created", order["id"]), ("record.created", customer["id"])}
    lines = worker_lines(caplog, "stream ")
    assert any(line.startswith("stream record_events: ") for line in lines)
    assert any(line.startswith("stream maintain_reports: ") for line in lines)
    # positions were saved: a restarted worker replays nothing, one without a checkpoint reads from the start
    drain(worker)  # the aggregates live in the records table: their own writes are on the stream too
    from app import app
    again = localworker.Worker(app, checkpoint_path=worker.checkpoint_path)
    assert again.poll_streams() == 0
    fresh = localworker.Worker(app, checkpoint_path=None)
    assert fresh.poll_streams() > 0  # TRIM_HORIZON; the handlers are idempotent:
    assert [(r["orders"], r["urgent"]) for r in api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["rows"]] == [(1, 1)]


@pytest.mark.ddblocal
def test_scheduled_jobs_run_on_their_local_rate(stack, caplog):
    api, worker = stack, stack.worker
    caplog.set_level("INFO", logger="localworker")
    names = {job["name"] for job in worker.schedules}
    assert names >= {"fire_timers", "send_mail", "retry_webhooks", "continue_imports", "run_report_backfills"}
    assert all(job["every"] == 15 for job in worker.schedules)  # 1-minute rates, every 15 s locally
    # a new report version is built by the backfill schedule while the old one serves
    assert api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["version"] == 1
    raw = json.loads(open("definitions/after_sales/reports/orders_by_region_status.json").read())
    raw["measures"].append({"name": "high", "op": "count", "where": "priority == 'high'"})
    assert api.call("POST", "/definitions/report/orders_by_region_status/versions", body=raw).status_code == 201
    assert api.call("GET", "/reports/orders_by_region_status/status", **MANAGER).json["building"] == 2

    now = [1000.0]
    worker.clock = lambda: now[0]
    assert worker.run_schedules() == len(names)  # all due at start
    status = api.call("GET", "/reports/orders_by_region_status/status", **MANAGER).json
    assert status["status"] == "done" and status["serving"] == 2
    lines = worker_lines(caplog, "schedule ")
    ran = {name for line in lines for name in line[len("schedule "):].split(" -> ")[0].split(": nothing")[0].split(", ")}
    assert ran == names  # one line per job that did something, one shared line for the idle ones
    assert any(line.startswith('schedule run_report_backfills -> {"advanced":1}') for line in lines), lines
    assert any(line.endswith("nothing to do", 0, line.rindex(" (")) for line in lines), lines
    now[0] += 5
    assert worker.run_schedules() == 0  # not yet
    now[0] += 10
    assert worker.run_schedules() == len(names)


@pytest.mark.ddblocal
def test_inbound_message_becomes_a_record_and_is_deleted(stack, caplog):
    api, worker = stack, stack.worker
    caplog.set_level("INFO", logger="localworker")
    assert api.call("POST", "/definitions/form/account/versions", body=FORM).status_code == 201
    assert api.call("POST", "/definitions/integration_mapping/erp_account/versions", body=CREATE).status_code == 201
    inbound = api.env["INBOUND_QUEUE_URL"]
    api.sqs.send_message(QueueUrl=inbound, MessageBody=json.dumps(
        {"tenant": "demo", "mapping": "erp_account", "data": {"no": 7, "title": "From the ERP"}}))
    api.sqs.send_message(QueueUrl=inbound, MessageBody="not json")

    assert worker.poll_queues() == 2

    items = api.call("GET", "/forms/account/records?limit=10").json["items"]
    assert [(i["data"], i["created_by"]) for i in items] == [({"name": "From the ERP"}, "integration:erp_account")]
    attributes = api.sqs.get_queue_attributes(QueueUrl=inbound, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    [dead] = receive_all(api, api.env["INBOUND_DLQ_URL"])
    assert dead["Body"] == "not json" and dead["MessageAttributes"]["reason"]["StringValue"].startswith("malformed")
    assert worker_lines(caplog, "sqs inbound_messages: 2 message(s) -> 2 deleted, 0 failed")
    assert worker.poll_queues() == 0


@pytest.mark.ddblocal
def test_failing_handlers_are_logged_and_the_loop_goes_on(ddblocal_backend, caplog):
    """A handler that raises: traceback logged, its batch offered again, the other jobs still run;
    SNS handlers are listed as not run locally."""
    from chalice import Chalice, Rate

    from chalicelib.storage.models import RecordItem

    app = Chalice(app_name="fake")
    seen, later, ticks = [], [], []

    @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-east-1:1:table/x/stream/y", starting_position="TRIM_HORIZON")
    def flaky(event):
        seen.append([r.sequence_number for r in event])
        if len(seen) == 1:
            raise RuntimeError("boom")
        return {"n": len(seen[-1])}

    @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:us-east-1:1:table/x/stream/y")  # LATEST: Chalice's default
    def latest(event):
        later.extend(r.keys["pk"]["S"] for r in event)

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def broken(event):
        raise ValueError("nope")

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def tick(event):
        ticks.append(event.to_dict()["detail-type"])

    @app.on_sns_message(topic="bounces")
    def bounces(event):
        raise AssertionError("not run locally")

    client = RecordItem._get_connection().connection.client

    def put(pk):
        client.put_item(TableName=RecordItem.Meta.table_name, Item={"pk": {"S": pk}, "sk": {"S": "R"}})

    caplog.set_level("INFO", logger="localworker")
    put("T#demo#R#x")
    put("T#demo#R#y")
    worker = localworker.Worker(app, schedule_seconds=10)
    assert "not run locally: bounces (SNS)" in worker.describe()
    assert worker.poll_streams() == 0  # flaky raised; latest started after x and y
    assert "RuntimeError: boom" in "\n".join(r.getMessage() for r in caplog.records)
    put("T#demo#R#z")
    assert worker.poll_streams() == 2 + 1  # flaky: the same batch again; latest: z
    assert seen[0] == seen[1] and len(seen[0]) == 2 and later == ["T#demo#R#z"]
    assert worker.poll_streams() == 1 and len(seen[2]) == 1  # flaky: z
    assert worker.poll_streams() == 0
    assert worker.run_schedules() == 2 and ticks == ["Scheduled Event"]
    assert "ValueError: nope" in "\n".join(r.getMessage() for r in caplog.records)
    assert [job["every"] for job in worker.schedules] == [10, 10]


@pytest.mark.ddblocal
def test_local_records_table_has_the_deployed_stream(ddblocal_backend):
    """create_tables gives the records table a NEW_AND_OLD_IMAGES stream, also when an older local
    table was made without one."""
    from chalicelib.storage import create_tables
    from chalicelib.storage.models import RecordItem

    client = RecordItem._get_connection().connection.client

    def spec():
        return client.describe_table(TableName=RecordItem.Meta.table_name)["Table"].get("StreamSpecification") or {}

    assert spec() == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    client.update_table(TableName=RecordItem.Meta.table_name, StreamSpecification={"StreamEnabled": False})
    assert not spec().get("StreamEnabled")
    create_tables()
    assert spec() == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


class FakeStreams:
    """dynamodbstreams stand-in for shard rollover: shards are listed, closed and born by the test."""

    class exceptions:  # noqa: N801 - the botocore client's attribute name
        class ClientError(Exception):
            pass

        class ExpiredIteratorException(ClientError):
            pass

        class TrimmedDataAccessException(ClientError):
            pass

        class ResourceNotFoundException(ClientError):
            pass

    def __init__(self):
        self.shards = []  # [{"ShardId", "ParentShardId"?, "records": [...], "closed": bool}], listing order
        self.expire_next = False

    def describe_stream(self, StreamArn, **_):
        return {"StreamDescription": {"Shards": [
            {"ShardId": s["ShardId"], **({"ParentShardId": s["parent"]} if s.get("parent") else {}),
             "SequenceNumberRange": {"StartingSequenceNumber": "0", **({"EndingSequenceNumber": "9"} if s["closed"] else {})}}
            for s in self.shards]}}

    def _shard(self, shard_id):
        return next(s for s in self.shards if s["ShardId"] == shard_id)

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):
        records = self._shard(ShardId)["records"]
        position = {"TRIM_HORIZON": 0, "LATEST": len(records)}.get(ShardIteratorType)
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            position = 1 + next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == SequenceNumber)
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator, Limit):
        if self.expire_next:
            self.expire_next = False
            raise self.exceptions.ExpiredIteratorException("expired")
        shard_id, position = ShardIterator.split("|")
        shard, position = self._shard(shard_id), int(position)
        batch = shard["records"][position:position + Limit]
        end = position + len(batch)
        finished = shard["closed"] and end == len(shard["records"])
        return {"Records": batch, **({} if finished else {"NextShardIterator": f"{shard_id}|{end}"})}


def stream_record(key, seq):
    return {"eventID": seq, "eventName": "INSERT", "eventVersion": "1.1", "awsRegion": "ddblocal",
            "dynamodb": {"Keys": {"pk": {"S": key}, "sk": {"S": "R"}}, "NewImage": {"pk": {"S": key}, "b": {"B": b"\x00\x01"}},
                         "SequenceNumber": seq, "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES",
                         "ApproximateCreationDateTime": dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)}}


def test_shard_rollover_expired_iterators_and_the_lambda_record_shape(tmp_path):
    """No database: a closed shard is read to its end before its child, new shards are found, an
    expired iterator resumes after the last record delivered; records arrive in Lambda's JSON."""
    from chalice import Chalice

    app = Chalice(app_name="fake")
    got = []

    @app.on_dynamodb_record(stream_arn="arn:x", batch_size=2, starting_position="TRIM_HORIZON")
    def consume(event):
        got.extend(event.to_dict()["Records"])

    now = [0.0]
    worker = localworker.Worker(app, checkpoint_path=tmp_path / "cp.json", clock=lambda: now[0])
    fake = worker._streams = FakeStreams()
    worker.stream_arn = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/1"
    fake.shards.append({"ShardId": "s1", "records": [stream_record("a", "01")], "closed": False})
    assert worker.poll_streams() == 1
    # s1 gets three more records and closes; its child s2 is listed first and already has a record
    fake.shards[0]["records"] += [stream_record("b", "02"), stream_record("b2", "021"), stream_record("b3", "022")]
    fake.shards[0]["closed"] = True
    fake.shards.insert(0, {"ShardId": "s2", "parent": "s1", "records": [stream_record("c", "03")], "closed": False})
    now[0] += localworker.SHARD_REFRESH_SECONDS
    assert worker.poll_streams() == 2  # b, b2: the child waits while its parent has records
    assert worker.poll_streams() == 2  # b3 (s1 done), then c
    fake.shards[0]["records"] += [stream_record("d", "04"), stream_record("e", "05"), stream_record("f", "06")]
    fake.expire_next = True
    assert worker.poll_streams() == 0  # iterator expired: a new one after c
    assert worker.poll_streams() == 2 and worker.poll_streams() == 1 and worker.poll_streams() == 0  # batch_size 2
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["a", "b", "b2", "b3", "c", "d", "e", "f"]
    first = got[0]
    assert first["eventSource"] == "aws:dynamodb" and first["eventSourceARN"] == worker.stream_arn
    assert first["dynamodb"]["NewImage"]["b"] == {"B": "AAE="}  # base64 text, as Lambda delivers binary
    assert first["dynamodb"]["ApproximateCreationDateTime"] == 1795996800.0  # 2026-11-30T00:00:00Z
    saved = json.loads((tmp_path / "cp.json").read_text())["consumers"]["consume"]
    assert saved == {"s1": {"seq": "022", "done": True}, "s2": {"seq": "06", "done": False}}
    # s1 trimmed away: forgotten; a restarted worker resumes s2 after f
    fake.shards.pop()
    restarted = localworker.Worker(app, checkpoint_path=tmp_path / "cp.json")
    restarted._streams, restarted.stream_arn = fake, worker.stream_arn
    fake.shards[0]["records"].append(stream_record("g", "07"))
    assert restarted.poll_streams() == 1 and got[-1]["dynamodb"]["Keys"]["pk"]["S"] == "g"
