"""AWS's side of request throttling, for the bench server (bench/moto_bench_server.py): token buckets per
account, Region and bucket at the sizes AWS publishes, and throttled answers in each protocol's shape.

No moto here (imported by the bench server, and run alone by test/bench/throttle-model.test.ts).

The bucket table is not defined here: the bench runner sends it (POST /_bench/throttle), made from the
published sizes of aws/rate-limit.ts (`RATE_LIMIT_FAMILIES`: capacity and refill rate of each family,
the actions a family names), unshared: the whole of each bucket, as AWS holds it for the account. The
buckets a request takes its token from mirror `classifyOperation` of aws/rate-limit.ts:

- ECS: one bucket per family of actions (`ecs:clusterResourceRead`, ...); an action no family names has
  a bucket of its own of family `ecs:unlisted`.
- EC2: a bucket per action, sized by its category: an action with a row of its own
  (`ec2:CreateVpcEndpoint`), a resource-intensive one, a mutating one (not Describe*, List*, Search*,
  Get*), a non-mutating one, or an unfiltered and unpaginated request of the few actions that have a
  smaller bucket for those (`ec2:DescribeInstances (unfiltered)`).
- Route 53: one bucket for the account, every action and Region together.
- SSM, IAM and Route 53 Resolver: a bucket per action (sizes assumed: AWS publishes none we could
  find); IAM's global.
- Any other service (DynamoDB, ...): not throttled.

Usage alone: `python bench/throttle_model.py --classify` reads {"families": {...}, "requests":
[{"service", "operation", "params"}]} on stdin and prints the classification of each request (JSON).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import uuid
from typing import Any, Callable
from xml.sax.saxutils import escape

GLOBAL_SERVICES = frozenset({"route53", "iam"})
_NON_MUTATING = re.compile(r"^(Describe|List|Search|Get)[A-Z]")
# EC2 query parameters that make a request filtered or paginated (`Filter.1.Name=...`, `MaxResults=...`).
_FILTERED = re.compile(r"^(Filters?(\.|$)|MaxResults$|NextToken$)")


class Classification:
    __slots__ = ("family", "bucket", "global_")

    def __init__(self, family: str, bucket: str, global_: bool) -> None:
        self.family = family
        self.bucket = bucket
        self.global_ = global_

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "bucket": self.bucket, "global": self.global_}


def is_unfiltered_unpaginated(params: dict[str, Any]) -> bool:
    """No filter, no MaxResults, no NextToken (an id list is not a filter), as aws/rate-limit.ts."""
    return not any(_FILTERED.match(name) and value not in ("", None) for name, value in params.items())


class Families:
    """The bucket table sent by the runner: `service:family` -> {capacity, refillPerSecond, actions?}."""

    def __init__(self, families: dict[str, dict[str, Any]]) -> None:
        self.sizes = {name: (float(f["capacity"]), float(f["refillPerSecond"])) for name, f in families.items()}
        self.actions = {name: frozenset(f.get("actions") or ()) for name, f in families.items()}
        self.named = {name: "actions" in f and f["actions"] is not None for name, f in families.items()}
        self.ecs_family_of = {
            action: name.split(":", 1)[1]
            for name, actions in self.actions.items()
            if name.startswith("ecs:")
            for action in actions
        }

    def classify(self, service: str, operation: str, params: dict[str, Any]) -> Classification | None:
        def of(family: str, bucket: str) -> Classification | None:
            name = f"{service}:{family}"
            if name not in self.sizes:
                return None
            return Classification(name, bucket, service in GLOBAL_SERVICES)

        if service == "ecs":
            family = self.ecs_family_of.get(operation)
            return of(family, f"ecs:{family}") if family else of("unlisted", f"ecs:{operation}")
        if service == "ec2":
            bucket = f"ec2:{operation}"
            if f"ec2:{operation}" in self.sizes and not self.named[f"ec2:{operation}"]:
                return of(operation, bucket)
            if operation in self.actions.get("ec2:resourceIntensive", frozenset()):
                return of("resourceIntensive", bucket)
            if not _NON_MUTATING.match(operation):
                return of("mutating", bucket)
            if operation in self.actions.get("ec2:unfilteredNonMutating", frozenset()) and (
                is_unfiltered_unpaginated(params)
            ):
                return of("unfilteredNonMutating", f"{bucket} (unfiltered)")
            return of("nonMutating", bucket)
        if service == "route53":
            return of("account", "route53:account")
        if service in ("ssm", "iam", "route53resolver"):
            return of("action", f"{service}:{operation}")
        return None


class ThrottleModel:
    """Token buckets made on first use, each full at first; `scale` multiplies capacity and refill rate."""

    def __init__(
        self, families: dict[str, dict[str, Any]], scale: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.families = Families(families)
        self.scale = scale
        self.clock = clock
        self._lock = threading.Lock()
        # key -> [tokens, last refill time, capacity, rate]
        self._buckets: dict[str, list[float]] = {}

    def admit(self, account: str, region: str, service: str, operation: str, params: dict[str, Any]) -> bool:
        """Takes a token of the request's bucket: False when the bucket is empty (throttled)."""
        found = self.families.classify(service, operation, params)
        if found is None:
            return True
        key = f"{account}/{'' if found.global_ else region}/{found.bucket}"
        capacity, rate = self.families.sizes[found.family]
        capacity, rate = max(1.0, capacity * self.scale), rate * self.scale
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [capacity, now, capacity, rate]
            tokens = min(bucket[2], bucket[0] + (now - bucket[1]) * bucket[3])
            bucket[1] = now
            if tokens >= 1:
                bucket[0] = tokens - 1
                return True
            bucket[0] = tokens
            return False


def throttle_answer(protocol: str, service: str, content_type: str = "") -> tuple[str, list[tuple[str, str]], bytes]:
    """A throttled answer as AWS sends it (status line, headers, body); as test/harness/fault-proxy.ts."""
    request_id = uuid.uuid4().hex
    message = "Rate exceeded"
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        return "503 Service Unavailable", [("Content-Type", "text/xml;charset=UTF-8")], body
    if protocol in ("query", "restXml"):
        body = (
            '<?xml version="1.0"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return "400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
    code = "ThrottlingException"
    kind = f"com.amazonaws.dynamodb.v20120810#{code}" if service == "dynamodb" else code
    headers = [
        ("Content-Type", content_type if protocol == "json" and content_type else "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id),
    ]
    if protocol == "restJson":
        headers.append(("x-amzn-ErrorType", code))
    return "400 Bad Request", headers, json.dumps({"__type": kind, "message": message}).encode()


def _main() -> None:
    if sys.argv[1:] != ["--classify"]:
        sys.exit("usage: python bench/throttle_model.py --classify < {families, requests}")
    request = json.load(sys.stdin)
    families = Families(request["families"])
    out = []
    for r in request["requests"]:
        found = families.classify(r["service"], r["operation"], r.get("params") or {})
        out.append(found.as_dict() if found else None)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    _main()
