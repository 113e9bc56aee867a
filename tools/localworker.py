"""The local worker behind `make run`: runs the app's non-HTTP handlers against the local stack.

    python -m tools.localworker [--schedule-seconds 15] [--poll-seconds 1] [--once]

`chalice local` serves only HTTP routes. This worker adapts the local event sources to the SAME handler
functions the deployed Lambdas run, found in the Chalice app's own registry (`app.event_sources` and
`app.handler_map`), so a handler added with `@bp.schedule`, `@bp.on_dynamodb_record` or
`@bp.on_sqs_message` runs locally without touching this file. It holds no business logic:

- **Records table stream** (DynamoDB Local, `dynamodbstreams`): every `on_dynamodb_record` handler is a
  consumer of the records table's stream (the only table with a stream) with its own position per shard,
  as each deployed event source mapping has. Batches of at most the handler's `batch_size` are handed over
  in the Lambda event shape. A batch whose handler raises is offered again on the next poll (up to
  `STREAM_ATTEMPTS` times, then skipped with an error line, where AWS would bisect and retry). Closed
  shards are finished before their children start (shard rollover). Positions are saved in a checkpoint
  file (`.local/worker-checkpoints.json` under `make run`); a shard without a saved position starts where
  the handler says (`starting_position`, TRIM_HORIZON for both stream handlers): nothing written while
  the worker was stopped is missed, and the handlers are idempotent, so a replay only costs time.
- **Schedules**: every `schedule` handler runs every `min(its rate, --schedule-seconds)` seconds (default
  15 s locally instead of the deployed 1 minute: results show up quickly; the jobs are built for
  concurrent and repeated runs). Cron expressions run every `--schedule-seconds`.
- **SQS**: `create_queues` makes the stage's queues on moto's server (inbound + its DLQ, the FIFO events
  queue + its DLQ, the webhook DLQ) and returns the queue settings for the app's environment. Every
  `on_sqs_message` handler polls the local queue named by its queue ARN; messages are handed over in the
  Lambda SQS event shape and deleted unless the handler lists them in `batchItemFailures` (or raises, which
  fails the whole batch); failed ones come back after the queue's visibility timeout (30 s locally).
- Other event sources (SNS, S3, ...) are not run locally; the worker says so at start.

Each stream batch, SQS batch and job run that did something logs one line (handler, counts, duration);
the scheduled runs of a round that found nothing to do share one line. A handler error logs its traceback
and the loop goes on. The app's own INFO lines (mail in MAIL_MODE=log, inbound counts) show too. SIGTERM /
SIGINT end the loop after the handler call in progress.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT_FILE = ROOT / ".local" / "worker-checkpoints.json"
STREAM_ATTEMPTS = 5  # deliveries of one failing stream batch before it is skipped
SHARD_REFRESH_SECONDS = 10.0  # how often the stream's shard list is read again (new shards)
LOCAL_ACCOUNT = "123456789012"  # moto's default account: the queues' ARNs and URLs carry it

log = logging.getLogger("localworker")  # not under "aftersales": Chalice sets that one to ERROR


# ---------------------------------------------------------------------------------------------------
# Local queues (moto server)

def queue_specs(prefix: str = "aftersales-local") -> list[dict]:
    """The queues of .chalice/resources-<stage>.json, with local names. `env` names the setting that
    carries the queue URL (chalicelib/config.py), `arn_env` the one carrying its ARN (event sources)."""
    return [
        {"name": f"{prefix}-inbound-dlq", "env": "INBOUND_DLQ_URL", "attributes": {}},
        {"name": f"{prefix}-inbound", "env": "INBOUND_QUEUE_URL", "arn_env": "INBOUND_QUEUE_ARN",
         "dlq": f"{prefix}-inbound-dlq", "max_receive": 5,
         "attributes": {"VisibilityTimeout": "30"}},  # deployed: 180 s; locally a failed message returns sooner
        {"name": f"{prefix}-events-dlq.fifo", "attributes": {"FifoQueue": "true"}},
        {"name": f"{prefix}-events.fifo", "env": "EVENTS_QUEUE_URL", "dlq": f"{prefix}-events-dlq.fifo",
         "max_receive": 10, "attributes": {"FifoQueue": "true", "ContentBasedDeduplication": "false"}},
        {"name": f"{prefix}-webhook-dlq", "env": "WEBHOOK_DLQ_URL", "attributes": {}},
    ]


def sqs_client(endpoint: str | None, region: str):
    import boto3
    return boto3.client("sqs", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "local",
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "local")


def create_queues(endpoint: str, region: str = "us-east-1", prefix: str = "aftersales-local") -> dict[str, str]:
    """Create (idempotently) the local queues on moto's server; returns the environment for the app and
    the worker: SQS_ENDPOINT, EVENTS_QUEUE_URL, INBOUND_DLQ_URL, WEBHOOK_DLQ_URL, INBOUND_QUEUE_URL and
    INBOUND_QUEUE_ARN (the inbound handler's event source, which the worker polls)."""
    sqs = sqs_client(endpoint, region)
    env = {"SQS_ENDPOINT": endpoint}
    arns: dict[str, str] = {}
    for spec in queue_specs(prefix):
        attributes = dict(spec["attributes"])
        if spec.get("dlq"):
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arns[spec["dlq"]],
                                                      "maxReceiveCount": spec["max_receive"]})
        url = sqs.create_queue(QueueName=spec["name"], Attributes=attributes)["QueueUrl"]
        arns[spec["name"]] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if spec.get("env"):
            env[spec["env"]] = url
        if spec.get("arn_env"):
            env[spec["arn_env"]] = arns[spec["name"]]
    return env


