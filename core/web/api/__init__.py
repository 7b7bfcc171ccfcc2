"""REST API v1 blueprints, one module per area."""
