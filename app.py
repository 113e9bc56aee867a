"""Chalice entry point: builds the app and registers the blueprints. Nothing else lives here."""
from chalice import Chalice

from chalicelib import logs
from chalicelib.api import BLUEPRINTS

app = Chalice(app_name="aftersales")
logs.configure(app.log)  # JSON lines with request id, tenant, user, route, status, duration
app.api.binary_types = []  # JSON only; uploads go straight to S3 with presigned POSTs
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)