# ---------------------------------------------------------------------------------------------------
# Lambda event shapes

class LocalContext:
    """The bits of a Lambda context object a handler may look at."""

    def __init__(self, name: str, timeout_seconds: float = 900.0) -> None:
        self.function_name = f"aftersales-local-{name}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{LOCAL_ACCOUNT}:function:{self.function_name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _lambda_attribute(value: Any) -> Any:
    """botocore's stream record → Lambda's JSON: binary values are base64 text, as Lambda delivers them."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _lambda_attribute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lambda_attribute(v) for v in value]
    return value


def stream_lambda_record(record: dict, stream_arn: str, region: str) -> dict:
    """One `GetRecords` record as the DynamoDB event source mapping hands it to Lambda."""
    ddb = dict(record.get("dynamodb") or {})
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        ddb["ApproximateCreationDateTime"] = created.timestamp()
    out = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion") or region,
        "dynamodb": _lambda_attribute(ddb),
        "eventSourceARN": stream_arn,
    }
    if record.get("userIdentity"):  # TTL deletions
        out["userIdentity"] = record["userIdentity"]
    return out


def sqs_lambda_record(message: dict, queue_arn: str, region: str) -> dict:
    """One `ReceiveMessage` message as the SQS event source mapping hands it to Lambda."""
    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(value["BinaryValue"]).decode("ascii") if value.get("BinaryValue") else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [base64.b64encode(b).decode("ascii") for b in value.get("BinaryListValues", [])],
            "dataType": value.get("DataType"),
        }
        attributes[name] = {k: v for k, v in attributes[name].items() if v is not None}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": message.get("Attributes") or {},
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def scheduled_event(name: str, region: str) -> dict:
    """What EventBridge sends a scheduled Lambda."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": LOCAL_ACCOUNT, "time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region, "resources": [f"arn:aws:events:{region}:{LOCAL_ACCOUNT}:rule/aftersales-local-{name}"],
        "detail": {},
    }


def _summary(result: Any) -> str:
    if result is None:
        return "done"
    try:
        return json.dumps(result, default=str, separators=(",", ":"))[:300]
    except (TypeError, ValueError):
        return repr(result)[:300]


def _idle(result: Any) -> bool:
    """A job result of counts that are all zero (e.g. {"fired": 0, "failed": 0}): it found no work."""
    if isinstance(result, dict):
        return all(_idle(v) for v in result.values())
    if isinstance(result, (list, tuple)):
        return all(_idle(v) for v in result)
    return result in (0, None, False, "")


