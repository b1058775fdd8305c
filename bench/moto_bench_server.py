"""moto server for the benchmark: the test harness's patched moto plus bulk seeding, request counting, AWS's
request throttling, and record and replay of answers.

Usage: python bench/moto_bench_server.py [--port N] [--exit-on-stdin-eof]
Prints `READY <port>` on stdout once it accepts requests (like test/harness/moto_server.py).

Importing test/harness/moto_server.py applies all of its patches (P0 account isolation by a 12-digit access
key id, paging, ECS limits, ...); nothing of it is changed here. On top of it:

  POST /_bench/seed    body {"accountId", "region", "spec"}: builds the synthetic account described by
                       `spec` (bench/spec.ts) directly through moto's Python backends, thousands of resources
                       in seconds where the SDK path would take minutes (moto's lookups answered from
                       indexes while it seeds: _seeding_shortcuts). Answers {"vpcIds": {key: id}, "seconds",
                       "phases", "maxRssMb"}.
  GET  /_bench/times   milliseconds moto spent per account and operation (where a run's wall time goes).
  GET  /_bench/counts  every AWS request received so far, counted per account, per service and per
                       operation (service from the SigV4 credential scope, operation from X-Amz-Target, the
                       query `Action` or Route 53's REST path). The same counting for every client (our SDK
                       v3 code and Cloud Custodian's boto3), so it cross-checks the remediator's own counter.
                       Throttled requests count: each was received.
  POST /_bench/latency body {"ms": N}: from now on every AWS request waits N ms before moto serves it
                       (default 0). moto answers in a few ms of CPU in one process, so concurrent requests
                       queue on it and a client's concurrency counts for nothing; AWS answers in tens of ms
                       spent mostly waiting, in parallel across requests. The wait sleeps (other requests
                       proceed meanwhile) and is left out of /_bench/times.
  POST /_bench/throttle body {"families": {...} | null, "scale": x}: AWS's token buckets in front of moto
                       (bench/throttle_model.py; the table of bucket sizes comes from the runner); a request
                       whose bucket is empty is answered as AWS throttles (EC2: 503 RequestLimitExceeded;
                       JSON protocols: 400 ThrottlingException; Route 53 and query: 400 Throttling) and not
                       served. `null` turns it off.
  GET  /_bench/throttled throttled answers so far, per account and operation.
  POST /_bench/in-flight resets, GET reads, the most requests answered at once since the last reset, per
                       service and in all (`*`): from arrival to answer, waits included.
  POST /_bench/replay  body {"mode": "record" | "replay" | "off", "latencyMs": N}: keeps moto's answers
                       (record), then answers the same requests from them after N ms without calling moto
                       (replay): the client alone, at an AWS-like latency (see Replay below).
  GET  /_bench/replay  what is kept and how the replay went (answers served, misses per operation).
  GET  /_bench/replay/kept the answers kept since the last GET of it (bodies in base64), which it forgets;
  POST /_bench/replay/kept body {"answers": [...]} as that GET gives them: adds them to what is kept.
                       Together they hand answers from a recording server to a replaying one, so a unit is
                       replayed on the second while the first records the next (bench/units.ts).
  GET  /_bench/cpu     this server's CPU seconds and peak RSS so far.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import resource
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "harness"))

import moto_server  # noqa: E402,F401  (applies the harness patches on import)
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ec2.models.subnets import Subnet  # noqa: E402
from moto.ec2.models.tags import TagBackend  # noqa: E402
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix  # noqa: E402
from moto.ecs.models import ecs_backends  # noqa: E402
from throttle_model import ThrottleModel, throttle_answer  # noqa: E402  (bench/, next to this file)

# ---------------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------------
_SCOPE_RE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_COUNTS: dict[str, dict[str, int]] = {}
_COUNTS_LOCK = threading.Lock()


_TIMES: dict[str, dict[str, float]] = {}
# Seconds every AWS request waits before moto serves it (POST /_bench/latency).
_LATENCY = {"seconds": 0.0}

# Route 53's REST operations (the others are named by X-Amz-Target or Action), as the fault proxy names them.
_ROUTE53_ROUTES = [
    ("GET", re.compile(r"^/2013-04-01/hostedzonesbyvpc$"), "ListHostedZonesByVPC"),
    ("GET", re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset$"), "ListResourceRecordSets"),
    ("POST", re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset/?$"), "ChangeResourceRecordSets"),
    ("POST", re.compile(r"^/2013-04-01/hostedzone/[^/]+/associatevpc$"), "AssociateVPCWithHostedZone"),
    ("POST", re.compile(r"^/2013-04-01/hostedzone/[^/]+/disassociatevpc$"), "DisassociateVPCFromHostedZone"),
    ("GET", re.compile(r"^/2013-04-01/hostedzone/[^/]+$"), "GetHostedZone"),
    ("GET", re.compile(r"^/2013-04-01/hostedzone$"), "ListHostedZones"),
    ("POST", re.compile(r"^/2013-04-01/hostedzone$"), "CreateHostedZone"),
]


class Request:
    """What the bench knows of one AWS request: who sends it, to what, and its identity for replay."""

    __slots__ = ("account", "region", "service", "operation", "protocol", "params", "key", "content_type")

    def __init__(self, environ: dict[str, Any]) -> None:
        match = _SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", "") or "")
        assert match is not None
        key_id, self.region, self.service = match.group(1), match.group(2), match.group(3)
        self.account = key_id if re.fullmatch(r"\d{12}", key_id) else "123456789012"
        body = b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        target = environ.get("HTTP_X_AMZ_TARGET")
        self.content_type = environ.get("CONTENT_TYPE", "") or ""
        self.params: dict[str, Any] = {}
        if target:
            self.protocol = "json"
            self.operation = target.split(".")[-1]
        elif self.content_type.startswith("application/x-www-form-urlencoded") or (not body and "Action=" in query):
            self.protocol = "ec2" if self.service == "ec2" else "query"
            self.params = {k: v[0] for k, v in parse_qs(body.decode() or query, keep_blank_values=True).items()}
            self.operation = self.params.get("Action", "unknown")
        else:
            self.protocol = "restXml" if self.service in ("route53", "s3") else "restJson"
            self.operation = next(
                (name for m, pattern, name in _ROUTE53_ROUTES if m == method and pattern.match(path)),
                "unknown",
            )
        # The SDK's signature, date and invocation headers differ between two sends of one request: the
        # identity is what the service reads.
        digest = hashlib.sha1(body).hexdigest()
        self.key = "\x00".join((self.account, self.region, self.service, method, path, query, target or "", digest))

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


def _identify(environ: dict[str, Any]) -> Request | None:
    if not _SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", "") or ""):
        return None
    return Request(environ)


def _count(table: dict[str, dict[str, int]], request: Request) -> None:
    with _COUNTS_LOCK:
        per_account = table.setdefault(request.account, {})
        per_account[request.name] = per_account.get(request.name, 0) + 1


def _record_time(request: Request | None, seconds: float) -> None:
    if request is None:
        return
    with _COUNTS_LOCK:
        per_account = _TIMES.setdefault(request.account, {})
        per_account[request.name] = per_account.get(request.name, 0.0) + seconds * 1000


# ---------------------------------------------------------------------------------------------------
# Throttling, requests in flight, record and replay
# ---------------------------------------------------------------------------------------------------
# POST /_bench/throttle: AWS's token buckets in front of the emulator (bench/throttle_model.py).
_THROTTLE: dict[str, ThrottleModel | None] = {"model": None}
# Throttled answers per account and operation (GET /_bench/throttled).
_THROTTLED: dict[str, dict[str, int]] = {}


class InFlight:
    """Requests being answered at once, per service and in all; peaks since the last reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def _add(self, service: str, delta: int) -> None:
        with self._lock:
            for key in (service, "*"):
                self.now[key] = self.now.get(key, 0) + delta
                if delta > 0 and self.now[key] > self.peak.get(key, 0):
                    self.peak[key] = self.now[key]

    def enter(self, service: str) -> None:
        self._add(service, 1)

    def leave(self, service: str) -> None:
        self._add(service, -1)

    def reset(self) -> dict[str, int]:
        with self._lock:
            peak = dict(self.peak)
            self.peak = {k: v for k, v in self.now.items() if v > 0}
            return peak


