"""Report routes: run a report (row permissions applied), CSV export, a dashboard with all its charts,
one chart's Vega-Lite spec, backfill progress and rebuild; and the stream and schedule handlers that
keep aggregates current."""
import os

from chalice import Blueprint, Rate, Response

from .common import LazyModule, body_of, configure_once, handler, query_params, route

service = LazyModule("chalicelib.services.reports")  # the report engine loads on first use

bp = Blueprint(__name__)

# The records table's stream. `make package` wires the real ARN through the merge template
# (.chalice/resources-<stage>.json overrides this event source's Stream with the table's StreamArn).
RECORDS_STREAM_ARN = os.environ.get(
    "RECORDS_STREAM_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/aftersales-records/stream/2026-01-01T00:00:00.000")


@route(bp, "/reports", methods=["GET"])
def list_reports(request, caller):
    """Published reports of the tenant."""
    return service.list_reports(caller, "report")


@route(bp, "/reports/{name}", methods=["GET"])
def run_report(request, caller, name):
    """Rows of the report from its group aggregates (`limit`, `dim.<dimension>=value` narrow it)."""
    return service.run(caller, name, query_params(request))


@route(bp, "/reports/{name}/preview", methods=["POST"])
def preview_report(request, caller, name):
    """Admin: a draft report ({"definition", "chart"?}) computed over the form's newest 500 records at
    most, stored nowhere (the report designer's live chart); `records_read`/`complete` say what it covers."""
    return service.preview(caller, name, body_of(request))


@route(bp, "/reports/{name}/csv", methods=["GET"])
def export_csv(request, caller, name):
    """The report's rows as CSV (header row; formula-like cells are quoted)."""
    text = service.export_csv(caller, name, query_params(request))
    return Response(body=text, status_code=200, headers={"Content-Type": "text/csv; charset=utf-8",
                                                         "Content-Disposition": f'attachment; filename="{name}.csv"'})


@route(bp, "/reports/{name}/status", methods=["GET"])
def report_status(request, caller, name):
    """Which version serves, which is being built, and the backfill's progress."""
    return service.status(caller, name)


@route(bp, "/reports/{name}/rebuild", methods=["POST"])
def rebuild(request, caller, name):
    """Admin: build the published version's aggregates (continues a running backfill); the old
    version keeps serving until it is done."""
    return service.rebuild(caller, name)


@route(bp, "/dashboards", methods=["GET"])
def list_dashboards(request, caller):
    """Published dashboards of the tenant."""
    return service.list_reports(caller, "dashboard")


@route(bp, "/dashboards/{name}", methods=["GET"])
def dashboard(request, caller, name):
    """Every chart with its rows and a Vega-Lite spec, in one call."""
    return service.dashboard(caller, name)


@route(bp, "/dashboards/{name}/charts/{chart}/vega-lite", methods=["GET"])
def chart_spec(request, caller, name, chart):
    """One chart as a self-contained Vega-Lite v5 spec (data inlined)."""
    return service.chart_spec(caller, name, chart)


@bp.on_dynamodb_record(stream_arn=RECORDS_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
@handler
def maintain_reports(event):
    """Records table stream → report aggregates, exactly once per record version."""
    configure_once()
    return service.process_stream(event.to_dict().get("Records", []))


@bp.schedule(Rate(1, unit=Rate.MINUTES))
@handler
def run_report_backfills(event):
    """Advances report backfills that still have pages to read, then retires replaced report versions."""
    configure_once()
    return service.run_backfills()
