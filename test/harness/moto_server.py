"""moto 5.2.5 server for the test harness, with the gaps that matter to ecs-endpoint-remediator closed.

Usage: python test/harness/moto_server.py --port N [--exit-on-stdin-eof]
Binds 127.0.0.1 (port 0 = any free port) and prints `READY <port>` on stdout once it accepts requests.
With --exit-on-stdin-eof the server exits when its stdin closes, so it never outlives the process that
spawned it (test/harness/moto.ts uses this).

Every patch restores a behaviour of real AWS that moto lacks. They are applied at import time, in this
process only; nothing in site-packages is modified.

  P0  Accounts: an access key id of 12 digits is used as the account id (moto 5.2.5 only recognises
      20-character keys and maps everything else to 123456789012, so tests could not isolate themselves
      by account). Other keys, x-moto-account-id and MOTO_ACCOUNT_ID behave as in moto.
  P1  CreateVpcEndpoint ClientToken idempotency: a repeated token returns the endpoint created with it;
      the same token with other parameters is IdempotentParameterMismatch.
  P2  CreateVpcEndpoint validation and defaults:
      - ServiceName must be offered by DescribeVpcEndpointServices in the Region -> InvalidServiceName.
        Cross-Region (PrivateLink cross-Region connectivity): com.amazonaws.<other-region>.<svc> is
        accepted only with ServiceRegion=<other-region> and if <svc> is offered there; it is stored and
        returned as ServiceRegion.
      - VpcEndpointType must be one the service offers (default Gateway, as in AWS) -> InvalidParameter.
      - SecurityGroupIds must exist -> InvalidGroup.NotFound, and be in the VPC -> InvalidParameter;
        an Interface endpoint without SecurityGroupIds gets the VPC's default group (moto: none).
      - SubnetIds must be in the VPC, at most one per AZ -> DuplicateSubnetsInSameZone.
      - PrivateDnsEnabled defaults to true for Interface, false for Gateway (moto: true for both).
        With private DNS: the VPC needs enableDnsSupport and enableDnsHostnames -> InvalidParameter;
        another live Interface endpoint in the VPC with the same private DNS name and private DNS on
        -> InvalidParameter "... conflicting DNS domain ...".
      - Endpoint ENIs get an address inside their subnet, the endpoint's groups, interface type
        vpc_endpoint and description "VPC Endpoint Interface <id>" (moto: random IP, no groups).
      - DnsEntries look like AWS's (regional, zonal, and the private DNS name when enabled).
  P3  ModifyVpcEndpoint: PrivateDnsEnabled honoured (same checks as P2); AddSecurityGroupIds validated;
      AddSubnetIds validated (VPC, one per AZ) and given ENIs, RemoveSubnetIds removes their ENIs;
      AddRouteTableIds / RemoveRouteTableIds add/remove the prefix-list route (moto only kept the ids);
      ResetPolicy restores the full-access policy.
  P4  Paging: DescribeVpcEndpoints honours MaxResults/NextToken (default and max 1000; moto: one page).
      ECS ListClusters / ListServices / ListContainerInstances / ListTasks honour maxResults/nextToken
      (1..100; default 100, ListServices 10, as in AWS). ECS DescribeServices takes at most 10 services,
      DescribeContainerInstances / DescribeTasks / DescribeClusters at most 100 (moto: unlimited).
      DescribeVpcEndpointServices already pages in moto (token = next ServiceId); left as is.
  P5  ECS RegisterContainerInstance honours versionInfo and attributes (moto: agent 1.0.0, attributes
      derived from the EC2 instance only). agentConnected and registeredAt were already returned.
  P6  ECS CreateService honours capacityProviderStrategy (and the cluster's default strategy when neither
      launchType nor a strategy is given): launchType is then absent, as in AWS (moto: always EC2).
      Both launchType and a strategy -> InvalidParameterException.
  P7  ECS ListTasks: serviceName filters on the task group "service:<name>" (moto ignored it and listed
      every task); desiredStatus defaults to RUNNING as in AWS.
  P8  EC2 DeleteVpcEndpoints reports unknown ids in Unsuccessful (moto: silently ignored).
  P9  ECS tasks stay RUNNING until StopTask (moto advanced a task one state per read: a task described
      four times was STOPPED). Still overridable through /moto-api/state-manager/set-transition.
  P10 ECS ListServices / ListTasks match the cluster exactly (moto matched substrings: cluster "web" also
      listed the services of "myweb"; ListTasks for cluster "c" listed the tasks of every cluster).
  P11 DescribeVpcEndpoints filters vpc-endpoint-id, service-region and ip-address-type work (moto: HTTP
      500); vpc-id, service-name, vpc-endpoint-state, vpc-endpoint-type and tags already did.
  P12 ModifyVpcAttribute takes exactly one attribute: none -> MissingParameter, several ->
      InvalidParameterCombination (moto accepted both and changed nothing / everything).
  P13 ECS ListContainerInstances honours `filter` (cluster query language; moto ignored it and listed
      every instance), for the subset the remediator and tests use: `attribute:<name>`, `ec2InstanceId`
      and `agentConnected` with ==, !=, in [...], not_in / !in [...], and for attributes exists / !exists,
      joined by `and`. Anything else is InvalidParameterException naming the harness, so a test never
      mistakes an unsupported filter for an empty result. `status` is still honoured; paging (P4) applies
      to the filtered list. An unknown cluster is ClusterNotFoundException, as in AWS (moto: empty list).
  P14 EC2 DescribeRegions lists what AWS lists: without AllRegions only the Regions enabled for the account
      (opt-in-not-required or opted-in; moto also listed the not-opted-in ones), and only the Regions of the
      partition the request went to (moto also listed every aws-cn and aws-us-gov Region as enabled).
  P15 Organizations ListAccounts from an account in no organization is AWSOrganizationsNotInUseException, as
      in AWS (moto answered an empty list, which reads as an organization without accounts).
  P16 A new endpoint is on its way before it is usable, as on AWS: CreateVpcEndpoint answers with the
      endpoint `pending` (an interface endpoint's network interfaces are still being created), and
      DescribeVpcEndpoints shows it `available` once they are
      (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcEndpoint.html, State: PendingAcceptance,
      Pending, Available, ...; moto made every endpoint available at once). In a VPC tagged
      eer-test:endpoint-pending-seconds=N, an endpoint created there stays `pending` until N seconds after its
      creation (filters and all), N read from the tag at each DescribeVpcEndpoints, so a test ends the wait
      by lowering it; elsewhere an endpoint is available at once, as moto had it.
  P17 AZ names are each account's own: a participant's DescribeSubnets names a subnet shared with it by the
      participant's name for the subnet's zone (moto's names shifted by one place), AvailabilityZoneId
      unchanged (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing-share-subnet-working-with.html,
      "Map subnets across Availability Zones"; moto named every account's zones alike):
      test/harness/moto_network.py, beside N12.
  P18 A security group a participant creates in a shared VPC starts with the allow-all outbound rules every new
      group has (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html; moto added them only
      for a VPC of the creating account, so the participant's group allowed nothing out):
      test/harness/moto_network.py, beside N12.
  P19 DynamoDB BatchWriteItem refuses a batch AWS refuses as a whole
      (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html: "You try to
      perform multiple operations on the same item in the same BatchWriteItem request. For example, you
      cannot put and delete the same item in the same BatchWriteItem request"; "There are more than 25
      requests in the batch"): two requests on one key of a table (put and delete, two puts of different
      content, two deletes) -> ValidationException "Provided list of item keys contains duplicates"; more
      than 25 requests -> ValidationException "Too many items requested for the BatchWriteItem call".
      moto compared whole put items only (two puts of one key with other attributes, or a put and a
      delete of one key, went through) and took any number of requests.
  P20 Route 53 Profiles, which moto 5.2.5 lacks (its dispatcher knows no route53profiles signing name):
      CreateProfile, ListProfiles, AssociateResourceToProfile and ListProfileResourceAssociations
      (https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Route_53_Profiles.html),
      per account and Region, paged (maxResults 1..100, default 100), an unknown Profile
      ResourceNotFoundException; the resource associated must exist (a VPC endpoint of the Region, a hosted
      zone of the account). Served by a WSGI layer in front of moto's dispatcher on the same server, and
      cleared by /moto-api/reset: test/harness/moto_network.py (route53_profiles_app), which lists what is
      left out (sharing through AWS RAM, AssociateProfile, the exact messages).

  S1-S4 SSM DescribeInstanceInformation / SendCommand outcomes / ListCommandInvocations and ECS
      UpdateContainerAgent, steered per instance by tags: test/harness/moto_ssm.py.
  N1-N12 IPv6 subnets, prefix lists, ECS task ENIs / services / Exec, endpoint IP address types, private
      hosted zones (also across accounts), Resolver rules and shared VPCs (AWS RAM): test/harness/moto_network.py.

Endpoint services (checked, nothing added): moto 5.2.5 offers com.amazonaws.<region>.X for ecs, ecs-agent,
ecs-telemetry, ecr.api, ecr.dkr, s3 (Gateway and Interface), logs, secretsmanager, ssm, ssmmessages,
ec2messages, sts, kms ... in every Region, with the Region's AZs.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from typing import Any

from moto.core.responses import ActionResult, BaseResponse
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.responses import DynamoHandler
from moto.ec2.exceptions import (
    EC2ClientError,
    InvalidSecurityGroupNotFoundError,
    InvalidServiceName,
)
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions
from moto.ec2.responses.vpcs import VPCs
from moto.ec2.utils import random_private_ip
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api import state_manager
from moto.organizations.exceptions import AWSOrganizationsNotInUseException
from moto.organizations.models import OrganizationsBackend
from moto.moto_api._internal import mock_random

# ---------------------------------------------------------------------------------------------------
# P0 accounts
# ---------------------------------------------------------------------------------------------------
_orig_get_current_account = BaseResponse.get_current_account
_ACCOUNT_KEY_RE = re.compile(r"Credential=(\d{12})/")


def _get_current_account(self: Any) -> str:
    # Real AWS: the access key identifies the account. Tests use their 12-digit account id as the key
    # id; moto only recognises 20-character keys (else: default account 123456789012), so read it from
    # the SigV4 Authorization header here. Any other key keeps moto's own resolution.
    match = _ACCOUNT_KEY_RE.search(self.headers.get("Authorization", "") or "")
    if match and "MOTO_ACCOUNT_ID" not in os.environ and "x-moto-account-id" not in self.headers:
        return match.group(1)
    return _orig_get_current_account(self)


BaseResponse.get_current_account = _get_current_account  # type: ignore[method-assign]

# ---------------------------------------------------------------------------------------------------
# Helpers for the VPC endpoint patches
# ---------------------------------------------------------------------------------------------------
_DEAD_STATES = {"deleted", "deleting", "failed", "rejected", "expired"}
_SERVICE_NAME_RE = re.compile(r"^com\.amazonaws\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(.+)$")


def _err(code: str, message: str) -> EC2ClientError:
    return EC2ClientError(code, message)


def _truthy(value: Any) -> bool:
    # ModifyVpcAttribute may store a bool or the string "true"/"false".
    return value is True or str(value).lower() == "true"


def _region_zones(region: str) -> list[str]:
    return [z.name for z in RegionsAndZonesBackend.zones.get(region, [])]


def _services(backend: Any, region: str) -> list[dict[str, Any]]:
    """The endpoint services DescribeVpcEndpointServices lists in `region` (defaults + own configs)."""
    services = list(VPCBackend._collect_default_endpoint_services(backend.account_id, region))
    if region == backend.region_name:
        services += [c.to_dict() for c in backend.configurations.values()]
    return services


def _service_entries(backend: Any, service_name: str, service_region: str | None) -> list[dict[str, Any]]:
    """Catalogue entries for a name, honouring cross-Region names only when ServiceRegion says so."""
    region = backend.region_name
    m = _SERVICE_NAME_RE.match(service_name or "")
    if m and m.group(1) != region:
        other = m.group(1)
        if service_region != other or not _region_zones(other):
            return []
        region = other
    elif service_region and service_region != region:
        return []
    return [s for s in _services(backend, region) if s["ServiceName"] == service_name]


def _private_dns_name(backend: Any, ep: Any) -> str:
    entries = _service_entries(backend, ep.service_name, getattr(ep, "harness_service_region", None))
    for s in entries:
        if s.get("PrivateDnsName"):
            return str(s["PrivateDnsName"])
    m = _SERVICE_NAME_RE.match(ep.service_name or "")
    return f"{m.group(2)}.{m.group(1)}.amazonaws.com" if m else str(ep.service_name)


def _is_interface(endpoint_type: str | None) -> bool:
    return (endpoint_type or "").lower() == "interface"


def _check_private_dns(backend: Any, vpc_id: str, dns_name: str, exclude_id: str | None) -> None:
    vpc = backend.get_vpc(vpc_id)
    if not (_truthy(vpc.enable_dns_support) and _truthy(vpc.enable_dns_hostnames)):
        # AWS rejects private DNS unless both VPC DNS attributes are on.
        raise _err(
            "InvalidParameter",
            "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for "
            + vpc_id,
        )
    for other in backend.vpc_end_points.values():
        if (
            other.id != exclude_id
            and other.vpc_id == vpc_id
            and _is_interface(other.vpc_endpoint_type)
            and other.state not in _DEAD_STATES
            and _truthy(other.private_dns_enabled)
            and _private_dns_name(backend, other) == dns_name
        ):
            # AWS creates one private hosted zone per DNS name per VPC; a second one conflicts.
            raise _err(
                "InvalidParameter",
                f"private-dns-enabled cannot be set because there is already a conflicting DNS domain for {dns_name} "
                f"in the VPC {vpc_id}",
            )


def _check_security_groups(backend: Any, vpc_id: str, group_ids: list[str]) -> None:
    for gid in group_ids:
        sg = backend.get_security_group_from_id(gid)
        if sg is None:
            raise InvalidSecurityGroupNotFoundError(gid)
        if sg.vpc_id != vpc_id:
            raise _err("InvalidParameter", f"Security group {gid} and VPC {vpc_id} do not belong to the same network.")


def _check_subnets(backend: Any, vpc_id: str, subnet_ids: list[str]) -> None:
    seen: dict[str, str] = {}
    for sid in subnet_ids:
        subnet = backend.get_subnet(sid)  # InvalidSubnetID.NotFound
        if subnet.vpc_id != vpc_id:
            raise _err("InvalidParameter", f"The subnet {sid} does not belong to the VPC {vpc_id}.")
        az = subnet.availability_zone
        if az in seen and seen[az] != sid:
            # AWS: an interface endpoint has at most one ENI (subnet) per Availability Zone.
            raise _err(
                "DuplicateSubnetsInSameZone",
                f"Found another VPC endpoint subnet in the availability zone of {sid}. VPC endpoint subnets should be "
                "in different availability zones supported by the VPC endpoint service.",
            )
        seen[az] = sid


def _add_eni(backend: Any, ep: Any, subnet_id: str) -> str:
    subnet = backend.get_subnet(subnet_id)
    eni = backend.create_network_interface(
        subnet_id,
        random_private_ip(subnet.cidr_block),
        group_ids=list(ep.security_group_ids),
        description=f"VPC Endpoint Interface {ep.id}",
    )
    eni.interface_type = "vpc_endpoint"
    eni.requester_managed = True
    eni.status = "in-use"
    return str(eni.id)


def _refresh_dns_entries(backend: Any, ep: Any) -> None:
    """DnsEntries in AWS's shape: regional name, one per AZ, then the private name if enabled."""
    if not _is_interface(ep.vpc_endpoint_type):
        ep.dns_entries = []
        return
    if not getattr(ep, "harness_dns_suffix", None):
        ep.harness_dns_suffix = "".join(mock_random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    entries = _service_entries(backend, ep.service_name, getattr(ep, "harness_service_region", None))
    bases = (entries[0].get("BaseEndpointDnsNames") if entries else None) or [ep.service_name]
    base = str(bases[0])
    prefix = f"{ep.id}-{ep.harness_dns_suffix}"
    dns = [{"DnsName": f"{prefix}.{base}", "HostedZoneId": "Z7HUB22UULQXV"}]
    for sid in ep.subnet_ids or []:
        az = backend.get_subnet(sid).availability_zone
        dns.append({"DnsName": f"{prefix}-{az}.{base}", "HostedZoneId": "Z7HUB22UULQXV"})
    if _truthy(ep.private_dns_enabled):
        dns.append({"DnsName": _private_dns_name(backend, ep), "HostedZoneId": "ZONEIDPENDING"})
    ep.dns_entries = dns


# ServiceRegion is returned in DescribeVpcEndpoints (serializer reads `service_region`).
VPCEndPoint.service_region = property(lambda self: getattr(self, "harness_service_region", None))  # type: ignore[attr-defined]

# P11: DescribeVpcEndpoints filters AWS documents but moto lacks (moto answered HTTP 500).
_orig_endpoint_filter_value = VPCEndPoint.get_filter_value


def _endpoint_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
    if filter_name == "vpc-endpoint-id":
        return self.id
    if filter_name == "service-region":
        return getattr(self, "harness_service_region", None) or self.ec2_backend.region_name
    if filter_name == "ip-address-type":
        return "ipv4"
    return _orig_endpoint_filter_value(self, filter_name, method_name)


VPCEndPoint.get_filter_value = _endpoint_filter_value  # type: ignore[method-assign]

# ---------------------------------------------------------------------------------------------------
# P1 + P2 CreateVpcEndpoint
# ---------------------------------------------------------------------------------------------------
_orig_create_vpc_endpoint = VPCs.create_vpc_endpoint
# The server is threaded: AWS applies ClientToken and the private DNS conflict check atomically, so
# endpoint creates and modifies run one at a time here (concurrent applies must not both win).
_ENDPOINT_LOCK = threading.RLock()


def _create_vpc_endpoint(self: Any) -> ActionResult:
    with _ENDPOINT_LOCK:
        return _create_vpc_endpoint_locked(self)


def _create_vpc_endpoint_locked(self: Any) -> ActionResult:
    backend = self.ec2_backend
    vpc_id = self._get_param("VpcId")
    service_name = self._get_param("ServiceName")
    service_region = self._get_param("ServiceRegion")
    endpoint_type = self._get_param("VpcEndpointType") or "Gateway"  # AWS default
    token = self._get_param("ClientToken")

    # P1: AWS makes CreateVpcEndpoint idempotent on ClientToken (account + Region scope).
    if token:
        for ep in backend.vpc_end_points.values():
            if ep.client_token == token:
                if (ep.vpc_id, ep.service_name, (ep.vpc_endpoint_type or "").lower()) != (
                    vpc_id,
                    service_name,
                    endpoint_type.lower(),
                ):
                    raise _err("IdempotentParameterMismatch", f"The client token {token} was already used with other parameters.")
                return ActionResult({"VpcEndpoint": ep, "ClientToken": token})

    # P2: validate what AWS validates.
    backend.get_vpc(vpc_id)
    entries = _service_entries(backend, service_name, service_region)
    if not entries:
        raise InvalidServiceName(service_name)
    types = sorted({t["ServiceType"] for s in entries for t in s["ServiceType"]})
    if endpoint_type.lower() not in [t.lower() for t in types]:
        raise _err("InvalidParameter", f"Endpoint type ({endpoint_type}) does not match available service types ({types}).")

    interface = _is_interface(endpoint_type)
    subnet_ids = self._get_param("SubnetIds", []) or []
    group_ids = self._get_param("SecurityGroupIds", []) or []
    private_dns = self._get_bool_param("PrivateDnsEnabled")
    if private_dns is None:
        private_dns = interface  # AWS: on by default for Interface endpoints of AWS services, off for Gateway
    if interface:
        _check_subnets(backend, vpc_id, subnet_ids)
        _check_security_groups(backend, vpc_id, group_ids)
        if private_dns:
            dns_name = next((str(s["PrivateDnsName"]) for s in entries if s.get("PrivateDnsName")), service_name)
            _check_private_dns(backend, vpc_id, dns_name, None)
    else:
        private_dns = False

    result = _orig_create_vpc_endpoint(self)
    ep = result.result["VpcEndpoint"]  # type: ignore[index]
    ep.vpc_endpoint_type = "Interface" if interface else ("Gateway" if endpoint_type.lower() == "gateway" else endpoint_type)
    ep.private_dns_enabled = bool(private_dns)
    if service_region and service_region != backend.region_name:
        ep.harness_service_region = service_region
    if interface:
        if not ep.security_group_ids:
            default = backend.get_security_group_from_name("default", vpc_id=vpc_id)
            ep.security_group_ids = [default.id] if default else []
        for eni_id in ep.network_interface_ids:  # moto's ENIs: random IP outside the subnet, no groups
            backend.enis.pop(eni_id, None)
        ep.network_interface_ids = [_add_eni(backend, ep, sid) for sid in ep.subnet_ids or []]
    _refresh_dns_entries(backend, ep)
    _start_pending(backend, ep)
    return ActionResult({"VpcEndpoint": ep, "ClientToken": token} if token else {"VpcEndpoint": ep})


# P16: eer-test:endpoint-pending-seconds on the VPC keeps its new endpoints pending that long.
_PENDING_TAG = "eer-test:endpoint-pending-seconds"


def _pending_seconds(backend: Any, vpc_id: str) -> float:
    tags = {t["key"]: t["value"] for t in backend.get_vpc(vpc_id).get_tags()}
    return float(tags.get(_PENDING_TAG) or 0)


def _start_pending(backend: Any, ep: Any) -> None:
    if _pending_seconds(backend, ep.vpc_id) > 0:
        ep.state = "pending"
        ep.harness_created_at = time.time()


def _settle_pending(backend: Any) -> None:
    # The tag is read again each time, so a test ends the wait by lowering it (time passing, at once).
    now = time.time()
    for ep in backend.vpc_end_points.values():
        created_at = getattr(ep, "harness_created_at", None)
        if created_at is None or ep.state != "pending":
            continue
        if now >= created_at + _pending_seconds(backend, ep.vpc_id):
            ep.state = "available"
            ep.harness_created_at = None


VPCs.create_vpc_endpoint = _create_vpc_endpoint  # type: ignore[method-assign]

# ---------------------------------------------------------------------------------------------------
# P3 ModifyVpcEndpoint
# ---------------------------------------------------------------------------------------------------
_orig_modify_vpc_endpoint = VPCs.modify_vpc_endpoint


def _modify_vpc_endpoint(self: Any) -> ActionResult:
    with _ENDPOINT_LOCK:
        return _modify_vpc_endpoint_locked(self)


def _modify_vpc_endpoint_locked(self: Any) -> ActionResult:
    backend = self.ec2_backend
    ep = backend.get_vpc_end_point(self._get_param("VpcEndpointId"))
    add_subnets = self._get_param("AddSubnetIds", []) or []
    remove_subnets = self._get_param("RemoveSubnetIds", []) or []
    add_groups = self._get_param("AddSecurityGroupIds", []) or []
    add_rts = self._get_param("AddRouteTableIds", []) or []
    remove_rts = self._get_param("RemoveRouteTableIds", []) or []
    private_dns = self._get_bool_param("PrivateDnsEnabled")
    reset_policy = self._get_bool_param("ResetPolicy")

    if _is_interface(ep.vpc_endpoint_type):
        _check_security_groups(backend, ep.vpc_id, add_groups)
        kept = [s for s in (ep.subnet_ids or []) if s not in remove_subnets]
        _check_subnets(backend, ep.vpc_id, kept + [s for s in add_subnets if s not in kept])
        if private_dns:
            _check_private_dns(backend, ep.vpc_id, _private_dns_name(backend, ep), ep.id)
    elif private_dns:
        raise _err("InvalidParameter", "Private DNS can only be enabled for Interface endpoints.")
    for rt in add_rts + remove_rts:
        backend.get_route_table(rt)  # InvalidRouteTableID.NotFound

    before_subnets = list(ep.subnet_ids or [])
    before_rts = list(ep.route_table_ids or [])
    result = _orig_modify_vpc_endpoint(self)

    if reset_policy:
        ep.policy_document = json.dumps(VPCEndPoint.DEFAULT_POLICY)
    if private_dns is not None and _is_interface(ep.vpc_endpoint_type):
        ep.private_dns_enabled = private_dns
    if _is_interface(ep.vpc_endpoint_type):
        # ENIs follow the subnets; ENI groups follow the endpoint's groups.
        keep = []
        for eni_id in ep.network_interface_ids:
            eni = backend.enis.get(eni_id)
            if eni is None or eni.subnet.id not in (ep.subnet_ids or []):
                backend.enis.pop(eni_id, None)
            else:
                keep.append(eni_id)
        for sid in ep.subnet_ids or []:
            if sid not in before_subnets:
                keep.append(_add_eni(backend, ep, sid))
        ep.network_interface_ids = keep
        for eni_id in keep:
            eni = backend.enis.get(eni_id)
            if eni is not None:
                eni._group_set = [backend.get_security_group_from_id(g) for g in ep.security_group_ids]
    elif ep.destination_prefix_list_id:
        # Gateway endpoints: a route to the service's prefix list in each associated route table.
        for rt in ep.route_table_ids:
            if rt not in before_rts:
                backend.create_route(rt, None, gateway_id=ep.id, destination_prefix_list_id=ep.destination_prefix_list_id)
        for rt in before_rts:
            if rt not in ep.route_table_ids:
                try:
                    backend.delete_route(rt, None, destination_prefix_list_id=ep.destination_prefix_list_id)
                except EC2ClientError:
                    pass
    _refresh_dns_entries(backend, ep)
    return result


VPCs.modify_vpc_endpoint = _modify_vpc_endpoint  # type: ignore[method-assign]

# ---------------------------------------------------------------------------------------------------
# P4 paging
# ---------------------------------------------------------------------------------------------------


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str) -> int | None:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()).decode())["offset"]
        return offset if isinstance(offset, int) and offset >= 0 else None
    except Exception:
        return None


