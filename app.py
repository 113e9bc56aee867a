"""Chalice entry point: builds the app and registers the blueprints. Nothing else lives here."""
from chalice import Chalice

from chalicelib.api import BLUEPRINTS

app = Chalice(app_name="aftersales")
app.api.binary_types = []  # JSON only; uploads go straight to S3 with presigned POSTs
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)