_IN_FLIGHT = InFlight()


class Replay:
    """
    POST /_bench/replay {"mode": "record" | "replay" | "off", "latencyMs": N}.

    record: moto serves every request as usual and its answer is kept, per request identity (account,
    Region, service, method, path, query, target and a hash of the body: what the service reads).
    replay: a request is answered with the kept answer of its identity (the n-th time for its n-th
    send, the last one after), after `latencyMs` spent sleeping; moto is not called, so the run costs
    the emulator almost nothing and other requests proceed meanwhile. A request never recorded is served
    by moto (counted as a miss). Throttled answers are not kept, nor do they use up an answer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mode = "off"
        self.latency = 0.0
        self.store: dict[str, list[tuple[str, list[tuple[str, str]], bytes]]] = {}
        self.served: dict[str, int] = {}
        self.misses: dict[str, int] = {}
        self.bytes = 0
        # Kept since the last hand-over (GET /_bench/replay/kept), in the order kept.
        self.handed: list[tuple[str, tuple[str, list[tuple[str, str]], bytes]]] = []

    def configure(self, mode: str, latency_ms: float) -> dict[str, Any]:
        if mode not in ("record", "replay", "off"):
            raise ValueError(f"mode record|replay|off, got {mode}")
        with self._lock:
            if mode == "record":
                self.store, self.bytes, self.handed = {}, 0, []
            if mode == "replay":
                self.served, self.misses = {}, {}
            self.mode = mode
            self.latency = latency_ms / 1000
        return self.stats()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self.mode,
                "latencyMs": self.latency * 1000,
                "identities": len(self.store),
                "answers": sum(len(v) for v in self.store.values()),
                "bytes": self.bytes,
                "served": sum(self.served.values()),
                "misses": dict(self.misses),
            }

    def keep(self, request: Request, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "date", "server", "connection")]
        with self._lock:
            self.store.setdefault(request.key, []).append((status, kept, body))
            self.handed.append((request.key, (status, kept, body)))
            self.bytes += len(body)

    def hand_over(self) -> list[list[Any]]:
        """The answers kept since the last hand-over, as JSON can carry them; forgotten here."""
        with self._lock:
            handed, self.handed = self.handed, []
        return [[key, status, headers, base64.b64encode(body).decode()] for key, (status, headers, body) in handed]

    def take_over(self, answers: list[list[Any]]) -> int:
        """Adds answers another server handed over (hand_over), after its own of the same identity."""
        with self._lock:
            for key, status, headers, body in answers:
                raw = base64.b64decode(body)
                self.store.setdefault(key, []).append((status, [(k, v) for k, v in headers], raw))
                self.bytes += len(raw)
        return len(answers)

    def answer(self, request: Request) -> tuple[str, list[tuple[str, str]], bytes] | None:
        with self._lock:
            answers = self.store.get(request.key)
            if not answers:
                self.misses[request.name] = self.misses.get(request.name, 0) + 1
                return None
            n = self.served.get(request.key, 0)
            self.served[request.key] = n + 1
            return answers[min(n, len(answers) - 1)]


_REPLAY = Replay()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _max_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


# ---------------------------------------------------------------------------------------------------
# Bulk seeding through moto's backends
# ---------------------------------------------------------------------------------------------------
MANAGED_TAG = {"Key": "ecs-endpoint-remediator/managed", "Value": "true"}


def _vpc_cidr(index: int) -> str:
    # /20 VPCs carved out of 10.0.0.0/8: 4096 of them, never overlapping.
    return f"10.{index >> 4}.{(index & 15) << 4}.0/20"


# ---------------------------------------------------------------------------------------------------
# Serving shortcuts: moto's answers, computed in less time
# ---------------------------------------------------------------------------------------------------
# Two lookups made moto's serving of an XL account quadratic (py-spy on the recording server of
# `npm run bench -- --size XL --throttle aws`): a resource's tags, which moto finds by scanning every tag
# of the Region (each DescribeVpcEndpoints filter reads every endpoint's tags: 10,000 endpoints), and a
# subnet's AvailableIpAddressCount, which it counts by scanning every network interface of the Region
# for each subnet it describes (a DescribeSubnets of a shard's subnets took about a minute). Both give
# the same answers here, from the backend's own dicts. They change what the recording costs moto, not
# what is recorded, and the replays never call moto.
_orig_describe_tags = TagBackend.describe_tags
_WILDCARD = re.compile(r"[*?\\]")


def _describe_tags(self: Any, filters: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    ids = (filters or {}).get("resource-id")
    if filters and set(filters) == {"resource-id"} and ids and len(ids) == 1 and not _WILDCARD.search(ids[0]):
        resource_id = ids[0]
        resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
            for key, value in dict(self.tags.get(resource_id, {})).items()
        ]
    return _orig_describe_tags(self, filters)


TagBackend.describe_tags = _describe_tags  # type: ignore[method-assign]

# Addresses taken per subnet, per backend, counted in one pass; kept while the Region's number of
# network interfaces stays the same (the bench's runs only plan: they create and delete none).
_TAKEN: dict[int, tuple[int, dict[str, int]]] = {}
_harness_available_ips = Subnet.available_ip_address_count


def _available_ip_address_count(self: Any) -> int:
    if not self.cidr_block:
        return int(_harness_available_ips.fget(self))  # type: ignore[attr-defined]
    enis = self.ec2_backend.enis
    cached = _TAKEN.get(id(self.ec2_backend))
    if cached is None or cached[0] != len(enis):
        taken: dict[str, int] = {}
        for eni in list(enis.values()):
            if eni.subnet is not None and eni.private_ip_addresses:
                taken[eni.subnet.id] = taken.get(eni.subnet.id, 0) + len(eni.private_ip_addresses)
        cached = (len(enis), taken)
        _TAKEN[id(self.ec2_backend)] = cached
    return int(self._available_ip_addresses - cached[1].get(self.id, 0))


Subnet.available_ip_address_count = property(_available_ip_address_count)  # type: ignore[assignment,method-assign]


def _subnet_cidr(index: int, k: int) -> str:
    return f"10.{index >> 4}.{((index & 15) << 4) + k}.0/24"


def _seeding_shortcuts(ec2: Any) -> dict[str, Any]:
    """
    Faster answers to the lookups moto makes while it creates resources, for seeding only: installed as
    attributes of the backend, shadowing its methods, and removed when seeding ends (requests are served
    as moto serves them). moto answers each lookup by scanning every subnet, route table, security group,
    volume or instance of the Region, so seeding grew with the square of the account: XL (5 × L) took
    more than 5 minutes. Each shortcut answers the call shapes moto makes while seeding (by ids, by one
    VPC, by one subnet's association, every group) from indexes of the backend's own objects, refreshed
    when a lookup misses, and hands any other call to moto. The bench seeds no subnet or route table
    shared from another account, which the harness's lookups would add.
    """
    cls = type(ec2)
    index: dict[str, Any] = {"subnets": {}, "groups": {}, "instances": {}, "reservations": {}, "assoc": {}}

    def subnet_index() -> dict[str, Any]:
        return {s.id: s for per_az in ec2.subnets.values() for s in per_az.values()}

    def subnets(subnet_ids: Any = None, filters: Any = None) -> Any:
        if subnet_ids and not filters:
            if not all(i in index["subnets"] for i in subnet_ids):
                index["subnets"] = subnet_index()
            if all(i in index["subnets"] for i in subnet_ids):
                return [index["subnets"][i] for i in subnet_ids]
        elif not subnet_ids and filters and set(filters) == {"vpc-id"}:
            wanted = filters["vpc-id"]
            wanted = {wanted} if isinstance(wanted, str) else set(wanted)
            return [s for per_az in ec2.subnets.values() for s in per_az.values() if s.vpc_id in wanted]
        return cls.describe_subnets(ec2, subnet_ids, filters)

    def route_tables(route_table_ids: Any = None, filters: Any = None) -> Any:
        if not route_table_ids and filters and set(filters) == {"association.subnet-id"}:
            ids = {t for subnet in filters["association.subnet-id"] for t in index["assoc"].get(subnet, ())}
            return [ec2.route_tables[t] for t in ids if t in ec2.route_tables]
        return cls.describe_route_tables(ec2, route_table_ids, filters)

    def associate_route_table(route_table_id: str, gateway_id: Any = None, subnet_id: Any = None) -> Any:
        association = cls.associate_route_table(ec2, route_table_id, gateway_id=gateway_id, subnet_id=subnet_id)
        if subnet_id:
            index["assoc"].setdefault(subnet_id, set()).add(route_table_id)
        return association

    def volumes(volume_ids: Any = None, filters: Any = None) -> Any:
        if volume_ids and not filters and all(v in ec2.volumes for v in volume_ids):
            return [ec2.volumes[v] for v in volume_ids]
        return cls.describe_volumes(ec2, volume_ids, filters)

    def every_group() -> list[Any]:
        size = (len(ec2.groups), sum(len(g) for g in ec2.groups.values()))
        if index.get("groups_size") != size:
            index["groups_size"] = size
            index["all_groups"] = [g for per_vpc in ec2.groups.values() for g in per_vpc.values()]
            index["groups"] = {g.id: g for g in index["all_groups"]}
        return index["all_groups"]

    def security_groups(group_ids: Any = None, groupnames: Any = None, filters: Any = None) -> Any:
        if not groupnames and not filters:
            groups = every_group()
            if not group_ids:
                return list(groups)
            if all(g in index["groups"] for g in group_ids):
                return [index["groups"][g] for g in dict.fromkeys(group_ids)]
        return cls.describe_security_groups(ec2, group_ids, groupnames, filters)

    def group_from_id(group_id: str) -> Any:
        every_group()
        return index["groups"].get(group_id)

    def instance_of(instance_id: str) -> Any:
        if instance_id not in index["instances"]:
            # A reservation is stored before its last instances are made: indexed again while it grows.
            for reservation_id, reservation in list(ec2.reservations.items()):
                if index["reservations"].get(reservation_id) != len(reservation.instances):
                    index["reservations"][reservation_id] = len(reservation.instances)
                    index["instances"].update((i.id, i) for i in reservation.instances)
        return index["instances"].get(instance_id)

    def get_instance(instance_id: str) -> Any:
        return instance_of(instance_id) or cls.get_instance(ec2, instance_id)

    def instances_by_id(instance_ids: list[str], filters: Any = None) -> Any:
        found = [instance_of(i) for i in instance_ids]
        if filters or any(f is None for f in found):
            return cls.get_multi_instances_by_id(ec2, instance_ids, filters)
        return found

    images: dict[str, Any] = {}

    def cached_images(*args: Any, **kwargs: Any) -> Any:
        key = json.dumps([args, kwargs], sort_keys=True, default=str)
        if key not in images:
            images[key] = cls.describe_images(ec2, *args, **kwargs)
        return images[key]

    return {
        "describe_images": cached_images,
        "describe_subnets": subnets,
        "describe_route_tables": route_tables,
        "associate_route_table": associate_route_table,
        "describe_volumes": volumes,
        "describe_security_groups": security_groups,
        "get_security_group_from_id": group_from_id,
        "get_instance": get_instance,
        "get_multi_instances_by_id": instances_by_id,
    }


def seed(account_id: str, region: str, spec: dict[str, Any]) -> dict[str, Any]:
    ec2 = ec2_backends[account_id][region]
    shortcuts = _seeding_shortcuts(ec2)
    for name, shortcut in shortcuts.items():
        setattr(ec2, name, shortcut)
    try:
        return _seed(account_id, region, spec)
    finally:
        for name in shortcuts:
            delattr(ec2, name)


def _seed(account_id: str, region: str, spec: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    phases: dict[str, float] = {}
    last = [started]

    def phase(name: str) -> None:
        now = time.monotonic()
        phases[name] = round(now - last[0], 2)
        last[0] = now

    ec2 = ec2_backends[account_id][region]
    ecs = ecs_backends[account_id][region]
    zones = [f"{region}{suffix}" for suffix in "abc"]

    vpc_ids: dict[str, str] = {}
    private: dict[str, list[str]] = {}  # vpc key -> private subnet ids, one per AZ
    endpoint_group: dict[str, str] = {}
    private_tables: dict[str, list[str]] = {}
    for index, v in enumerate(spec["vpcs"]):
        tags = [{"Key": "Name", "Value": v["key"]}]
        if v.get("ignored"):
            tags.append({"Key": "ecs-endpoint-remediator/ignore", "Value": "true"})
        vpc = ec2.create_vpc(_vpc_cidr(index), tags=tags)
        vpc_ids[v["key"]] = vpc.id
        # enableDnsHostnames is turned off at the end: moto cannot start a task's ENI in such a VPC.
        ec2.modify_vpc_attribute(vpc.id, "enable_dns_hostnames", True)
        if v.get("customDns"):
            options = ec2.create_dhcp_options(domain_name_servers=["10.0.0.2", "10.0.0.3"])
            ec2.associate_dhcp_options(options, vpc)
        subnets = [
            ec2.create_subnet(vpc.id, _subnet_cidr(index, k), availability_zone=zones[k]).id
            for k in range(v["azs"])
        ]
        private[v["key"]] = subnets
        egress = v["egress"]
        tables = []
        if egress in ("nat", "igw"):
            igw = ec2.create_internet_gateway()
            ec2.attach_internet_gateway(igw.id, vpc.id)
        if egress == "nat":
            public = ec2.create_subnet(vpc.id, _subnet_cidr(index, 15), availability_zone=zones[0]).id
            public_table = ec2.create_route_table(vpc.id)
            ec2.create_route(public_table.id, "0.0.0.0/0", gateway_id=igw.id)
            ec2.associate_route_table(public_table.id, subnet_id=public)
            eip = ec2.allocate_address(domain="vpc")
            nat = ec2.create_nat_gateway(public, eip.allocation_id)
        for k, subnet_id in enumerate(subnets):
            table = ec2.create_route_table(vpc.id)
            if egress == "nat":
                ec2.create_route(table.id, "0.0.0.0/0", nat_gateway_id=nat.id)
            elif egress == "igw":
                ec2.create_route(table.id, "0.0.0.0/0", gateway_id=igw.id)
            ec2.associate_route_table(table.id, subnet_id=subnet_id)
            tables.append(table.id)
        private_tables[v["key"]] = tables
        if v.get("endpointGroup"):
            group = ec2.create_security_group("endpoints", "VPC endpoints", vpc_id=vpc.id)
            ec2.authorize_security_group_ingress(
                group.id, "tcp", "443", "443", [{"CidrIp": _vpc_cidr(index)}], vpc_id=vpc.id
            )
            endpoint_group[v["key"]] = group.id

    def subnet_of(ref: dict[str, Any]) -> str:
        return private[ref["vpc"]][ref["az"]]

    phase("vpcs")
    for c in spec["clusters"]:
        ecs.create_cluster(c["name"], capacity_providers=c.get("capacityProviders"))

    # EC2 instances, one reservation per (cluster, subnet, stopped) group (moto's lookups of them and of
    # the AMI answered by the seeding shortcuts above).
    groups: dict[tuple[str, str, int, bool], list[dict[str, Any]]] = {}
    for i in spec["instances"]:
        groups.setdefault((i["cluster"], i["vpc"], i["az"], bool(i.get("stopped"))), []).append(i)
    for (cluster, _vpc, _az, stopped), members in groups.items():
        subnet_id = subnet_of(members[0])
        reservation = ec2.run_instances(
            "ami-0123456789abcdef0",
            len(members),
            None,
            [],
            instance_type="m5.large",
            is_instance_type_default=False,
            subnet_id=subnet_id,
            placement=None,
            region_name=region,
        )
        for instance, member in zip(reservation.instances, members):
            ci = ecs.register_container_instance(cluster, instance.id)
            ci.version_info = {
                "agentVersion": member["agentVersion"],
                "agentHash": "a1b2c3d4",
                "dockerVersion": "DockerVersion: 25.0.8",
            }
            ci.attributes.update(
                {
                    "ecs.os-type": "linux",
                    "ecs.os-family": "LINUX",
                    "ecs.vpc-id": instance.vpc_id,
                    "ecs.subnet-id": subnet_id,
                }
            )
        if stopped:
            ec2.stop_instances([instance.id for instance in reservation.instances])

    phase("instances")
    td_arns: dict[str, str] = {}
    for t in spec["taskDefinitions"]:
        containers = []
        for n, c in enumerate(t["containers"]):
            container: dict[str, Any] = {"name": f"c{n}", "image": c["image"], "essential": True, "memory": 256}
            if c.get("awslogs"):
                container["logConfiguration"] = {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": f"/ecs/{t['family']}", "awslogs-region": region},
                }
            if c.get("secrets"):
                container["secrets"] = [{"name": f"S{k}", "valueFrom": ref} for k, ref in enumerate(c["secrets"])]
            containers.append(container)
        fargate = t["compat"] == "FARGATE"
        td = ecs.register_task_definition(
            t["family"],
            containers,
            network_mode="awsvpc" if fargate else "bridge",
            requires_compatibilities=[t["compat"]],
            cpu="256",
            memory="512",
            execution_role_arn=f"arn:aws:iam::{account_id}:role/ecsTaskExecutionRole",
        )
        td_arns[t["family"]] = td.arn

    phase("taskDefinitions")
    for s in spec["services"]:
        network = None
        if s.get("subnets"):
            network = {
                "awsvpcConfiguration": {"subnets": [subnet_of(r) for r in s["subnets"]], "securityGroups": []}
            }
        ecs.create_service(
            s["cluster"],
            s["name"],
            1,
            task_definition_str=td_arns[s["taskDefinition"]],
            launch_type=s["launchType"],
            network_configuration=network,
        )

    phase("services")
    for t in spec["tasks"]:
        ecs.run_task(
            t["cluster"],
            td_arns[t["taskDefinition"]],
            1,
            None,
            "bench",
            None,
            "FARGATE",
            networking_configuration={
                "awsvpcConfiguration": {"subnets": [subnet_of(r) for r in t["subnets"]], "securityGroups": []}
            },
        )

    phase("tasks")
    for e in spec["endpoints"]:
        vpc_id = vpc_ids[e["vpc"]]
        name = f"com.amazonaws.{region}.{e['service']}"
        if e["service"] == "s3":
            ec2.create_vpc_endpoint(
                vpc_id, name, "Gateway", None, route_table_ids=private_tables[e["vpc"]], private_dns_enabled=False
            )
        else:
            subnets = private[e["vpc"]]
            groups = [endpoint_group[e["vpc"]]] if e["vpc"] in endpoint_group else []
            ec2.create_vpc_endpoint(
                vpc_id,
                name,
                "Interface",
                None,
                route_table_ids=[],
                subnet_ids=subnets,
                security_group_ids=groups,
                private_dns_enabled=e.get("privateDns", True),
            )

    phase("endpoints")
    for v in spec["vpcs"]:
        if not v.get("dnsHostnames", True):
            ec2.modify_vpc_attribute(vpc_ids[v["key"]], "enable_dns_hostnames", False)

    phase("dnsHostnames")
    return {"vpcIds": vpc_ids, "seconds": round(time.monotonic() - started, 3), "phases": phases}


# ---------------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------------


def _json(start_response: Any, status: str, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _body(environ: dict[str, Any]) -> Any:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(length) or b"{}")


def _account_table(environ: dict[str, Any], table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    account = parse_qs(environ.get("QUERY_STRING", "")).get("account", [None])[0]
    with _COUNTS_LOCK:
        return dict(table.get(account, {})) if account else {k: dict(v) for k, v in table.items()}


def _serve(app: Any, environ: dict[str, Any], start_response: Any, request: Request | None) -> Any:
    """moto's answer; kept for replay while recording."""
    started = time.perf_counter()
    try:
        if request is None or _REPLAY.mode != "record":
            return app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        _REPLAY.keep(request, captured["status"], captured["headers"], body)
        return [body]
    finally:
        _record_time(request, time.perf_counter() - started)


def wrap(app: Any) -> Any:
    def bench_app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            return control(path, environ, start_response)
        request = _identify(environ)
        if request is None:
            return app(environ, start_response)
        _count(_COUNTS, request)
        _IN_FLIGHT.enter(request.service)
        try:
            if _LATENCY["seconds"] > 0:
                time.sleep(_LATENCY["seconds"])
            replaying = _REPLAY.mode == "replay"
            model = _THROTTLE["model"]
            if model is not None and not model.admit(
                request.account, request.region, request.service, request.operation, request.params
            ):
                _count(_THROTTLED, request)
                if replaying:
                    time.sleep(_REPLAY.latency)
                status, headers, body = throttle_answer(request.protocol, request.service, request.content_type)
                start_response(status, [*headers, ("Content-Length", str(len(body)))])
                return [body]
            if replaying:
                time.sleep(_REPLAY.latency)
                kept = _REPLAY.answer(request)
                if kept is not None:
                    status, headers, body = kept
                    start_response(status, [*headers, ("Content-Length", str(len(body)))])
                    return [body]
            return _serve(app, environ, start_response, request)
        finally:
            _IN_FLIGHT.leave(request.service)

    return bench_app


def control(path: str, environ: dict[str, Any], start_response: Any) -> Any:
    """The /_bench/ routes (module docstring)."""
    if path == "/_bench/counts":
        return _json(start_response, "200 OK", _account_table(environ, _COUNTS))
    if path == "/_bench/times":
        times = _account_table(environ, _TIMES)
        return _json(start_response, "200 OK", {k: round(v, 1) for k, v in times.items()})
    if path == "/_bench/throttled":
        return _json(start_response, "200 OK", _account_table(environ, _THROTTLED))
    if path == "/_bench/latency":
        _LATENCY["seconds"] = float(_body(environ)["ms"]) / 1000
        return _json(start_response, "200 OK", {"ms": _LATENCY["seconds"] * 1000})
    if path == "/_bench/throttle":
        request = _body(environ)
        families = request.get("families")
        _THROTTLE["model"] = ThrottleModel(families, float(request.get("scale", 1))) if families else None
        return _json(start_response, "200 OK", {"on": families is not None})
    if path == "/_bench/in-flight":
        if environ.get("REQUEST_METHOD") == "POST":
            return _json(start_response, "200 OK", _IN_FLIGHT.reset())
        return _json(start_response, "200 OK", dict(_IN_FLIGHT.peak))
    if path == "/_bench/replay/kept":
        if environ.get("REQUEST_METHOD") == "POST":
            return _json(start_response, "200 OK", {"added": _REPLAY.take_over(_body(environ)["answers"])})
        return _json(start_response, "200 OK", {"answers": _REPLAY.hand_over()})
    if path == "/_bench/replay":
        if environ.get("REQUEST_METHOD") == "POST":
            request = _body(environ)
            try:
                stats = _REPLAY.configure(request["mode"], float(request.get("latencyMs", 0)))
            except ValueError as error:
                return _json(start_response, "400 Bad Request", {"error": str(error)})
            return _json(start_response, "200 OK", stats)
        return _json(start_response, "200 OK", _REPLAY.stats())
    if path == "/_bench/cpu":
        return _json(start_response, "200 OK", {"seconds": _cpu_seconds(), "maxRssMb": _max_rss_mb()})
    if path == "/_bench/seed":
        request = _body(environ)
        try:
            result = seed(request["accountId"], request["region"], request["spec"])
        except Exception as error:  # reported to the runner, which stops
            logging.exception("seed failed")
            return _json(start_response, "500 Internal Server Error", {"error": repr(error)})
        return _json(start_response, "200 OK", {**result, "maxRssMb": _max_rss_mb()})
    return _json(start_response, "404 Not Found", {"error": f"no route {path}"})


def main() -> None:
    # The harness server's own loop (arguments, READY line, stdin watch), with the bench routes.
    moto_server.main(wrap=wrap, description=__doc__.splitlines()[0])

if __name__ == "__main__":
    main()