def _page(items: list[Any], max_results: int, token: str | None, bad_token: Any) -> tuple[list[Any], str | None]:
    start = 0
    if token:
        decoded = _decode_token(token)
        if decoded is None:
            raise bad_token
        start = decoded
    end = start + max_results
    return items[start:end], (_encode_token(end) if end < len(items) else None)


_orig_describe_vpc_endpoints = VPCs.describe_vpc_endpoints


def _describe_vpc_endpoints(self: Any) -> ActionResult:
    # AWS: MaxResults is capped at 1000 (also the default); NextToken continues.
    _settle_pending(self.ec2_backend)  # P16: before the filters see the state
    result = _orig_describe_vpc_endpoints(self)
    max_results = self._get_int_param("MaxResults") or 1000
    max_results = min(max(max_results, 1), 1000)
    token = self._get_param("NextToken")
    items = list(result.result["VpcEndpoints"])  # type: ignore[index]
    from moto.ec2.exceptions import InvalidNextToken

    page, next_token = _page(items, max_results, token, InvalidNextToken(token or ""))
    out: dict[str, Any] = {"VpcEndpoints": page}
    if next_token:
        out["NextToken"] = next_token
    return ActionResult(out)


VPCs.describe_vpc_endpoints = _describe_vpc_endpoints  # type: ignore[method-assign]

