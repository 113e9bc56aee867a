"""HTTP API: Chalice blueprints, thin. Each route parses, calls one service function, returns JSON."""
from .definitions import bp as definitions_bp
from .dispatch import bp as dispatch_bp
from .fieldwork import bp as fieldwork_bp
from .health import bp as health_bp
from .integration import bp as integration_bp
from .members import bp as members_bp
from .migrations import bp as migrations_bp
from .records import bp as records_bp
from .schedules import bp as schedules_bp
from .reports import bp as reports_bp
from .surveys import bp as surveys_bp
from .uploads import bp as uploads_bp
from .workflow import bp as workflow_bp

from .common import error_envelope_middleware

health_bp.register_middleware(error_envelope_middleware, "http")  # blueprint middleware applies app-wide
BLUEPRINTS = (health_bp, definitions_bp, records_bp, members_bp, workflow_bp, uploads_bp, fieldwork_bp, dispatch_bp,
               integration_bp, surveys_bp, reports_bp, schedules_bp, migrations_bp)

__all__ = ["BLUEPRINTS"]
