"""Integration routes and handlers: webhooks (register, log, redeliver), the records-table stream
handler that emits outbound events, the webhook retry schedule, the inbound SQS handler, bulk
import jobs and export."""
import os

from chalice import Blueprint, Rate

from ..errors import parse_count
from .common import LazyModule, body_of, configure_once, handler, json_response, query_params, route

hooks = LazyModule("chalicelib.services.webhooks")  # loads on first use (cold start)

bp = Blueprint(__name__)

# The deployed template replaces these placeholders with the stack's own resources
# (.chalice/resources-<stage>.json merges the stream ARN, the inbound queue and ReportBatchItemFailures).
STREAM_ARN = os.environ.get("RECORDS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/records/stream/placeholder")
INBOUND_QUEUE_ARN = os.environ.get("INBOUND_QUEUE_ARN", "arn:aws:sqs:us-east-1:000000000000:aftersales-inbound")


@route(bp, "/webhooks", methods=["POST"])
def register_webhook(request, caller):
    return json_response(hooks.register(caller, body_of(request)), 201)


@route(bp, "/webhooks", methods=["GET"])
def list_webhooks(request, caller):
    return hooks.list_all(caller)


@route(bp, "/webhooks/{webhook_id}", methods=["GET"])
def get_webhook(request, caller, webhook_id):
    return hooks.get(caller, webhook_id)


@route(bp, "/webhooks/{webhook_id}", methods=["PUT"])
def update_webhook(request, caller, webhook_id):
    return hooks.update(caller, webhook_id, body_of(request))


@route(bp, "/webhooks/{webhook_id}", methods=["DELETE"])
def delete_webhook(request, caller, webhook_id):
    return hooks.remove(caller, webhook_id)


@route(bp, "/webhooks/{webhook_id}/deliveries", methods=["GET"])
def webhook_deliveries(request, caller, webhook_id):
    limit = query_params(request).get("limit")
    return hooks.deliveries(caller, webhook_id, min(parse_count(limit, "query.limit", minimum=1), 100) if limit else 50)


@route(bp, "/webhooks/{webhook_id}/deliveries/{event_id}/redeliver", methods=["POST"])
def redeliver(request, caller, webhook_id, event_id):
    return hooks.redeliver(caller, webhook_id, event_id)


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
@handler
def record_events(event):
    """History items inserted in the records table → outbound events (queue + webhooks)."""
    from ..services import events
    configure_once()
    return events.handle_stream(event.to_dict().get("Records", []))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
@handler
def retry_webhooks(event):
    from ..services import events
    configure_once()
    return events.retry_due()


@bp.on_sqs_message(queue_arn=INBOUND_QUEUE_ARN, batch_size=10)
@handler
def inbound_messages(event):
    """Messages from other systems → records (partial batch failure: only failed messages return)."""
    from ..services import inbound
    configure_once()
    return inbound.handle_batch(event.to_dict().get("Records", []))


@route(bp, "/forms/{form}/imports", methods=["POST"])
def start_import(request, caller, form):
    from ..services import bulk
    body, status = bulk.start_import(caller, form, body_of(request))
    return json_response(body, status, {"Location": f"/forms/{form}/imports/{body['id']}"})


@route(bp, "/forms/{form}/imports/uploads", methods=["POST"])
def presign_import_upload(request, caller, form):
    """Presigned POST to upload an import file to S3 (files above the request body limit)"""
    from ..services import bulk
    return json_response(bulk.presign_upload(caller, form, body_of(request)), 201)


@route(bp, "/forms/{form}/imports/{job_id}", methods=["GET"])
def get_import(request, caller, form, job_id):
    from ..services import bulk
    return bulk.get_import(caller, form, job_id)


@route(bp, "/forms/{form}/export", methods=["GET"])
def export(request, caller, form):
    from chalice import Response

    from ..services import bulk
    text, content_type = bulk.export(caller, form, query_params(request))
    suffix = "csv" if content_type.startswith("text/csv") else "jsonl"
    # A str body with a text type passes through chalice and API Gateway as is (app.api.binary_types is
    # empty: nothing is base64-encoded). The form name was checked against the published forms.
    return Response(body=text, status_code=200, headers={
        "Content-Type": content_type, "Content-Disposition": f'attachment; filename="{form}.{suffix}"',
        "X-Content-Type-Options": "nosniff", "Access-Control-Expose-Headers": "Content-Disposition"})


@bp.schedule(Rate(1, unit=Rate.MINUTES))
@handler
def continue_imports(event):
    from ..services import bulk
    configure_once()
    return bulk.continue_imports()