_ECS_LISTS = {
    # operation: (result key, default page size)
    "list_clusters": ("clusterArns", 100),
    "list_services": ("serviceArns", 10),
    "list_container_instances": ("containerInstanceArns", 100),
    "list_tasks": ("taskArns", 100),
}


def _ecs_paged(name: str, key: str, default: int) -> Any:
    orig = getattr(EC2ContainerServiceResponse, name)

    def paged(self: Any) -> ActionResult:
        # AWS ECS list calls return pages of at most maxResults (1..100) with a nextToken.
        max_results = self._get_int_param("maxResults")
        if max_results is not None and not 1 <= max_results <= 100:
            raise InvalidParameterException("maxResults must be between 1 and 100.")
        result = orig(self)
        items = list(result.result[key])
        page, next_token = _page(items, max_results or default, self._get_param("nextToken"),
                                 InvalidParameterException("Invalid nextToken."))
        out: dict[str, Any] = {key: page}
        if next_token:
            out["nextToken"] = next_token
        return ActionResult(out)

    return paged


def _ecs_limited(name: str, param: str, limit: int) -> Any:
    orig = getattr(EC2ContainerServiceResponse, name)

    def limited(self: Any) -> ActionResult:
        # AWS caps how many resources one Describe* call accepts; callers must batch.
        values = self._get_param(param) or []
        if len(values) > limit:
            raise InvalidParameterException(f"{param} can have at most {limit} items.")
        return orig(self)

    return limited


