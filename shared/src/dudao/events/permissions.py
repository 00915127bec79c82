"""Who may do what on the bus: a NATS user per service, an administrator, and the origin of an event.

A service publishes only its own subjects, ``dudao.<service>.>``, and the kit's common ones,
``dudao.common.>`` (every worker relays the common outbox: API key and calendar events, the clock). On
JetStream it may read the stream's description, create, read and pull from its own durables and
acknowledge their messages: it cannot change or purge the stream, delete anything, nor take another
service's deliveries. It subscribes only to its replies (``_INBOX.>``) and to the common events every
process hears on core NATS (revoked keys, the clock). The administrator (the CLI, the tests) may do all.

NATS stamps no publisher on a message: the server checks who may publish on a subject, and consumers
check that the envelope's ``source`` is the service its subject belongs to (``may_claim``), so that no
service can publish as another, neither on the other's subjects nor on its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from dudao.events.nats import STREAM

ADMIN = "dudao-admin"
SERVICES = ("governance", "school-inspection", "monitoring", "accountability")
COMMON = "common"  # the kit's own events, which every service's worker relays
CLI_SOURCE = "/dudao/cli"


def source_of(service: str) -> str:
    """The CloudEvents ``source`` of what ``service`` emits (``ServiceSpec.event_source``)."""
    return f"/dudao/{service}"


def publishes(service: str) -> list[str]:
    """The event subjects ``service`` may publish on."""
    return [f"dudao.{service}.>", f"dudao.{COMMON}.>"]


def may_claim(subject: str, source: str) -> bool:
    """Whether an event on ``subject`` may come from ``source``: the service the subject names, or, on the
    common subjects, any service of the suite or the CLI."""
    parts = subject.split(".")
    if len(parts) < 3 or parts[0] != "dudao":
        return False
    if parts[1] == COMMON:
        return source == CLI_SOURCE or source in {source_of(s) for s in SERVICES}
    return source == source_of(parts[1])


def service_permissions(service: str, durables: Iterable[str]) -> dict[str, Any]:
    """The NATS permissions of ``service``'s user, whose consumers are the ``durables``."""
    jetstream = [f"$JS.API.STREAM.INFO.{STREAM}"]
    for durable in sorted(durables):
        jetstream += [
            f"$JS.API.CONSUMER.CREATE.{STREAM}.{durable}.>",  # the subject ends with the filter
            f"$JS.API.CONSUMER.INFO.{STREAM}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{durable}",
            f"$JS.ACK.{STREAM}.{durable}.>",  # ack, nak, term
        ]
    return {
        "publish": {"allow": [*publishes(service), *jetstream]},
        "subscribe": {"allow": ["_INBOX.>", f"dudao.{COMMON}.>"]},
    }


def users(passwords: Mapping[str, str], durables: Mapping[str, Iterable[str]]) -> list[dict[str, Any]]:
    """A NATS server's ``authorization.users``: the administrator, unrestricted, and every service of
    ``SERVICES`` with its ``durables``; ``passwords`` has each one's."""
    return [{"user": ADMIN, "password": passwords[ADMIN]}] + [
        {"user": s, "password": passwords[s], "permissions": service_permissions(s, durables.get(s, ()))}
        for s in SERVICES
    ]


@cache
def service_durables() -> dict[str, list[str]]:
    """Every service's durable consumers, as its spec declares them.

    Listed by a child process: a service's modules read their settings as they are imported, which the
    process that starts the bus (``dudao up``, say) need not have. The names do not depend on the
    environment; the child is given one, if none is named, only so that it can import the modules.
    """
    env = {**os.environ, "DUDAO_ENVIRONMENT": os.environ.get("DUDAO_ENVIRONMENT") or "development"}
    listed = subprocess.run(
        [sys.executable, "-m", __name__], env=env, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        raise RuntimeError(f"the services' durables could not be listed: {listed.stderr.strip()}")
    durables: dict[str, list[str]] = json.loads(listed.stdout)
    return durables


def _declared_durables() -> dict[str, list[str]]:
    from dudao.worker import load_spec  # the services' packages

    return {s: [c.durable for c in load_spec(f"{s.replace('-', '_')}.main:spec").consumers] for s in SERVICES}


if __name__ == "__main__":
    print(json.dumps(_declared_durables()))