def _invoke(name: str, handler: Callable, event: dict) -> tuple[bool, Any, float]:
    """(ok, result, milliseconds); an exception is logged with its traceback, never raised."""
    started = time.monotonic()
    try:
        result = handler(event, LocalContext(name))
        return True, result, (time.monotonic() - started) * 1000
    except Exception:  # noqa: BLE001 - the loop must go on; the traceback is the developer's signal
        log.error("%s failed:\n%s", name, traceback.format_exc().rstrip())
        return False, None, (time.monotonic() - started) * 1000


# ---------------------------------------------------------------------------------------------------
# Stream consumers

@dataclass
class _Shard:
    id: str
    parent: str | None
    start: str  # iterator type while no sequence number is known: TRIM_HORIZON or LATEST
    seq: str | None = None  # the last record delivered (or skipped)
    iterator: str | None = None
    done: bool = False  # closed and read to its end
    pending: list | None = None  # a batch the handler failed on, offered again
    attempts: int = 0


@dataclass
class StreamConsumer:
    """One `on_dynamodb_record` handler reading the records stream, with its own position per shard."""
    name: str
    handler: Callable
    batch_size: int
    starting_position: str
    shards: dict[str, _Shard] = field(default_factory=dict)

    def checkpoint(self) -> dict:
        return {s.id: {"seq": s.seq, "done": s.done} for s in self.shards.values() if s.seq or s.done}