# ---------------------------------------------------------------------------------------------------
# P7 ListTasks serviceName / desiredStatus (wrapped before paging)
# ---------------------------------------------------------------------------------------------------


def _list_tasks(self: Any) -> ActionResult:
    desired = self._get_param("desiredStatus") or "RUNNING"  # AWS default
    service_name = self._get_param("serviceName")
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
    tasks = self.ecs_backend.list_tasks(
        cluster.name,
        self._get_param("containerInstance"),
        self._get_param("family"),
        self._get_param("startedBy"),
        None,
        desired,
    )
    # P10: moto matched the cluster name as a substring of the task's cluster ARN.
    tasks = [t for t in tasks if t.cluster_arn == cluster.arn]
    if service_name:
        # Tasks started by a service carry the group "service:<name>".
        tasks = [t for t in tasks if t.group == f"service:{service_name}"]
    return ActionResult({"taskArns": [t.task_arn for t in tasks]})


EC2ContainerServiceResponse.list_tasks = _list_tasks  # type: ignore[method-assign]


def _list_services(self: Any) -> ActionResult:
    # P10: moto matched "<cluster>:" as a substring of "<cluster>:<service>" keys, so cluster "web" also
    # listed the services of cluster "myweb". Same filters as moto otherwise.
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
    strategy = self._get_param("schedulingStrategy")
    launch_type = self._get_param("launchType")
    arns = [
        svc.arn
        for svc in self.ecs_backend.services.values()
        if svc.cluster_arn == cluster.arn
        and (strategy is None or svc.scheduling_strategy == strategy)
        and (launch_type is None or svc.launch_type == launch_type)
    ]
    return ActionResult({"serviceArns": sorted(arns)})


