"""Demo data for ``guidepath run --demo`` (``make run``): a tenant, logins, and a
few customers, devices and sessions so the product has something to show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .domain import support_sessions, users
from .domain.customers import CUSTOMERS
from .domain.devices import DEVICES
from .tenancy.service import TenantService

if TYPE_CHECKING:  # pragma: no cover
    from .kernel import Kernel

DEMO_SLUG = "demo"
ADMIN = ("admin@demo.example.com", "demo-admin-password")
AGENT = ("agent@demo.example.com", "demo-agent-password")

_CUSTOMERS = [
    ({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0001"},
     {"manufacturer": "Samsung", "brand": "Galaxy", "model": "S24", "os_name": "Android", "os_version": "15",
      "memory_bytes": 8 * 2**30, "processor": "Snapdragon 8 Gen 3", "device_name": "Ada's phone",
      "serial_number": "R58W1234ABC", "extra": {"battery_health": "good"}}),
    ({"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "phone": "+1 555 0100"},
     {"manufacturer": "Apple", "brand": "iPhone", "model": "iPhone 15", "os_name": "iOS", "os_version": "18.1",
      "memory_bytes": 6 * 2**30, "processor": "A16 Bionic", "device_name": "Grace's iPhone",
      "serial_number": "F2LX9ABCDEF", "extra": {}}),
    ({"email": "alan@example.com", "first_name": "Alan", "last_name": "Turing", "phone": "+44 161 496 0002"},
     {"manufacturer": "Google", "brand": "Pixel", "model": "Pixel 8", "os_name": "Android", "os_version": "15",
      "memory_bytes": 8 * 2**30, "processor": "Tensor G3", "device_name": "Pixel", "serial_number": "38281FDH2000",
      "extra": {}}),
]


def seed(kernel: Kernel, base_url: str = "http://demo.localhost:8000") -> dict:
    """Create the demo tenant once; later runs reuse it. Returns URLs and logins."""
    service = TenantService(kernel)
    tenant = kernel.directory.get_by_slug(DEMO_SLUG)
    if tenant is None:
        tenant = service.create(DEMO_SLUG, name="Demo Support Co.", admin_email=ADMIN[0], admin_password=ADMIN[1])
        ctx = kernel.context(tenant)
        with ctx.begin() as conn:
            agent = users.create(conn, {"email": AGENT[0], "password": AGENT[1], "role": "agent", "name": "Demo Agent"})
            # The demo agent is at work: online, so the queue's estimates and transfers have someone.
            users.update_me(conn, agent["id"], {"availability": "online"}, ctx.emit)
            for i, (customer_data, device_data) in enumerate(_CUSTOMERS):
                customer = CUSTOMERS.create(conn, customer_data)
                device = DEVICES.create(conn, {**device_data, "customer_id": customer["id"]})
                session = support_sessions.create(
                    conn, {"customer_id": customer["id"], "device_id": device["id"]}, ctx.emit
                )
                if i >= 1:
                    support_sessions.change_state(conn, session["id"], {"state": "waiting"}, ctx.emit)
                if i == 2:
                    support_sessions.change_state(
                        conn, session["id"], {"state": "active", "agent_id": agent["id"]}, ctx.emit
                    )
        ctx.hooks.seed_demo(tenant, ctx)
    return {
        "url": base_url,
        "logins": [{"role": "admin", "email": ADMIN[0], "password": ADMIN[1]},
                   {"role": "agent", "email": AGENT[0], "password": AGENT[1]}],
    }
