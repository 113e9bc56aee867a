"""After-sales service platform: engines, storage and API behind the Chalice app."""