EC2ContainerServiceResponse.list_services = _list_services  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P13 ListContainerInstances filter (cluster query language subset; wrapped before paging)
# ---------------------------------------------------------------------------------------------------
_CQL_TERM = re.compile(
    r"^\s*(?P<subject>attribute:[A-Za-z0-9_.\-]+|ec2InstanceId|agentConnected)\s+"
    r"(?:(?P<unary>!?exists)|(?P<op>==|!=|in|not_in|!in)\s+(?P<arg>\[[^\]]*\]|[^\s\[\]]+))\s*$"
)


def _cql_unsupported(expression: str) -> InvalidParameterException:
    return InvalidParameterException(
        f"filter '{expression}' uses cluster query language the test harness does not emulate (P13)."
    )


def _cql_predicate(expression: str) -> Any:
    """A predicate over moto ContainerInstance objects for `expression` (terms joined by `and`)."""
    terms = []
    for part in re.split(r"\s+and\s+", expression.strip()):
        match = _CQL_TERM.match(part)
        if not match:
            raise _cql_unsupported(expression)
        subject, unary, op, arg = match.group("subject", "unary", "op", "arg")
        if unary and not subject.startswith("attribute:"):
            raise _cql_unsupported(expression)
        if op in ("in", "not_in", "!in"):
            if not (arg.startswith("[") and arg.endswith("]")):
                raise _cql_unsupported(expression)
            values = {v.strip() for v in arg[1:-1].split(",") if v.strip()}
        elif arg is not None and arg.startswith("["):
            raise _cql_unsupported(expression)
        else:
            values = {arg} if arg is not None else set()
        terms.append((subject, unary, op, values))

    def value_of(ci: Any, subject: str) -> str | None:
        if subject.startswith("attribute:"):
            name = subject[len("attribute:"):]
            if name not in ci.attributes:
                return None
            value = ci.attributes[name]
            return "" if value is None else str(value)
        if subject == "ec2InstanceId":
            return ci.ec2_instance_id
        return "true" if getattr(ci, "agent_connected", True) else "false"

    def matches(ci: Any) -> bool:
        for subject, unary, op, values in terms:
            value = value_of(ci, subject)
            if unary == "exists":
                ok = value is not None
            elif unary == "!exists":
                ok = value is None
            elif op in ("==", "in"):
                ok = value is not None and value in values
            else:  # !=, not_in, !in
                ok = value is None or value not in values
            if not ok:
                return False
        return True

    return matches


