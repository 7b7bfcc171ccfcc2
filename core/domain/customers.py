"""Customers: the people agents help."""

from __future__ import annotations

from .records import Resource
from .tables import customers

_NAME = {"type": ["string", "null"], "maxLength": 100}

CUSTOMER_SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": ["string", "null"], "format": "email", "maxLength": 254},
        "first_name": _NAME,
        "last_name": _NAME,
        "phone": {"type": ["string", "null"], "pattern": r"^\+?[0-9 ().-]{3,32}$", "maxLength": 32},
    },
    "examples": [{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
                  "phone": "+44 20 7946 0958"}],
}

CUSTOMERS = Resource(customers, "cus", CUSTOMER_SCHEMA, "customer")

#: A customer as the API returns it.
CUSTOMER_OUTPUT_SCHEMA = CUSTOMERS.output_schema()