class Worker:
    """Adapts the local event sources to the app's handlers. `poll_streams`, `run_schedules` and
    `poll_queues` are single steps (tests call them); `run` loops over them until `stop` is set."""

    def __init__(self, app, *, schedule_seconds: float = 15.0, poll_seconds: float = 1.0,
                 checkpoint_path: Path | None = None, queue_urls: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """queue_urls: handler name → queue URL, instead of the queue named by the handler's ARN
        (the ARN is read at import, so a test that imports the app first points it here)."""
        from chalice.app import DynamoDBEventConfig, Rate, ScheduledEventConfig, SQSEventConfig

        from chalicelib.config import get_settings

        self.settings = get_settings()
        self.region = self.settings.region
        self.poll_seconds = poll_seconds
        self.checkpoint_path = checkpoint_path
        self.clock = clock
        self.consumers: list[StreamConsumer] = []
        self.schedules: list[dict] = []
        self.queue_consumers: list[dict] = []
        self.skipped: list[str] = []
        for source in app.event_sources:
            handler = app.handler_map[source.name]
            if isinstance(source, DynamoDBEventConfig):
                self.consumers.append(StreamConsumer(source.name, handler, source.batch_size,
                                                     source.starting_position or "TRIM_HORIZON"))
            elif isinstance(source, ScheduledEventConfig):
                expr = source.schedule_expression
                every = schedule_seconds
                if isinstance(expr, Rate):
                    unit = {Rate.MINUTES: 60, Rate.HOURS: 3600, Rate.DAYS: 86400}[expr.unit]
                    every = min(expr.value * unit, schedule_seconds)
                self.schedules.append({"name": source.name, "handler": handler, "every": every, "next": 0.0})
            elif isinstance(source, SQSEventConfig):
                self.queue_consumers.append({"name": source.name, "handler": handler, "batch_size": source.batch_size,
                                             "queue": source.queue or (source.queue_arn or "").rsplit(":", 1)[-1],
                                             "url": (queue_urls or {}).get(source.name), "arn": None})
            else:
                self.skipped.append(f"{source.name} ({type(source).__name__.replace('EventConfig', '')})")
        self._streams = None
        self._sqs = None
        self.stream_arn: str | None = None
        self._shards_read_at = -1e18
        self._listed_once = False
        self._saved = self._load_checkpoint()

    # -- clients --------------------------------------------------------------------------------

    @property
    def streams(self):
        if self._streams is None:
            import boto3
            self._streams = boto3.client("dynamodbstreams", endpoint_url=self.settings.ddb_endpoint,
                                         region_name=self.region)
        return self._streams

    @property
    def sqs(self):
        if self._sqs is None:
            self._sqs = sqs_client(self.settings.sqs_endpoint, self.region)
        return self._sqs

    def describe(self) -> str:
        parts = [f"stream consumers: {', '.join(c.name for c in self.consumers) or 'none'}",
                 "schedules: " + (", ".join(f"{s['name']} every {s['every']:g}s" for s in self.schedules) or "none"),
                 "queues: " + (", ".join(f"{q['name']} <- {q['queue']}" for q in self.queue_consumers) or "none")]
        if self.skipped:
            parts.append(f"not run locally: {', '.join(self.skipped)}")
        return "; ".join(parts)

    # -- stream ---------------------------------------------------------------------------------

    def _load_checkpoint(self) -> dict:
        if not self.checkpoint_path or not self.checkpoint_path.exists():
            return {}
        try:
            return json.loads(self.checkpoint_path.read_text())
        except (OSError, ValueError):
            log.warning("checkpoint file %s unreadable: starting from each handler's starting position",
                        self.checkpoint_path)
            return {}

    def _save_checkpoint(self) -> None:
        if not self.checkpoint_path or not self.stream_arn:
            return
        data = {"stream_arn": self.stream_arn, "consumers": {c.name: c.checkpoint() for c in self.consumers}}
        tmp = self.checkpoint_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.checkpoint_path)

    def _find_stream(self) -> str | None:
        import boto3
        ddb = boto3.client("dynamodb", endpoint_url=self.settings.ddb_endpoint, region_name=self.region)
        table = ddb.describe_table(TableName=self.settings.records_table)["Table"]
        if not (table.get("StreamSpecification") or {}).get("StreamEnabled"):
            return None
        return table.get("LatestStreamArn")

    def refresh_shards(self) -> None:
        """Read the stream's shard list: new shards join every consumer (children of a shard seen
        before start at TRIM_HORIZON), shards trimmed away are forgotten."""
        if self.stream_arn is None:
            self.stream_arn = self._find_stream()
            if self.stream_arn is None:
                log.warning("table %s has no stream: run chalicelib.storage.create_tables() (make run does)",
                            self.settings.records_table)
                return
        first = not self._listed_once
        listed, start_id = [], None
        while True:
            kwargs = {"StreamArn": self.stream_arn, **({"ExclusiveStartShardId": start_id} if start_id else {})}
            try:
                description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            except self.streams.exceptions.ResourceNotFoundException:
                log.warning("stream %s is gone (table re-created?): looking it up again", self.stream_arn)
                self.stream_arn = None
                for consumer in self.consumers:
                    consumer.shards.clear()
                return
            listed.extend(description.get("Shards", []))
            start_id = description.get("LastEvaluatedShardId")
            if not start_id:
                break
        saved = self._saved.get("consumers", {}) if self._saved.get("stream_arn") == self.stream_arn else {}
        ids = {s["ShardId"] for s in listed}
        for consumer in self.consumers:
            for shard_id in list(consumer.shards):
                if shard_id not in ids:
                    del consumer.shards[shard_id]
            for shard in listed:
                if shard["ShardId"] in consumer.shards:
                    continue
                closed = "EndingSequenceNumber" in (shard.get("SequenceNumberRange") or {})
                state = _Shard(shard["ShardId"], shard.get("ParentShardId"),
                               consumer.starting_position if first else "TRIM_HORIZON")
                mark = saved.get(consumer.name, {}).get(shard["ShardId"])
                if mark:
                    state.seq, state.done = mark.get("seq"), bool(mark.get("done"))
                elif state.start == "LATEST":
                    if closed:
                        state.done = True  # nothing after LATEST on a closed shard
                    else:  # LATEST means from now: pin it now, not at the first read
                        state.iterator = self._iterator(state)
                consumer.shards[shard["ShardId"]] = state
        self._shards_read_at = self.clock()
        self._listed_once = True

    def _iterator(self, shard: _Shard) -> str | None:
        base = {"StreamArn": self.stream_arn, "ShardId": shard.id}
        if shard.seq:
            try:
                return self.streams.get_shard_iterator(**base, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                       SequenceNumber=shard.seq)["ShardIterator"]
            except self.streams.exceptions.TrimmedDataAccessException:
                log.warning("shard %s: saved position trimmed away, reading from its oldest record", shard.id)
            except self.streams.exceptions.ClientError as exc:  # e.g. a sequence number of another stream
                log.warning("shard %s: saved position refused (%s), reading from its oldest record", shard.id, exc)
            shard.seq = None
            shard.start = "TRIM_HORIZON"
        return self.streams.get_shard_iterator(**base, ShardIteratorType=shard.start).get("ShardIterator")

    def _read(self, consumer: StreamConsumer, shard: _Shard) -> list | None:
        """The next batch of the shard (None: nothing new); marks the shard done at its end."""
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
            if shard.iterator is None:
                shard.done = True
                return None
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=consumer.batch_size)
        except self.streams.exceptions.ExpiredIteratorException:
            shard.iterator = None  # a new one from the last position on the next poll
            return None
        except self.streams.exceptions.TrimmedDataAccessException:
            shard.iterator, shard.seq, shard.start = None, None, "TRIM_HORIZON"
            return None
        except self.streams.exceptions.ResourceNotFoundException:
            shard.iterator = None
            self._shards_read_at = -1e18  # shard or stream gone: list the shards again
            return None
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard.done = True  # closed and read to the end: its children may start
            self._shards_read_at = -1e18
        return response.get("Records") or None

    def poll_streams(self) -> int:
        """One pass over every consumer and readable shard: at most one batch each. Returns the number
        of stream records handed to handlers."""
        if not self.consumers:
            return 0
        if self.stream_arn is None or self.clock() - self._shards_read_at >= SHARD_REFRESH_SECONDS:
            self.refresh_shards()
            if self.stream_arn is None:
                return 0
        delivered = 0
        changed = False
        for consumer in self.consumers:
            for shard in list(consumer.shards.values()):
                parent = consumer.shards.get(shard.parent) if shard.parent else None
                if shard.done or (parent is not None and not parent.done):
                    continue  # a child waits for its parent: records of one item stay in order
                records = shard.pending or self._read(consumer, shard)
                if not records:
                    if shard.done:
                        changed = True
                    continue
                event = {"Records": [stream_lambda_record(r, self.stream_arn, self.region) for r in records]}
                ok, result, ms = _invoke(consumer.name, consumer.handler, event)
                if ok:
                    log.info("stream %s: %d record(s) from %s -> %s (%.0f ms)", consumer.name, len(records),
                             shard.id[-12:], _summary(result), ms)
                else:
                    shard.attempts += 1
                    if shard.attempts < STREAM_ATTEMPTS:
                        shard.pending = records
                        log.warning("stream %s: batch of %d record(s) will be offered again (attempt %d of %d)",
                                    consumer.name, len(records), shard.attempts, STREAM_ATTEMPTS)
                        continue
                    log.error("stream %s: batch of %d record(s) SKIPPED after %d failed attempts",
                              consumer.name, len(records), STREAM_ATTEMPTS)
                shard.pending, shard.attempts = None, 0
                shard.seq = records[-1]["dynamodb"]["SequenceNumber"]
                delivered += len(records)
                changed = True
        if changed:
            self._save_checkpoint()
        return delivered

    # -- schedules ------------------------------------------------------------------------------

    def run_schedules(self, force: bool = False) -> int:
        """Run every scheduled handler whose time has come (all of them with force). Returns runs.
        A run that did something logs its own line; the runs that found nothing to do share one."""
        now = self.clock()
        runs, idle, idle_ms = 0, [], 0.0
        for job in self.schedules:
            if not force and now < job["next"]:
                continue
            job["next"] = now + job["every"]
            ok, result, ms = _invoke(job["name"], job["handler"], scheduled_event(job["name"], self.region))
            if ok and result is not None and _idle(result):
                idle.append(job["name"])
                idle_ms += ms
            elif ok:
                log.info("schedule %s -> %s (%.0f ms)", job["name"], _summary(result), ms)
            runs += 1
        if idle:
            log.info("schedule %s: nothing to do (%.0f ms)", ", ".join(idle), idle_ms)
        return runs

    # -- queues ---------------------------------------------------------------------------------

    def _queue_url(self, consumer: dict) -> str | None:
        if consumer["url"] is None:
            try:
                consumer["url"] = self.sqs.get_queue_url(QueueName=consumer["queue"])["QueueUrl"]
            except self.sqs.exceptions.ClientError:
                log.warning("queue %s (handler %s) does not exist locally: not polled", consumer["queue"], consumer["name"])
                consumer["url"] = ""
        if consumer["url"] and consumer["arn"] is None:
            consumer["arn"] = self.sqs.get_queue_attributes(
                QueueUrl=consumer["url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return consumer["url"] or None

    def poll_queues(self) -> int:
        """One receive per SQS handler; returns the number of messages handed over."""
        handed = 0
        for consumer in self.queue_consumers:
            url = self._queue_url(consumer)
            if not url:
                continue
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=max(1, min(10, consumer["batch_size"])), WaitTimeSeconds=0,
                AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            handed += len(messages)
            event = {"Records": [sqs_lambda_record(m, consumer["arn"], self.region) for m in messages]}
            ok, result, ms = _invoke(consumer["name"], consumer["handler"], event)
            if not ok:  # the whole batch returns after the visibility timeout
                log.warning("sqs %s: %d message(s) left on the queue for a retry", consumer["name"], len(messages))
                continue
            failed = {f.get("itemIdentifier") for f in ((result or {}).get("batchItemFailures") or [])} \
                if isinstance(result, dict) else set()
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
            failures = len(messages) - len(done)
            log.info("sqs %s: %d message(s) -> %d deleted, %d failed%s (%.0f ms)", consumer["name"], len(messages),
                     len(done), failures, " (back after the visibility timeout)" if failures else "", ms)
        return handed

    # -- loop -----------------------------------------------------------------------------------

    def step(self) -> int:
        """One round of everything; returns stream records + messages handled (0 = idle)."""
        busy = 0
        for part in (self.poll_streams, self.poll_queues):
            try:
                busy += part()
            except Exception:  # noqa: BLE001 - e.g. DynamoDB Local busy: log and try again next round
                log.error("%s failed:\n%s", part.__name__, traceback.format_exc().rstrip())
        try:
            self.run_schedules()
        except Exception:  # noqa: BLE001
            log.error("run_schedules failed:\n%s", traceback.format_exc().rstrip())
        return busy

    def run(self, stop: threading.Event) -> None:
        log.info("started; %s", self.describe())
        while not stop.is_set():
            if self.step() == 0:  # a backlog is read without pause, an idle stream every poll_seconds
                stop.wait(self.poll_seconds)
        self._save_checkpoint()
        log.info("stopped")


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s worker %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)  # the app's own INFO lines (mail in MAIL_MODE=log, inbound counts) show too
    for noisy in ("botocore", "boto3", "urllib3", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def adopt_app_logging(app) -> None:
    """Chalice gives the app's logger ("aftersales") its own stdout handler at level ERROR unless
    debug: in the worker, the app's INFO lines (mail in MAIL_MODE=log, inbound counts) go through the
    worker's handler instead."""
    app.log.handlers[:] = []
    app.log.propagate = True
    app.log.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localworker", description=__doc__.split("\n")[0])
    parser.add_argument("--schedule-seconds", type=float,
                        default=float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "15")),
                        help="run each scheduled handler at least this often (default 15, env LOCAL_SCHEDULE_SECONDS)")
    parser.add_argument("--poll-seconds", type=float, default=1.0, help="pause between idle polls (default 1)")
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT_FILE, help="stream positions file")
    parser.add_argument("--once", action="store_true", help="one round of everything (schedules forced), then exit")
    args = parser.parse_args(argv)
    configure_logging()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import app  # after the environment is set: the app reads its settings from it
    adopt_app_logging(app)

    args.checkpoint.parent.mkdir(exist_ok=True)
    worker = Worker(app, schedule_seconds=args.schedule_seconds, poll_seconds=args.poll_seconds,
                    checkpoint_path=args.checkpoint)
    if args.once:
        log.info("once; %s", worker.describe())
        worker.poll_streams()
        worker.poll_queues()
        worker.run_schedules(force=True)
        return 0
    worker.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