def _list_container_instances(self: Any) -> ActionResult:
    # AWS: `filter` selects container instances with a cluster query language expression, e.g.
    # `attribute:ecs.vpc-id in [vpc-1, vpc-2]`. Moto documents the filter as not implemented.
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
    status = self._get_param("status")
    expression = self._get_param("filter")
    predicate = _cql_predicate(expression) if expression else (lambda _ci: True)
    instances = self.ecs_backend.container_instances.get(cluster.name, {}).values()
    arns = sorted(
        ci.container_instance_arn
        for ci in instances
        if (status is None or ci.status == status) and predicate(ci)
    )
    return ActionResult({"containerInstanceArns": arns})


EC2ContainerServiceResponse.list_container_instances = _list_container_instances  # type: ignore[method-assign]

for _name, (_key, _default) in _ECS_LISTS.items():
    setattr(EC2ContainerServiceResponse, _name, _ecs_paged(_name, _key, _default))
for _name, _param, _limit in (
    ("describe_services", "services", 10),
    ("describe_container_instances", "containerInstances", 100),
    ("describe_tasks", "tasks", 100),
    ("describe_clusters", "clusters", 100),
):
    setattr(EC2ContainerServiceResponse, _name, _ecs_limited(_name, _param, _limit))

# ---------------------------------------------------------------------------------------------------
# P5 RegisterContainerInstance
# ---------------------------------------------------------------------------------------------------
_orig_register_container_instance = EC2ContainerServiceResponse.register_container_instance


