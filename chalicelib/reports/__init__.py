"""Report engine (pure: no boto3, chalice or pynamodb).

`definition` (the `report` kind), `buckets` (time buckets in a zone), `contribution` (what one record
adds to each group, deltas), `maintenance` (exactly-once incremental plan), `rows` (group aggregates →
rows, comparison, sort, top-N, CSV), `dashboard` (the `dashboard` kind, Vega-Lite specs)."""
from .contribution import contribution, delta, recompute
from .dashboard import DashboardDefinition, parse_dashboard, vega_lite
from .definition import ReportDefinition, parse_report
from .maintenance import Stored, plan
from .rows import finish, merge_groups, to_csv

__all__ = ["ReportDefinition", "parse_report", "contribution", "delta", "recompute", "Stored", "plan",
           "finish", "merge_groups", "to_csv", "DashboardDefinition", "parse_dashboard", "vega_lite"]
