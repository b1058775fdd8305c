"""moto server for the benchmark: the test harness's patched moto plus bulk seeding and request counting.

Usage: python bench/moto_bench_server.py [--port N] [--exit-on-stdin-eof]
Prints `READY <port>` on stdout once it accepts requests (like test/harness/moto_server.py).

Importing test/harness/moto_server.py applies all of its patches (P0 account isolation by a 12-digit access
key id, paging, ECS limits, ...); nothing of it is changed here. On top of it:

  POST /_bench/seed    body {"accountId", "region", "spec"}: builds the synthetic account described by
                       `spec` (bench/spec.ts) directly through moto's Python backends, thousands of resources
                       in seconds where the SDK path would take minutes. Answers {"vpcIds": {key: id}, ...}.
  GET  /_bench/times   milliseconds moto spent per account and operation (where a run's wall time goes).
  GET  /_bench/counts  every AWS request received so far, counted per account, per service and per
                       operation (service from the SigV4 credential scope, operation from X-Amz-Target or the
                       query `Action`). The same counting for every client (our SDK v3 code and Cloud
                       Custodian's boto3), so it cross-checks the remediator's own counter.
  POST /_bench/latency body {"ms": N}: from now on every AWS request waits N ms before moto serves it
                       (default 0). moto answers in a few ms of CPU in one process, so concurrent requests
                       queue on it and a client's concurrency counts for nothing; AWS answers in tens of ms
                       spent mostly waiting, in parallel across requests. The wait sleeps (other requests
                       proceed meanwhile) and is left out of /_bench/times.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "harness"))

import moto_server  # noqa: E402,F401  (applies the harness patches on import)
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ecs.models import ecs_backends  # noqa: E402

# ---------------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------------
_SCOPE_RE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_ACTION_RE = re.compile(rb"(?:^|&)Action=([A-Za-z0-9]+)")
_COUNTS: dict[str, dict[str, int]] = {}
_COUNTS_LOCK = threading.Lock()


_TIMES: dict[str, dict[str, float]] = {}
# Seconds every AWS request waits before moto serves it (POST /_bench/latency).
_LATENCY = {"seconds": 0.0}


def _record(environ: dict[str, Any]) -> tuple[str, str] | None:
    auth = environ.get("HTTP_AUTHORIZATION", "") or ""
    match = _SCOPE_RE.search(auth)
    if not match:
        return None
    key_id, _region, service = match.group(1), match.group(2), match.group(3)
    account = key_id if re.fullmatch(r"\d{12}", key_id) else "123456789012"
    target = environ.get("HTTP_X_AMZ_TARGET")
    operation = target.split(".")[-1] if target else None
    if operation is None:
        body = b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
        found = _ACTION_RE.search(body) or _ACTION_RE.search(environ.get("QUERY_STRING", "").encode())
        operation = found.group(1).decode() if found else "unknown"
    with _COUNTS_LOCK:
        per_account = _COUNTS.setdefault(account, {})
        key = f"{service}:{operation}"
        per_account[key] = per_account.get(key, 0) + 1
    return account, key


def _record_time(recorded: tuple[str, str] | None, seconds: float) -> None:
    if recorded is None:
        return
    account, key = recorded
    with _COUNTS_LOCK:
        per_account = _TIMES.setdefault(account, {})
        per_account[key] = per_account.get(key, 0.0) + seconds * 1000


# ---------------------------------------------------------------------------------------------------
# Bulk seeding through moto's backends
# ---------------------------------------------------------------------------------------------------
MANAGED_TAG = {"Key": "ecs-endpoint-remediator/managed", "Value": "true"}


def _vpc_cidr(index: int) -> str:
    # /20 VPCs carved out of 10.0.0.0/8: 4096 of them, never overlapping.
    return f"10.{index >> 4}.{(index & 15) << 4}.0/20"


def _subnet_cidr(index: int, k: int) -> str:
    return f"10.{index >> 4}.{((index & 15) << 4) + k}.0/24"


def seed(account_id: str, region: str, spec: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
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

    for c in spec["clusters"]:
        ecs.create_cluster(c["name"], capacity_providers=c.get("capacityProviders"))

    # EC2 instances, one reservation per (cluster, subnet, stopped) group. moto looks instances up by a
    # scan of every reservation and describes the AMI per instance: fine for tests, quadratic for
    # thousands. While seeding, both are answered newest-first / from a cache (instance attributes
    # shadowing the backend's methods, removed again below); requests are served as moto does.
    def newest_first(instance_id: str) -> Any:
        for reservation in reversed(list(ec2.reservations.values())):
            for instance in reservation.instances:
                if instance.id == instance_id:
                    return instance
        return type(ec2).get_instance(ec2, instance_id)

    images: dict[str, Any] = {}

    def cached_images(*args: Any, **kwargs: Any) -> Any:
        key = json.dumps([args, kwargs], sort_keys=True, default=str)
        if key not in images:
            images[key] = type(ec2).describe_images(ec2, *args, **kwargs)
        return images[key]

    ec2.get_instance = newest_first
    ec2.describe_images = cached_images
    try:
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
    finally:
        del ec2.get_instance
        del ec2.describe_images

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

    for v in spec["vpcs"]:
        if not v.get("dnsHostnames", True):
            ec2.modify_vpc_attribute(vpc_ids[v["key"]], "enable_dns_hostnames", False)

    return {"vpcIds": vpc_ids, "seconds": round(time.monotonic() - started, 3)}


# ---------------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------------


def _json(start_response: Any, status: str, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def wrap(app: Any) -> Any:
    def bench_app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/_bench/counts":
            account = parse_qs(environ.get("QUERY_STRING", "")).get("account", [None])[0]
            with _COUNTS_LOCK:
                counts = dict(_COUNTS.get(account, {})) if account else {k: dict(v) for k, v in _COUNTS.items()}
            return _json(start_response, "200 OK", counts)
        if path == "/_bench/times":
            account = parse_qs(environ.get("QUERY_STRING", "")).get("account", [""])[0]
            with _COUNTS_LOCK:
                times = {k: round(v, 1) for k, v in _TIMES.get(account, {}).items()}
            return _json(start_response, "200 OK", times)
        if path == "/_bench/latency":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            _LATENCY["seconds"] = float(json.loads(environ["wsgi.input"].read(length))["ms"]) / 1000
            return _json(start_response, "200 OK", {"ms": _LATENCY["seconds"] * 1000})
        if path == "/_bench/seed":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length))
            try:
                result = seed(request["accountId"], request["region"], request["spec"])
            except Exception as error:  # reported to the runner, which stops
                logging.exception("seed failed")
                return _json(start_response, "500 Internal Server Error", {"error": repr(error)})
            return _json(start_response, "200 OK", result)
        recorded = _record(environ)
        if recorded is not None and _LATENCY["seconds"] > 0:
            time.sleep(_LATENCY["seconds"])
        started = time.perf_counter()
        try:
            return app(environ, start_response)
        finally:
            _record_time(recorded, time.perf_counter() - started)

    return bench_app


def main() -> None:
    # The harness server's own loop (arguments, READY line, stdin watch), with the bench routes.
    moto_server.main(wrap=wrap, description=__doc__.splitlines()[0])

if __name__ == "__main__":
    main()