def _register_container_instance(self: Any) -> ActionResult:
    result = _orig_register_container_instance(self)
    ci = result.result["containerInstance"]  # type: ignore[index]
    version_info = self._get_param("versionInfo")
    if version_info:
        # The agent reports its own version at registration; AWS returns it as is.
        ci.version_info = {k: v for k, v in version_info.items() if v is not None}
    for attr in self._get_param("attributes") or []:
        # The agent's attributes (capabilities, ecs.os-type, ...) are stored as sent.
        ci.attributes[attr["name"]] = attr.get("value")
    return result


EC2ContainerServiceResponse.register_container_instance = _register_container_instance  # type: ignore[method-assign]

# ---------------------------------------------------------------------------------------------------
# P6 CreateService capacity provider strategy
# ---------------------------------------------------------------------------------------------------
_orig_create_service = EC2ContainerServiceResponse.create_service


def _create_service(self: Any) -> ActionResult:
    strategy = self._get_param("capacityProviderStrategy")
    launch_type = self._get_param("launchType")
    if strategy and launch_type:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
        )
    if not strategy and not launch_type:
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        strategy = cluster.default_capacity_provider_strategy or None
    result = _orig_create_service(self)
    if strategy:
        # AWS: a service placed by a capacity provider strategy has no launchType.
        service = result.result["service"]  # type: ignore[index]
        service.capacity_provider_strategy = strategy
        service.launch_type = None
        for dep in service.deployments:
            dep["launchType"] = None
            dep["capacityProviderStrategy"] = strategy
    return result


EC2ContainerServiceResponse.create_service = _create_service  # type: ignore[method-assign]

# ---------------------------------------------------------------------------------------------------
# P8 DeleteVpcEndpoints
# ---------------------------------------------------------------------------------------------------
_orig_delete_vpc_endpoints = VPCs.delete_vpc_endpoints


def _delete_vpc_endpoints(self: Any) -> ActionResult:
    ids = self._get_param("VpcEndpointIds", []) or []
    known = self.ec2_backend.vpc_end_points
    _orig_delete_vpc_endpoints(self)
    unsuccessful = [
        {
            "Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": f"The VpcEndpoint Id '{i}' does not exist"},
            "ResourceId": i,
        }
        for i in ids
        if i not in known
    ]
    return ActionResult({"Unsuccessful": unsuccessful})


VPCs.delete_vpc_endpoints = _delete_vpc_endpoints  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P12 ModifyVpcAttribute: exactly one attribute a call
# ---------------------------------------------------------------------------------------------------
_orig_modify_vpc_attribute = VPCs.modify_vpc_attribute


def _modify_vpc_attribute(self: Any) -> Any:
    # AWS modifies one attribute per call and rejects a call with none; moto accepted both silently, so
    # a request whose attribute the SDK dropped (e.g. a mis-cased key) looked like a success.
    given = [
        a
        for a in ("EnableDnsSupport", "EnableDnsHostnames", "EnableNetworkAddressUsageMetrics")
        if self._get_param(f"{a}.Value") is not None
    ]
    if not given:
        raise _err("MissingParameter", "The request must contain exactly one attribute to modify.")
    if len(given) > 1:
        raise _err("InvalidParameterCombination", "Only one attribute can be modified at a time.")
    return _orig_modify_vpc_attribute(self)


VPCs.modify_vpc_attribute = _modify_vpc_attribute  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P14 DescribeRegions: enabled Regions of the request's partition
# ---------------------------------------------------------------------------------------------------
_orig_describe_regions = AvailabilityZonesAndRegions.describe_regions


def _partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _describe_regions(self: Any) -> Any:
    # AWS (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html): "Describes the
    # Regions that are enabled for your account, or all Regions" (AllRegions=true); an endpoint answers for
    # its own partition. moto listed every Region of every partition, disabled ones included.
    self.error_on_dryrun()
    all_regions = str(self._get_param("AllRegions", False)).lower() == "true"
    names = self._get_param("RegionNames", [])
    partition = _partition_of(self.region)
    regions = [
        r
        for r in self.ec2_backend.describe_regions(names)
        if _partition_of(r.name) == partition and (all_regions or names or r.opt_in_status != "not-opted-in")
    ]
    return ActionResult({"Regions": regions})


AvailabilityZonesAndRegions.describe_regions = _describe_regions  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P15 ListAccounts outside an organization
# ---------------------------------------------------------------------------------------------------
_orig_list_accounts = OrganizationsBackend.list_accounts


def _list_accounts(self: Any, *args: Any, **kwargs: Any) -> Any:
    # AWS (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html):
    # AWSOrganizationsNotInUseException when the account is not a member of an organization. moto
    # answered an empty list, which reads as an organization without accounts.
    if self.org is None:
        raise AWSOrganizationsNotInUseException
    return _orig_list_accounts(self, *args, **kwargs)


OrganizationsBackend.list_accounts = _list_accounts  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P19 BatchWriteItem: one request per key, at most 25 requests
# ---------------------------------------------------------------------------------------------------
_orig_batch_write_item = DynamoHandler.batch_write_item
BATCH_WRITE_MAX_REQUESTS = 25


def _batch_write_item(self: Any) -> Any:
    # AWS (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html) rejects
    # the whole batch when it holds more than 25 requests, or more than one operation on an item (a put
    # and a delete of it, two puts): the item is named by its key attributes, not by its content. moto
    # compared put items whole and accepted a put and a delete of one key, which AWS refuses.
    table_batches = self.body.get("RequestItems", {})
    if sum(len(requests) for requests in table_batches.values()) > BATCH_WRITE_MAX_REQUESTS:
        raise MockValidationException("Too many items requested for the BatchWriteItem call")
    for table_name, requests in table_batches.items():
        table = self.dynamodb_backend.get_table(table_name)
        key_names = [name for name in (table.hash_key_attr, table.range_key_attr) if name]
        seen: set[str] = set()
        for request in requests:
            kind, body = next(iter(request.items()))
            attributes = body.get("Item" if kind == "PutRequest" else "Key", {})
            key = json.dumps([attributes.get(name) for name in key_names], sort_keys=True)
            if key in seen:
                raise MockValidationException("Provided list of item keys contains duplicates")
            seen.add(key)
    return _orig_batch_write_item(self)


DynamoHandler.batch_write_item = _batch_write_item  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P9 ECS task lifecycle
# ---------------------------------------------------------------------------------------------------
# Real tasks stay RUNNING until stopped; moto's default moves them on by one state per DescribeTasks.
state_manager.register_default_transition("ecs::task", {"progression": "manual", "times": 10**12})


# ---------------------------------------------------------------------------------------------------
# S1-S4: SSM Run Command and ECS agent updates (a module of their own: see its docstring).
import moto_ssm  # noqa: E402,F401  (applies its patches on import)
import moto_network  # noqa: E402,F401  (applies its patches on import)

# ---------------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------------
def main(wrap: Any = None, description: str | None = None) -> None:
    """Serves moto on 127.0.0.1. `wrap` (bench/moto_bench_server.py) may wrap the WSGI app."""
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="exit when stdin closes")
    args = parser.parse_args()

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log lines
    app = moto_network.route53_profiles_app(DomainDispatcherApplication(create_backend_app))  # P20
    if wrap is not None:
        app = wrap(app)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    os.environ["MOTO_PORT"] = str(port)  # moto builds some URLs from it

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_on_stdin_eof:

        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except Exception:
                pass
            os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()

    # The socket is bound and listening once make_server returns.
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
