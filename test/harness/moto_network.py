"""Network reads of a real organisation's account, made honest in moto 5.2.5 (imported by moto_server.py).

The remediator reads shared VPCs, Route 53 private hosted zones, Resolver rules, prefix lists, IPv6, task ENIs,
endpoint policies and ECS Exec / FireLens settings. moto 5.2.5 got these wrong or lacked them; each patch below
states the AWS behaviour it restores and cites the AWS page. Where AWS refuses something, the patch gives AWS's
error code and message (or, where the exact message could not be found, AWS's code with a faithful message; the
comment says so). Checked and already right in moto (no patch): VPCs with an Amazon-provided IPv6 block (OwnerId,
Ipv6CidrBlockAssociationSet), IPv6-only CreateSubnet (Ipv6Native with only Ipv6CidrBlock), routes to ::/0 via an
egress-only internet gateway and to 64:ff9b::/96 via a NAT gateway, security group Ipv6Ranges, customer-managed
prefix lists (create, describe with OwnerId "AWS" vs the account, prefix-list-id filter, entries), cluster
executeCommandConfiguration, task definition firelensConfiguration / awsfirelens logConfiguration / roles,
endpoint PolicyDocument and OwnerId, VpcEndpointPolicySupported / PrivateDnsNames, kinesis-firehose,
kinesis-streams and kms in the endpoint service catalogue, Route 53 alias A/AAAA records, Resolver rule filters
VPCId / TYPE and GetResolverRule.

  N1  EC2 subnets: DescribeSubnets returns EnableDns64 (false by default); ModifySubnetAttribute EnableDns64 and
      EnableResourceNameDnsAAAARecordOnLaunch are honoured (moto ignored them); Ipv6CidrBlockState.State is
      "associated" (moto: a stringified dict); an IPv6-only subnet has AvailableIpAddressCount 0 (it counts IPv4
      addresses; moto: 2^64-5); CreateSubnet's Ipv6CidrBlock must lie in an IPv6 block of the VPC
      (InvalidSubnet.Range) and not overlap another subnet's (InvalidSubnet.Conflict); moto took any block.
  N2  Security groups and prefix lists: PrefixListIds keep their Description; a rule naming an unknown prefix list,
      DescribeManagedPrefixLists / GetManagedPrefixListEntries of an unknown id -> InvalidPrefixListID.NotFound
      (moto: accepted / empty / HTTP 500).
  N3  ECS awsvpc tasks: the task ENI gets an address inside its subnet (moto: any 10.x address), a private DNS name,
      the description AWS gives it ("arn:aws:ecs:<region>:<account>:attachment/<id>"), and is deleted when the task
      stops; RunTask validates subnets and security groups (moto created unknown groups on the fly) and falls back
      to the VPC's default group; a VPC without DNS hostnames no longer fails with HTTP 500; RunTask's
      enableExecuteCommand is kept and returned by DescribeTasks.
  N4  ECS services: CreateService / UpdateService enableExecuteCommand; UpdateService with a new task definition,
      network configuration, capacity provider strategy or forceNewDeployment starts a new PRIMARY deployment (with
      its own networkConfiguration) and leaves the previous one ACTIVE until the rollout completes (moto changed
      the one deployment in place); runningCount / pendingCount follow the service's tasks (group service:<name>,
      per deployment by startedBy = deployment id) instead of fixed numbers.
  N5  ECS DescribeClusters returns configuration only with include CONFIGURATIONS and settings only with SETTINGS.
  N6  VPC endpoints: IpAddressType (ipv4 | dualstack | ipv6) and DnsOptions.DnsRecordIpType are stored, returned and
      validated on CreateVpcEndpoint / ModifyVpcEndpoint (subnets, the service's SupportedIpAddressTypes, record
      type vs address type; default ipv4, records of the same type); endpoint ENIs of dualstack / ipv6 endpoints get
      IPv6 addresses (ipv6: no IPv4 address); the ip-address-type filter uses the real type.
  N7  DescribeVpcEndpointServices returns SupportedIpAddressTypes.
  N8  Private DNS of an interface endpoint conflicts with a Route 53 private hosted zone of the same name
      associated with the VPC (P2 only knew other endpoints).
  N9  Route 53 private hosted zones: the VPC must exist (InvalidVPCId); a second zone of the same name in one VPC
      is ConflictingDomainExists; the SOA record is a string (moto: a stringified dict) naming AWS's hostmaster;
      record names are stored lower case with \\ooo escapes, so a wildcard comes back as \\052.
  N10 Route 53 across accounts: Create/List/DeleteVPCAssociationAuthorization; AssociateVPCWithHostedZone from the
      VPC's account with the zone owner's authorization (else NotAuthorizedException); ListHostedZonesByVPC lists
      zones of every account associated with the VPC (Owner.OwningAccount = the zone's account, VPCRegion
      honoured); another account's zone is AccessDenied (HTTP 403) for GetHostedZone / ListResourceRecordSets /
      changes; DisassociateVPCFromHostedZone from the VPC's account.
  N11 Route 53 Resolver: listing associations or rules without names no longer fails (HTTP 500); MaxResults
      defaults to 100; TargetIps without Port means port 53 (moto: HTTP 500); a SYSTEM rule with TargetIps is
      refused; two rules for one domain name in one VPC conflict; rules shared through AWS RAM are listed (SHARED_
      WITH_ME / SHARED_BY_ME) and can be associated by the participant.
  N12 Shared VPCs (AWS RAM): after CreateResourceShare of subnet ARNs with an account id as principal, the
      participant's DescribeSubnets / DescribeVpcs / DescribeRouteTables include the shared subnets, their VPC and
      its route tables (OwnerId = the owner; tags are the participant's own), the participant can launch instances,
      ENIs and tasks in them, and its CreateVpcEndpoint in the shared VPC is UnauthorizedOperation "This operation
      does not support shared VPCs."; RAM GetResourceShares(resourceOwner OTHER-ACCOUNTS) and ListResources work.
      As inside an AWS Organization with RAM sharing enabled, a share is effective at once (no invitation).
      Principals are recognised as 12-digit account ids (not OU / organization ARNs). Authorization errors
      (AccessDenied, UnauthorizedOperation) answer HTTP 403 as in AWS (moto: 400 for any unmodelled code).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import sys
import threading
from typing import Any

import moto.core.serialize as moto_serialize
from moto.core.errors import ErrorShape
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.exceptions import (
    EC2ClientError,
    InvalidSubnetConflictError,
    InvalidSubnetIdError,
    InvalidSubnetRangeError,
    InvalidVPCIdError,
    InvalidRouteTableIdError,
)
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.models.managed_prefixes import ManagedPrefixListBackend
from moto.ec2.models.route_tables import RouteBackend as RouteTableBackend
from moto.ec2.models.security_groups import (
    GroupedSecurityRuleView,
    SecurityGroup,
    SecurityGroupRule,
)
from moto.ec2.models.subnets import Subnet, SubnetBackend
from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
from moto.ec2.responses.security_groups import SecurityGroups
from moto.ec2.responses.subnets import Subnets
from moto.ec2.responses.vpcs import VPCs
from moto.ec2.utils import generic_filter
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend, Service, Task
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random
from moto.ram import urls as ram_urls
from moto.ram.models import ram_backends
from moto.ram.responses import ResourceAccessManagerResponse
from moto.route53 import urls as route53_urls
from moto.route53.exceptions import (
    NoSuchHostedZone,
    PublicZoneVPCAssociation,
    Route53ClientError,
)
from moto.route53.models import Route53Backend, route53_backends
from moto.route53.responses import Route53
from moto.route53resolver.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.route53resolver.models import ResolverRuleAssociation, Route53ResolverBackend, route53resolver_backends
from moto.route53resolver.responses import Route53ResolverResponse
from moto.route53resolver.utils import PAGINATION_MODEL as RESOLVER_PAGINATION
from moto.route53resolver.validations import validate_args
from moto.utilities.paginator import paginate


def _host() -> Any:
    """The module of test/harness/moto_server.py (run as __main__, or imported as moto_server by bench/)."""
    for name in ("moto_server", "__main__"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "_check_private_dns"):
            return module
    raise RuntimeError("moto_network must be imported by test/harness/moto_server.py")


_HOST = _host()


def _err(code: str, message: str) -> EC2ClientError:
    return EC2ClientError(code, message)


# moto gives every error that its service model does not declare HTTP 400; AWS answers authorization failures
# (AccessDenied, UnauthorizedOperation) with 403. An exception carrying `harness_http_status` keeps its code and
# message and gets that status.
_orig_get_error_model = moto_serialize.get_error_model


def _get_error_model(error: Exception, service_model: Any) -> Any:
    status = getattr(error, "harness_http_status", None)
    if status is None:
        return _orig_get_error_model(error, service_model)
    code = getattr(error, "code", error.__class__.__name__)
    return ErrorShape(
        shape_name=code,
        shape_model={"exception": True, "type": "structure", "members": {}, "error": {"code": code, "httpStatusCode": status}},
    )


moto_serialize.get_error_model = _get_error_model  # type: ignore[assignment]


def _with_status(error: Any, status: int) -> Any:
    error.harness_http_status = status
    return error


def _accounts(backend_dict: Any) -> list[tuple[str, Any]]:
    """(account id, per-account backends) of every account that has used the service, without creating any."""
    return list(dict.items(backend_dict))


def _regional(account_backends: Any, region: str) -> Any:
    """The account's backend in `region` if it exists (dict.get: moto's __getitem__ would create it)."""
    return dict.get(account_backends, region)


# ---------------------------------------------------------------------------------------------------
# N12 (first, others use it) Shared VPCs through AWS RAM
# https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html: "the VPC owner shares one or more subnets with
# other accounts (participants) ... Participants can view, create, modify, and delete their application resources
# in the subnets shared with them." Participants see the shared subnets and their VPC (OwnerId = the owner). The
# owner's tags are not shared: each account sees the tags it put on the resource itself.
# ---------------------------------------------------------------------------------------------------
_SUBNET_ARN = re.compile(r"^arn:aws[a-z-]*:ec2:([a-z0-9-]+):(\d{12}):subnet/(subnet-[0-9a-f]+)$")
_RULE_ARN = re.compile(r"^arn:aws[a-z-]*:route53resolver:([a-z0-9-]+):(\d{12}):resolver-rule/(rslvr-rr-[0-9a-f]+)$")


def _shares_with(account_id: str, region: str) -> list[tuple[str, Any]]:
    """(owner account, ResourceShare) of the ACTIVE shares in `region` naming `account_id` as a principal."""
    found = []
    for owner, per_region in _accounts(ram_backends):
        if owner == account_id:
            continue
        backend = _regional(per_region, region)
        if backend is None:
            continue
        for share in list(backend.resource_shares):
            if share.status == "ACTIVE" and account_id in share.principals:
                found.append((owner, share))
    return found


def _shared_subnets(account_id: str, region: str) -> list[Any]:
    """The owners' Subnet objects shared with `account_id` in `region` (those that still exist)."""
    subnets: dict[str, Any] = {}
    for owner, share in _shares_with(account_id, region):
        owner_ec2 = _regional(dict.get(ec2_backends, owner) or {}, region)
        if owner_ec2 is None:
            continue
        for arn in share.resource_arns:
            m = _SUBNET_ARN.match(arn)
            if not m or m.group(1) != region or m.group(2) != owner:
                continue
            try:
                subnets[m.group(3)] = _orig_get_subnet(owner_ec2, m.group(3))
            except InvalidSubnetIdError:
                pass
    return list(subnets.values())


def _shared_vpcs(account_id: str, region: str) -> list[Any]:
    vpcs: dict[str, Any] = {}
    for subnet in _shared_subnets(account_id, region):
        vpc = subnet.ec2_backend.vpcs.get(subnet.vpc_id)
        if vpc is not None:
            vpcs[vpc.id] = vpc
    return list(vpcs.values())


def _viewed_by(resource: Any, viewer: Any) -> Any:
    """A copy of another account's resource whose tags are those the viewer put on it (AWS: tags are per account)."""
    view = copy.copy(resource)
    view.get_tags = lambda: viewer.describe_tags(filters={"resource-id": [resource.id]})
    return view


def _is_foreign(resource: Any, backend: Any) -> bool:
    return resource.ec2_backend.account_id != backend.account_id


_orig_get_subnet = SubnetBackend.get_subnet


def _get_subnet(self: Any, subnet_id: str) -> Any:
    try:
        return _orig_get_subnet(self, subnet_id)
    except InvalidSubnetIdError:
        for subnet in _shared_subnets(self.account_id, self.region_name):
            if subnet.id == subnet_id:
                return subnet  # the owner's object: ENIs, instances and tasks land in the owner's subnet
        raise


SubnetBackend.get_subnet = _get_subnet  # type: ignore[method-assign]


def _describe_subnets(self: Any, subnet_ids: list[str] | None = None, filters: Any | None = None) -> list[Any]:
    matches = [s for per_az in list(self.subnets.values()) for s in list(per_az.values())]
    matches += [
        _zone_viewed_by(_viewed_by(s, self), self) for s in _shared_subnets(self.account_id, self.region_name)
    ]
    if subnet_ids:
        matches = [s for s in matches if s.id in subnet_ids]
        unknown = set(subnet_ids) - {s.id for s in matches}
        if unknown:
            raise InvalidSubnetIdError(sorted(unknown)[0])
    if filters:
        matches = generic_filter(filters, matches)
    return matches


SubnetBackend.describe_subnets = _describe_subnets  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P18 A security group a participant creates in a shared VPC allows all outbound traffic, as every new group
# does. https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html (security group basics: "When
# you create a security group, it has an outbound rule that allows all outbound traffic"); participants create
# security groups in a shared VPC (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-share-limitations.html,
# "Participant resources"). moto added the default outbound rules only when the VPC was in the creating
# account's own backend, so a participant's group had no outbound rule at all.
# ---------------------------------------------------------------------------------------------------
_orig_group_init = SecurityGroup.__init__


def _group_init(
    self: Any, ec2_backend: Any, group_id: str, name: str, description: str, *args: Any, **kwargs: Any
) -> None:
    _orig_group_init(self, ec2_backend, group_id, name, description, *args, **kwargs)
    vpc_id = self.vpc_id
    if not vpc_id or self.egress_rules or ec2_backend.vpcs.get(vpc_id) is not None:
        return
    vpc = next((v for v in _shared_vpcs(ec2_backend.account_id, ec2_backend.region_name) if v.id == vpc_id), None)
    if vpc is None:
        return
    self.egress_rules.append(SecurityGroupRule(ec2_backend, "-1", self.id, None, None, {"CidrIp": "0.0.0.0/0"}))
    if len(vpc.get_cidr_block_association_set(ipv6=True)) > 0:
        self.egress_rules.append(SecurityGroupRule(ec2_backend, "-1", self.id, None, None, {"CidrIpv6": "::/0"}))


SecurityGroup.__init__ = _group_init  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P17 AZ names are each account's own: a participant sees a subnet shared with it under its own name
# for the subnet's zone. https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing-share-subnet-working-with.html
# ("Map subnets across Availability Zones"): "we independently map Availability Zones to names for each
# account. For example, the Availability Zone us-east-1a for your AWS account might not have the same
# location as us-east-1a for another AWS account. ... you must use an AZ ID ... Use AZ IDs to determine the
# location of resources in one account relative to another account." moto maps names to zones the same way
# in every account, so a join of two accounts' views by AZ name looked right. Here the viewer of another
# account's subnet sees moto's zone names shifted by one place (the zone moto names us-east-1b is the
# viewer's us-east-1a, ...), with AvailabilityZoneId unchanged. An account's own subnets keep moto's names:
# only the cross-account view differs, which is what a join of two accounts' reads meets.
# ---------------------------------------------------------------------------------------------------
def _zone_viewed_by(subnet: Any, viewer: Any) -> Any:
    """The view `subnet` (already a copy) with its zone named as the viewer names it (see P17)."""
    zones = list(viewer.describe_availability_zones())
    index = next((i for i, zone in enumerate(zones) if zone.zone_id == subnet.availability_zone_id), None)
    if index is None:
        return subnet
    own = zones[(index - 1) % len(zones)]
    subnet._availability_zone = type(own)(
        name=own.name, region_name=own.region_name, zone_id=subnet.availability_zone_id
    )
    return subnet

_orig_get_vpc = VPCBackend.get_vpc


def _get_vpc(self: Any, vpc_id: str) -> Any:
    try:
        return _orig_get_vpc(self, vpc_id)
    except InvalidVPCIdError:
        for vpc in _shared_vpcs(self.account_id, self.region_name):
            if vpc.id == vpc_id:
                return vpc
        raise


VPCBackend.get_vpc = _get_vpc  # type: ignore[method-assign]


def _describe_vpcs(self: Any, vpc_ids: list[str] | None = None, filters: Any = None) -> list[Any]:
    matches = list(self.vpcs.values()) + [_viewed_by(v, self) for v in _shared_vpcs(self.account_id, self.region_name)]
    if vpc_ids:
        matches = [v for v in matches if v.id in vpc_ids]
        unknown = set(vpc_ids) - {v.id for v in matches}
        if unknown:
            raise InvalidVPCIdError(sorted(unknown)[0])
    if filters:
        matches = generic_filter(filters, matches)
    return matches


VPCBackend.describe_vpcs = _describe_vpcs  # type: ignore[method-assign]


def _shared_route_tables(account_id: str, region: str) -> list[Any]:
    """Route tables of the owners' shared VPCs that a shared subnet uses (explicitly, or the main table)."""
    tables: dict[str, Any] = {}
    subnets = _shared_subnets(account_id, region)
    for subnet in subnets:
        owner = subnet.ec2_backend
        explicit = None
        for table in list(owner.route_tables.values()):
            if table.vpc_id == subnet.vpc_id and subnet.id in table._associations.values():
                explicit = table
        if explicit is None:
            explicit = next(
                (t for t in list(owner.route_tables.values()) if t.vpc_id == subnet.vpc_id and t.main_association_id),
                None,
            )
        if explicit is not None:
            tables[explicit.id] = explicit
    return list(tables.values())


def _describe_route_tables(self: Any, route_table_ids: list[str] | None = None, filters: Any = None) -> list[Any]:
    tables = list(self.route_tables.values())
    tables += [_viewed_by(t, self) for t in _shared_route_tables(self.account_id, self.region_name)]
    if route_table_ids:
        tables = [t for t in tables if t.id in route_table_ids]
        unknown = set(route_table_ids) - {t.id for t in tables}
        if unknown:
            raise InvalidRouteTableIdError(sorted(unknown)[0])
    return generic_filter(filters, tables)


RouteTableBackend.describe_route_tables = _describe_route_tables  # type: ignore[method-assign]


def _shared_with(owner: str, region: str, arn: str) -> list[str]:
    """Accounts an ACTIVE share of `owner` in `region` gives `arn` to."""
    per_region = dict.get(ram_backends, owner)
    backend = _regional(per_region, region) if per_region is not None else None
    if backend is None:
        return []
    return sorted(
        {p for s in list(backend.resource_shares) if s.status == "ACTIVE" and arn in s.resource_arns for p in s.principals}
    )


# RAM: GetResourceShares(resourceOwner OTHER-ACCOUNTS) raised NotImplementedError (HTTP 500) and ListResources had
# no route. https://docs.aws.amazon.com/ram/latest/APIReference/API_GetResourceShares.html,
# https://docs.aws.amazon.com/ram/latest/APIReference/API_ListResources.html
_orig_get_resource_shares = ResourceAccessManagerResponse.get_resource_shares


def _get_resource_shares(self: Any) -> str:
    if self._get_param("resourceOwner") != "OTHER-ACCOUNTS":
        return _orig_get_resource_shares(self)
    shares = [share.describe() for _owner, share in _shares_with(self.current_account, self.region)]
    return json.dumps({"resourceShares": shares})


ResourceAccessManagerResponse.get_resource_shares = _get_resource_shares  # type: ignore[method-assign]

_RAM_TYPES = {"subnet": "ec2:Subnet", "resolver-rule": "route53resolver:ResolverRule", "prefix-list": "ec2:PrefixList"}


def _list_resources(self: Any) -> str:
    owner_filter = self._get_param("resourceOwner")
    if owner_filter not in ("SELF", "OTHER-ACCOUNTS"):
        from moto.ram.exceptions import InvalidParameterException as RamInvalid

        raise RamInvalid(f"{owner_filter} is not a valid resource owner. Specify either SELF or OTHER-ACCOUNTS and try again.")
    wanted_type = self._get_param("resourceType")
    if owner_filter == "SELF":
        shares = [(self.current_account, s) for s in self.ram_backend.resource_shares if s.status == "ACTIVE"]
    else:
        shares = _shares_with(self.current_account, self.region)
    resources = []
    for _owner, share in shares:
        for arn in share.resource_arns:
            kind = arn.split(":")[5].split("/")[0] if arn.count(":") >= 5 else ""
            rtype = _RAM_TYPES.get(kind, kind)
            if wanted_type and wanted_type != rtype:
                continue
            resources.append(
                {
                    "arn": arn,
                    "type": rtype,
                    "resourceShareArn": share.arn,
                    "status": "AVAILABLE",
                    "resourceRegionScope": "REGIONAL",
                }
            )
    return json.dumps({"resources": resources})


ResourceAccessManagerResponse.list_resources = _list_resources  # type: ignore[attr-defined]
ram_urls.url_paths["{0}/listresources$"] = ResourceAccessManagerResponse.dispatch


# ---------------------------------------------------------------------------------------------------
# N1 Subnets: IPv6 attributes
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Subnet.html (EnableDns64; AvailableIpAddressCount is
# "the number of unused private IPv4 addresses in the subnet"),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySubnetAttribute.html (EnableDns64,
# EnableResourceNameDnsAAAARecordOnLaunch), https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-nat64-dns64.html
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html ("The IPv6 network range for the
# subnet"; it must come from the VPC's IPv6 CIDR block).
# ---------------------------------------------------------------------------------------------------
Subnet.enable_dns64 = False  # type: ignore[attr-defined]


def _subnet_ipv6_associations(self: Any) -> list[dict[str, Any]]:
    # moto nested the whole {"State": ...} dict under "state", so the SDK read the string "{'State': 'associated'}".
    return [
        {
            "ipv6CidrBlock": a["ipv6CidrBlock"],
            "associationId": a["associationId"],
            "ipv6CidrBlockState": {"state": a["ipv6CidrBlockState"]["State"]},
        }
        for a in self.ipv6_cidr_block_associations.values()
        if a["ipv6CidrBlockState"]["State"] == "associated"
    ]


Subnet.ipv6_cidr_block_association_set = property(_subnet_ipv6_associations)  # type: ignore[assignment,method-assign]
_orig_available_ips = Subnet.available_ip_address_count


def _available_ip_address_count(self: Any) -> int:
    if not self.cidr_block:
        return 0  # an IPv6-only subnet has no IPv4 addresses to count
    return int(_orig_available_ips.fget(self))  # type: ignore[attr-defined]


Subnet.available_ip_address_count = property(_available_ip_address_count)  # type: ignore[assignment,method-assign]

_orig_modify_subnet_attribute = Subnets.modify_subnet_attribute


def _modify_subnet_attribute(self: Any) -> Any:
    subnet = self.ec2_backend.get_subnet(self._get_param("SubnetId"))
    dns64 = self._get_param("EnableDns64.Value")
    if dns64 is not None:
        subnet.enable_dns64 = str(dns64).lower() == "true"
    aaaa = self._get_param("EnableResourceNameDnsAAAARecordOnLaunch.Value")
    if aaaa is not None:
        subnet.private_dns_name_options_on_launch["EnableResourceNameDnsAAAARecord"] = str(aaaa).lower() == "true"
    return _orig_modify_subnet_attribute(self)


Subnets.modify_subnet_attribute = _modify_subnet_attribute  # type: ignore[method-assign]


def _vpc_ipv6_blocks(vpc: Any) -> list[ipaddress.IPv6Network]:
    return [
        ipaddress.IPv6Network(a["cidr_block"])
        for a in vpc.get_cidr_block_association_set(ipv6=True)
        if a.get("cidr_block_state", {}).get("state") == "associated"
    ]


def _subnet_ipv6_blocks(subnet: Any) -> list[ipaddress.IPv6Network]:
    return [ipaddress.IPv6Network(a["ipv6CidrBlock"]) for a in _subnet_ipv6_associations(subnet)]


_orig_create_subnet = SubnetBackend.create_subnet


def _create_subnet(self: Any, vpc_id: str, cidr_block: str, ipv6_cidr_block: str | None = None, *args: Any, **kwargs: Any) -> Any:
    if ipv6_cidr_block:
        vpc = self.get_vpc(vpc_id)
        try:
            block = ipaddress.IPv6Network(ipv6_cidr_block)
        except ValueError:
            raise InvalidSubnetRangeError(ipv6_cidr_block)
        if not any(block.subnet_of(v) for v in _vpc_ipv6_blocks(vpc)):
            raise InvalidSubnetRangeError(ipv6_cidr_block)
        for other in self.describe_subnets(filters={"vpc-id": vpc_id}):
            if any(block.overlaps(b) for b in _subnet_ipv6_blocks(other)):
                raise InvalidSubnetConflictError(ipv6_cidr_block)
    return _orig_create_subnet(self, vpc_id, cidr_block, ipv6_cidr_block, *args, **kwargs)


SubnetBackend.create_subnet = _create_subnet  # type: ignore[method-assign]


def _subnet_kind(subnet: Any) -> tuple[bool, bool]:
    """(has IPv4, has IPv6)."""
    return bool(subnet.cidr_block), bool(_subnet_ipv6_associations(subnet))


# ---------------------------------------------------------------------------------------------------
# N2 Security group prefix list references and managed prefix lists
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_PrefixListId.html ("Description: A description for the
# security group rule that references this prefix list ID"),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (InvalidPrefixListID.NotFound); AWS's
# message: "The prefix list ID 'pl-...' does not exist".
# ---------------------------------------------------------------------------------------------------
_orig_rule_init = SecurityGroupRule.__init__


def _rule_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _orig_rule_init(self, *args, **kwargs)
    pl = kwargs.get("prefix_list_id") if "prefix_list_id" in kwargs else (args[7] if len(args) > 7 else None)
    self.prefix_list_description = pl.get("Description") if isinstance(pl, dict) else None


SecurityGroupRule.__init__ = _rule_init  # type: ignore[method-assign]
SecurityGroupRule.description = property(  # type: ignore[method-assign,assignment]
    lambda self: self.ip_range.get("Description")
    or getattr(self, "prefix_list_description", None)
    or (self.source_group or {}).get("Description")
)


def _prefix_list_ref(rule: Any) -> dict[str, str]:
    ref = {"PrefixListId": rule.prefix_list_id}
    if getattr(rule, "prefix_list_description", None):
        ref["Description"] = rule.prefix_list_description
    return ref


def _flattened_rules(self: Any, rules: list[Any]) -> list[Any]:
    views: list[Any] = []
    for rule in rules:
        view = next(
            (
                v
                for v in views
                if v.from_port == rule.from_port and v.to_port == rule.to_port and v.ip_protocol == rule.ip_protocol
            ),
            None,
        )
        if view is None:
            view = GroupedSecurityRuleView(rule.from_port, rule.to_port, rule.ip_protocol)
            views.append(view)
        if rule.ip_range:
            view.all_ip_ranges.append(rule.ip_range)
        if rule.source_group:
            view.source_groups.append(rule.source_group)
        if rule.prefix_list_id:
            view.prefix_list_ids.append(_prefix_list_ref(rule))
    return views


SecurityGroup._flattened_rules = _flattened_rules  # type: ignore[method-assign]


def _no_prefix_list(pl_id: str) -> EC2ClientError:
    return _err("InvalidPrefixListID.NotFound", f"The prefix list ID '{pl_id}' does not exist")


def _check_rule_prefix_lists(response: Any) -> None:
    known = response.ec2_backend.managed_prefix_lists
    for perm in response._get_param("IpPermissions", []) or []:
        for ref in perm.get("PrefixListIds", []) or []:
            pl_id = ref.get("PrefixListId")
            if pl_id and pl_id not in known:
                raise _no_prefix_list(pl_id)


for _name in ("authorize_security_group_ingress", "authorize_security_group_egress"):
    _orig_authorize = getattr(SecurityGroups, _name)

    def _authorize(self: Any, _orig: Any = _orig_authorize) -> Any:
        _check_rule_prefix_lists(self)
        return _orig(self)

    setattr(SecurityGroups, _name, _authorize)

_orig_describe_prefix_lists = ManagedPrefixListBackend.describe_managed_prefix_lists


def _describe_managed_prefix_lists(self: Any, prefix_list_ids: list[str] | None = None, filters: Any = None) -> list[Any]:
    for pl_id in prefix_list_ids or []:
        if pl_id not in self.managed_prefix_lists:
            raise _no_prefix_list(pl_id)
    return _orig_describe_prefix_lists(self, prefix_list_ids, filters)


ManagedPrefixListBackend.describe_managed_prefix_lists = _describe_managed_prefix_lists  # type: ignore[method-assign]
_orig_prefix_list_entries = ManagedPrefixListBackend.get_managed_prefix_list_entries


def _get_managed_prefix_list_entries(self: Any, prefix_list_id: str) -> Any:
    if prefix_list_id not in self.managed_prefix_lists:
        raise _no_prefix_list(prefix_list_id)
    return _orig_prefix_list_entries(self, prefix_list_id)


ManagedPrefixListBackend.get_managed_prefix_list_entries = _get_managed_prefix_list_entries  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# N3 ECS awsvpc task ENIs
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html: "each task ... receives its
# own elastic network interface and a primary private IPv4 address" (from its subnet), the ENI is owned and deleted by
# ECS ("When the task stops, the network interface is detached and deleted");
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html ("If you don't specify a
# security group, the default security group for the VPC is used");
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (enableExecuteCommand).
# The subnet / group errors are AWS's InvalidParameterException texts (as moto's CreateService already gives them).
# ---------------------------------------------------------------------------------------------------
if not hasattr(NetworkInterface, "private_dns_name"):
    NetworkInterface.private_dns_name = None  # type: ignore[attr-defined]  (moto set it only with DNS hostnames)
Task.enable_execute_command = False  # type: ignore[attr-defined]
Service.enable_execute_command = False  # type: ignore[attr-defined]


def _private_dns_name(region: str, ip: str) -> str:
    base = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{ip.replace('.', '-')}.{base}"


def _free_ipv4(backend: Any, subnet: Any) -> str:
    """An unused address of the subnet (AWS reserves the first four and the last)."""
    net = ipaddress.IPv4Network(subnet.cidr_block)
    taken = {e.private_ip_address for e in list(backend.enis.values()) if e.subnet is subnet}
    for _ in range(64):
        ip = str(net.network_address + mock_random.randint(4, net.num_addresses - 2))
        if ip not in taken:
            return ip
    return str(net.network_address + 4)


def _eni_details(task: Any) -> dict[str, Any] | None:
    for attachment in task.attachments:
        if attachment.get("type") == "ElasticNetworkInterface":
            return attachment
    return None


_orig_task_init = Task.__init__


def _task_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _orig_task_init(self, *args, **kwargs)
    attachment = _eni_details(self)
    if attachment is None:
        return
    details = {d["name"]: d for d in attachment["details"]}
    ec2 = ec2_backends[self._account_id][self.region_name]
    eni = ec2.enis.get(details["networkInterfaceId"]["value"])
    if eni is None:
        return
    region = self.region_name
    eni.description = f"arn:aws:ecs:{region}:{self._account_id}:attachment/{attachment['id']}"
    if eni.subnet.cidr_block:
        ip = _free_ipv4(ec2, eni.subnet)
        eni.private_ip_address = ip
        eni.private_dns_name = _private_dns_name(region, ip)
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip, "PrivateDnsName": eni.private_dns_name}]
        details["privateIPv4Address"]["value"] = ip
        details["privateDnsName"]["value"] = eni.private_dns_name


Task.__init__ = _task_init  # type: ignore[method-assign]


def _check_awsvpc(ecs: Any, network: dict[str, Any] | None) -> None:
    """Validates an awsvpcConfiguration as AWS does and fills in the VPC's default group."""
    conf = (network or {}).get("awsvpcConfiguration")
    if conf is None:
        return
    ec2 = ec2_backends[ecs.account_id][ecs.region_name]
    subnets = conf.get("subnets") or []
    if not subnets:
        raise InvalidParameterException("subnets can not be empty.")
    vpc_id = None
    for sid in subnets:
        try:
            vpc_id = vpc_id or ec2.get_subnet(sid).vpc_id
        except InvalidSubnetIdError as exc:
            raise InvalidParameterException(
                f"Error retrieving subnet information for [{sid}]: {exc.message} (ErrorCode: {exc.code})"
            )
    groups = conf.get("securityGroups")
    if not groups:
        default = ec2.get_security_group_from_name("default", vpc_id=vpc_id)
        conf["securityGroups"] = [default.id] if default else []
    for gid in conf["securityGroups"]:
        if ec2.get_security_group_from_id(gid) is None:
            raise InvalidParameterException(
                f"Error retrieving security group information for [{gid}]: "
                f"The security group '{gid}' does not exist (ErrorCode: InvalidGroup.NotFound)"
            )


_orig_backend_run_task = EC2ContainerServiceBackend.run_task


def _backend_run_task(self: Any, cluster_str: str, task_definition_str: str, count: int, overrides: Any,
                      started_by: str, tags: Any, launch_type: Any, networking_configuration: Any = None,
                      *args: Any, **kwargs: Any) -> Any:
    if self.describe_task_definition(task_definition_str).network_mode == "awsvpc":
        _check_awsvpc(self, networking_configuration)
    return _orig_backend_run_task(self, cluster_str, task_definition_str, count, overrides, started_by, tags,
                                  launch_type, networking_configuration, *args, **kwargs)


EC2ContainerServiceBackend.run_task = _backend_run_task  # type: ignore[method-assign]
_orig_run_task = EC2ContainerServiceResponse.run_task


def _run_task(self: Any) -> ActionResult:
    result = _orig_run_task(self)
    exec_on = bool(self._get_param("enableExecuteCommand"))
    for task in result.result["tasks"]:  # type: ignore[index]
        task.enable_execute_command = exec_on
    return result


EC2ContainerServiceResponse.run_task = _run_task  # type: ignore[method-assign]
_orig_stop_task = EC2ContainerServiceBackend.stop_task


def _stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
    task = _orig_stop_task(self, cluster_str, task_str, reason)
    attachment = _eni_details(task)
    if attachment is not None and attachment.get("status") != "DELETED":
        ec2 = ec2_backends[self.account_id][self.region_name]
        for detail in attachment["details"]:
            if detail["name"] == "networkInterfaceId":
                ec2.enis.pop(detail["value"], None)
        attachment["status"] = "DELETED"
    return task


EC2ContainerServiceBackend.stop_task = _stop_task  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# N4 ECS services: ECS Exec, deployments, counts
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html (PRIMARY = the most recent deployment,
# ACTIVE = a deployment that still has running tasks but is being replaced; each has its own networkConfiguration,
# desiredCount, runningCount, pendingCount); https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
# (a new task definition, network configuration, capacity provider strategy or forceNewDeployment starts a new
# deployment); https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html (enableExecuteCommand,
# runningCount: "the number of tasks in the cluster that are in the RUNNING state"). Tasks a service starts carry
# group "service:<name>" and startedBy "<deployment id>"; moto starts none, so tests start them (seed-network.ts
# startServiceTasks) and the counts follow those tasks.
# ---------------------------------------------------------------------------------------------------
def _service_tasks(svc: Any) -> list[Any]:
    tasks = svc._backend.tasks.get(svc.cluster_name, {})
    return [t for t in list(tasks.values()) if t.group == f"service:{svc.name}" and t.last_status == "RUNNING"]


Service.running_count = property(lambda s: len(_service_tasks(s)), lambda s, v: None)  # type: ignore[assignment]
Service.pending_count = property(  # type: ignore[assignment]
    lambda s: max((s.desired_count or 0) - s.running_count, 0), lambda s, v: None
)


def _refresh_deployments(svc: Any) -> None:
    tasks = _service_tasks(svc)
    ids = {d["id"] for d in svc.deployments}
    primary = next((d for d in svc.deployments if d["status"] == "PRIMARY"), None)
    for dep in svc.deployments:
        running = [t for t in tasks if t.started_by == dep["id"]]
        if dep is primary:
            running += [t for t in tasks if t.started_by not in ids]
            dep["desiredCount"] = svc.desired_count
            dep["pendingCount"] = max((svc.desired_count or 0) - len(running), 0)
        else:
            dep["desiredCount"] = len(running)
            dep["pendingCount"] = 0
        dep["runningCount"] = len(running)
    if primary is None:
        return
    done = primary["runningCount"] >= (svc.desired_count or 0)
    if done:
        # The rollout completes once the new deployment runs its desired count: the old ones drain away.
        svc.deployments = [d for d in svc.deployments if d is primary or d["runningCount"] > 0]
    if done and len(svc.deployments) == 1 and primary.get("rolloutState") == "IN_PROGRESS":
        primary["rolloutState"] = "COMPLETED"
        primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."


_orig_create_service = EC2ContainerServiceResponse.create_service


def _create_service(self: Any) -> ActionResult:
    network = self._get_param("networkConfiguration")
    if network is not None:
        _check_awsvpc(self.ecs_backend, network)  # moto: KeyError (HTTP 500) without securityGroups
    result = _orig_create_service(self)
    svc = result.result["service"]  # type: ignore[index]
    svc.enable_execute_command = bool(self._get_param("enableExecuteCommand"))
    _refresh_deployments(svc)
    return result


EC2ContainerServiceResponse.create_service = _create_service  # type: ignore[method-assign]

_orig_update_service = EC2ContainerServiceResponse.update_service


def _update_service(self: Any) -> ActionResult:
    backend = self.ecs_backend
    svc = backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    before = copy.deepcopy(svc.deployments)
    task_definition = self._get_param("taskDefinition")
    network = self._get_param("networkConfiguration")
    strategy = self._get_param("capacityProviderStrategy")
    force = bool(self._get_param("forceNewDeployment"))
    if network is not None:
        _check_awsvpc(backend, network)
    if task_definition is not None:
        task_definition = backend.describe_task_definition(task_definition).arn
    result = _orig_update_service(self)
    svc.deployments = before  # moto renamed the one deployment in place on forceNewDeployment
    if task_definition is not None:
        svc.task_definition = task_definition  # moto kept the family:revision as given; AWS returns the ARN
    if network is not None:
        svc.network_configuration = network
    if strategy is not None:
        svc.capacity_provider_strategy = strategy
        svc.launch_type = None
    primary = next((d for d in svc.deployments if d["status"] == "PRIMARY"), None)
    changed = (
        force
        or (task_definition is not None and primary is not None and task_definition != primary.get("taskDefinition"))
        or (network is not None and primary is not None and network != primary.get("networkConfiguration"))
        or strategy is not None
    )
    if changed and svc.deployment_controller.get("type", "ECS") == "ECS":
        for dep in svc.deployments:
            if dep["status"] == "PRIMARY":
                dep["status"] = "ACTIVE"
                dep["updatedAt"] = utcnow()
        dep_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
        now = utcnow()
        new = {
            "createdAt": now,
            "desiredCount": svc.desired_count,
            "failedTasks": 0,
            "id": dep_id,
            "launchType": svc.launch_type,
            "pendingCount": svc.desired_count,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment {dep_id} in progress.",
            "runningCount": 0,
            "platformVersion": svc.platform_version,
            "networkConfiguration": svc.network_configuration or None,
            "platformFamily": "EC2" if svc.launch_type == "EC2" else "FARGATE",
            "status": "PRIMARY",
            "taskDefinition": svc.task_definition,
            "updatedAt": now,
        }
        if getattr(svc, "capacity_provider_strategy", None):
            new["capacityProviderStrategy"] = svc.capacity_provider_strategy
        svc.deployments.insert(0, new)
    _refresh_deployments(svc)
    return result


EC2ContainerServiceResponse.update_service = _update_service  # type: ignore[method-assign]
_orig_describe_services = EC2ContainerServiceResponse.describe_services


def _describe_services(self: Any) -> ActionResult:
    result = _orig_describe_services(self)
    for svc in result.result["services"]:  # type: ignore[index]
        _refresh_deployments(svc)
    return result


EC2ContainerServiceResponse.describe_services = _describe_services  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# N5 DescribeClusters include
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeClusters.html: "If this field is omitted,
# this information isn't included ... If SETTINGS is specified, the settings for the cluster are included. If
# CONFIGURATIONS is specified, the configuration for the cluster is included."
# ---------------------------------------------------------------------------------------------------
_orig_describe_clusters = EC2ContainerServiceResponse.describe_clusters


def _describe_clusters(self: Any) -> ActionResult:
    result = _orig_describe_clusters(self)
    include = set(self._get_param("include", []) or [])
    views = []
    for cluster in result.result["clusters"]:  # type: ignore[index]
        view = copy.copy(cluster)
        if "CONFIGURATIONS" not in include:
            view.configuration = None
        if "SETTINGS" not in include:
            view.settings = None
        views.append(view)
    result.result["clusters"] = views  # type: ignore[index]
    return result


EC2ContainerServiceResponse.describe_clusters = _describe_clusters  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# N7 SupportedIpAddressTypes of endpoint services
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ServiceDetail.html ("SupportedIpAddressTypes: The
# supported IP address types", values ipv4 | ipv6). Which AWS services accept IPv6 over PrivateLink is listed per
# service in https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html and the
# services' own pages (e.g. https://docs.aws.amazon.com/kms/latest/developerguide/ipv6-kms.html: "AWS KMS is also
# privately accessible over IPv4 and IPv6 from your virtual private cloud (VPC) using AWS PrivateLink"). moto has no
# such data: this table is the harness's, dual stack for the services the remediator manages or reads, IPv4 only
# for the rest of moto's catalogue.
# ---------------------------------------------------------------------------------------------------
DUAL_STACK_SERVICES = {
    "ecs", "ecs-agent", "ecs-telemetry", "ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager", "ssm",
    "ssmmessages", "ec2messages", "sts", "kms", "kinesis-firehose", "kinesis-streams",
}
_orig_collect_services = VPCBackend._collect_default_endpoint_services


def _collect_default_endpoint_services(account_id: str, region: str) -> list[dict[str, Any]]:
    services = _orig_collect_services(account_id, region)
    for service in services:
        if "SupportedIpAddressTypes" not in service:
            short = service["ServiceName"].split(f".{region}.", 1)[-1]
            dual = short in DUAL_STACK_SERVICES and service["ServiceName"].startswith("com.amazonaws.")
            service["SupportedIpAddressTypes"] = ["ipv4", "ipv6"] if dual else ["ipv4"]
    return services


VPCBackend._collect_default_endpoint_services = staticmethod(_collect_default_endpoint_services)  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------------------------------
# N6 VPC endpoint IpAddressType and DnsOptions
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html (IpAddressType, DnsOptions),
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DnsOptionsSpecification.html,
# https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html ("IP address type": IPv4 "only if
# all selected subnets have IPv4 address ranges and the service accepts IPv4 requests", IPv6 "only if all selected
# subnets are IPv6 only subnets and the service accepts IPv6 requests", Dualstack "only if all selected subnets have
# both IPv4 and IPv6 address ranges and the service accepts both"; "DNS record IP type": ipv4 needs IPv4 or
# Dualstack, ipv6 needs IPv6 or Dualstack, dualstack and service-defined need Dualstack). AWS answers these with
# InvalidParameter; the exact messages were not found, so the messages below are the harness's wording of those
# rules. Default: ipv4, DNS records of the same type.
# ---------------------------------------------------------------------------------------------------
_IP_TYPES = ("ipv4", "dualstack", "ipv6")
_DNS_OK = {"ipv4": {"ipv4", "dualstack"}, "ipv6": {"ipv6", "dualstack"}, "dualstack": {"dualstack"},
           "service-defined": {"dualstack"}}
VPCEndPoint.ip_address_type = "ipv4"  # type: ignore[attr-defined]


def _endpoint_dns_options(self: Any) -> dict[str, Any] | None:
    stored = self.__dict__.get("harness_dns_options")
    if stored is not None:
        return stored
    interface = (self.vpc_endpoint_type or "").lower() == "interface"
    return {"DnsRecordIpType": self.ip_address_type} if interface else None


VPCEndPoint.dns_options = property(_endpoint_dns_options)  # type: ignore[attr-defined]


def _check_ip_types(backend: Any, service_name: str, service_region: str | None, interface: bool,
                    subnet_ids: list[str], vpc_id: str, ip_type: str, dns_type: str | None) -> None:
    if ip_type not in _IP_TYPES:
        raise _err("InvalidParameter", f"Invalid IpAddressType {ip_type}. Valid values: ipv4, dualstack, ipv6.")
    entries = _HOST._service_entries(backend, service_name, service_region)
    supported = {t for s in entries for t in s.get("SupportedIpAddressTypes", ["ipv4"])}
    needed = {"ipv4": {"ipv4"}, "ipv6": {"ipv6"}, "dualstack": {"ipv4", "ipv6"}}[ip_type]
    if entries and not needed <= supported:
        raise _err(
            "InvalidParameter",
            f"The VPC endpoint service {service_name} does not support the IP address type {ip_type}. "
            f"Supported IP address types: {', '.join(sorted(supported))}.",
        )
    if dns_type is not None and ip_type not in _DNS_OK.get(dns_type, set()):
        raise _err("InvalidParameter", f"DnsRecordIpType {dns_type} is not supported for IpAddressType {ip_type}.")
    if not interface:
        return
    for sid in subnet_ids:
        try:
            subnet = backend.get_subnet(sid)
        except InvalidSubnetIdError:
            continue  # P2 reports it
        if subnet.vpc_id != vpc_id:
            continue  # P2 reports it
        v4, v6 = _subnet_kind(subnet)
        ok = {"ipv4": v4, "ipv6": v6 and not v4, "dualstack": v4 and v6}[ip_type]
        if not ok:
            need = {"ipv4": "an IPv4 CIDR block", "ipv6": "to be IPv6-only", "dualstack": "both an IPv4 and an IPv6 CIDR block"}
            raise _err(
                "InvalidParameter",
                f"The subnet {sid} does not support IpAddressType {ip_type}: it needs {need[ip_type]}.",
            )


def _apply_ip_types(backend: Any, ep: Any) -> None:
    """IPv6 addresses on the ENIs of dualstack / ipv6 endpoints; no IPv4 address on an ipv6 endpoint's ENIs."""
    for eni_id in ep.network_interface_ids or []:
        eni = backend.enis.get(eni_id)
        if eni is None:
            continue
        blocks = _subnet_ipv6_blocks(eni.subnet)
        if ep.ip_address_type in ("dualstack", "ipv6") and blocks and not eni.ipv6_addresses:
            net = blocks[0]
            eni.ipv6_addresses = [str(net.network_address + mock_random.randint(4, 2**32))]
        if ep.ip_address_type == "ipv4":
            eni.ipv6_addresses = []
        if ep.ip_address_type == "ipv6":
            eni.private_ip_address = None
            eni.private_ip_addresses = []
        elif not eni.private_ip_address and eni.subnet.cidr_block:
            ip = _free_ipv4(backend, eni.subnet)
            eni.private_ip_address = ip
            eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]


_orig_create_vpc_endpoint = VPCs.create_vpc_endpoint


def _create_vpc_endpoint(self: Any) -> ActionResult:
    backend = self.ec2_backend
    vpc_id = self._get_param("VpcId")
    # N12: AWS refuses endpoints from a participant in a shared VPC ("Client.UnauthorizedOperation: This operation
    # does not support shared VPCs.", https://repost.aws/knowledge-center/vpc-interface-endpoint-creation-errors:
    # "You can't create Amazon VPC interface endpoints from a participant account").
    if _is_foreign(backend.get_vpc(vpc_id), backend):
        raise _with_status(EC2ClientError("UnauthorizedOperation", "This operation does not support shared VPCs."), 403)
    endpoint_type = self._get_param("VpcEndpointType") or "Gateway"
    interface = endpoint_type.lower() == "interface"
    ip_type = self._get_param("IpAddressType") or "ipv4"
    dns_type = self._get_param("DnsOptions.DnsRecordIpType")
    service_name = self._get_param("ServiceName")
    service_region = self._get_param("ServiceRegion")
    _check_ip_types(backend, service_name, service_region, interface, self._get_param("SubnetIds", []) or [],
                    vpc_id, ip_type, dns_type)
    before = set(backend.vpc_end_points)
    result = _orig_create_vpc_endpoint(self)
    ep = result.result["VpcEndpoint"]  # type: ignore[index]
    if ep.id not in before:
        ep.ip_address_type = ip_type
        if interface:
            ep.harness_dns_options = {"DnsRecordIpType": dns_type or ip_type}
        _apply_ip_types(backend, ep)
    return result


VPCs.create_vpc_endpoint = _create_vpc_endpoint  # type: ignore[method-assign]
_orig_modify_vpc_endpoint = VPCs.modify_vpc_endpoint


def _modify_vpc_endpoint(self: Any) -> Any:
    backend = self.ec2_backend
    ep = backend.get_vpc_end_point(self._get_param("VpcEndpointId"))
    ip_type = self._get_param("IpAddressType") or ep.ip_address_type
    dns_type = self._get_param("DnsOptions.DnsRecordIpType")
    interface = (ep.vpc_endpoint_type or "").lower() == "interface"
    removed = self._get_param("RemoveSubnetIds", []) or []
    subnets = [s for s in (ep.subnet_ids or []) if s not in removed] + (self._get_param("AddSubnetIds", []) or [])
    current_dns = (ep.dns_options or {}).get("DnsRecordIpType")
    if dns_type is None and self._get_param("IpAddressType") and current_dns and ip_type not in _DNS_OK.get(current_dns, set()):
        dns_type = ip_type  # the record type follows an address type change it no longer fits
    _check_ip_types(backend, ep.service_name, getattr(ep, "harness_service_region", None), interface, subnets,
                    ep.vpc_id, ip_type, dns_type or current_dns)
    result = _orig_modify_vpc_endpoint(self)
    ep.ip_address_type = ip_type
    if interface:
        ep.harness_dns_options = {"DnsRecordIpType": dns_type or current_dns or ip_type}
    _apply_ip_types(backend, ep)
    return result


VPCs.modify_vpc_endpoint = _modify_vpc_endpoint  # type: ignore[method-assign]
_orig_endpoint_filter_value = VPCEndPoint.get_filter_value


def _endpoint_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
    if filter_name == "ip-address-type":
        return self.ip_address_type
    return _orig_endpoint_filter_value(self, filter_name, method_name)


VPCEndPoint.get_filter_value = _endpoint_filter_value  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# N9 / N10 Route 53 private hosted zones, within and across accounts
# ---------------------------------------------------------------------------------------------------
def _zones_everywhere() -> list[tuple[str, Any]]:
    """(owner account, FakeZone) of every account's zones."""
    found = []
    for account, per_partition in _accounts(route53_backends):
        backend = _regional(per_partition, "aws")
        if backend is not None:
            found.extend((account, zone) for zone in list(backend.zones.values()))
    return found


def _find_zone(zone_id: str) -> tuple[str, Any] | None:
    wanted = zone_id.replace("/hostedzone/", "")
    for account, zone in _zones_everywhere():
        if zone.resource_id == wanted:
            return account, zone
    return None


def _zones_of_vpc(vpc_id: str, region: str) -> list[tuple[str, Any]]:
    """(owner, zone) of the private hosted zones associated with the VPC, whichever account owns them."""
    return [
        (owner, zone)
        for owner, zone in _zones_everywhere()
        if zone.private_zone
        and any(v.get("vpc_id") == vpc_id and v.get("vpc_region") in (None, region) for v in zone.vpcs)
    ]


def _r53(code: str, message: str) -> Route53ClientError:
    return Route53ClientError(code, message)


def _check_vpc_for_zone(account_id: str, vpc_id: str | None, region: str | None) -> None:
    # https://docs.aws.amazon.com/Route53/latest/APIReference/API_AssociateVPCWithHostedZone.html (InvalidVPCId: "The
    # VPC ID that you specified either isn't a valid ID or the current account is not authorized to access this ID.")
    message = "The VPC ID that you specified either isn't a valid ID or the current account is not authorized to access this ID."
    if not vpc_id:
        raise _r53("InvalidVPCId", message)
    per_region = dict.get(ec2_backends, account_id)
    ec2 = _regional(per_region, region or "us-east-1") if per_region is not None else None
    try:
        if ec2 is None:
            raise InvalidVPCIdError(vpc_id)
        ec2.get_vpc(vpc_id)
    except InvalidVPCIdError:
        raise _r53("InvalidVPCId", message)


def _check_zone_conflict(name: str, vpc_id: str, region: str, except_zone: Any = None) -> None:
    # https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html and
    # API_AssociateVPCWithHostedZone.html: ConflictingDomainExists - "A hosted zone with the specified name already
    # exists and is already associated with the Amazon VPC that you specified" / "The VPC that you specified is already
    # associated with another hosted zone that has the same name." AWS's message: "A conflicting domain is already
    # associated with the given VPC or Delegation Set."
    for _owner, zone in _zones_of_vpc(vpc_id, region):
        if zone is not except_zone and zone.name.lower() == name.lower():
            raise _r53("ConflictingDomainExists", "A conflicting domain is already associated with the given VPC or Delegation Set.")


_orig_create_hosted_zone = Route53.create_hosted_zone


def _create_hosted_zone(self: Any) -> ActionResult:
    private = self._get_bool_param("HostedZoneConfig.PrivateZone", False)
    vpc_id = self._get_param("VPC.VPCId")
    region = self._get_param("VPC.VPCRegion")
    name = self._get_param("Name") or ""
    if private and vpc_id:
        _check_vpc_for_zone(self.current_account, vpc_id, region)
        _check_zone_conflict(name if name.endswith(".") else name + ".", vpc_id, region or "us-east-1")
    result = _orig_create_hosted_zone(self)
    zone = result.result["HostedZone"]  # type: ignore[index]
    # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html: the SOA record's value is
    # "ns-2048.awsdns-64.net. hostmaster.example.com. 1 7200 900 1209600 86400" with AWS's
    # "awsdns-hostmaster.amazon.com." as the responsible party (moto stored a dict, serialised as its repr).
    for rrset in zone.rrsets:
        if rrset.type == "SOA":
            first = rrset.records[0]
            value = first["Value"] if isinstance(first, dict) else str(first)
            rrset.records = [value.replace(" hostmaster.example.com. ", " awsdns-hostmaster.amazon.com. ")]
    return result


Route53.create_hosted_zone = _create_hosted_zone  # type: ignore[method-assign]


def _change_info(comment: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"Id": f"/change/C{mock_random.get_random_hex(12).upper()}", "Status": "INSYNC",
                            "SubmittedAt": utcnow()}
    if comment:
        info["Comment"] = comment
    return info


def _associate_vpc_with_hosted_zone(self: Any) -> ActionResult:
    # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-associate-vpcs-different-accounts.html:
    # the zone's account authorizes the association (CreateVPCAssociationAuthorization), then the VPC's account
    # associates (AssociateVPCWithHostedZone). Without the authorization AWS answers NotAuthorizedException "The
    # VPC: vpc-... has not authorized to associate with your hosted zone." (HTTP 401).
    zone_id = self._get_param("HostedZoneId")
    vpc_id = self._get_param("VPC.VPCId")
    region = self._get_param("VPC.VPCRegion") or "us-east-1"
    found = _find_zone(zone_id)
    if found is None:
        raise NoSuchHostedZone(zone_id)
    owner, zone = found
    if not zone.private_zone:
        raise PublicZoneVPCAssociation()
    _check_vpc_for_zone(self.current_account, vpc_id, region)
    if owner != self.current_account and (vpc_id, region) not in getattr(zone, "harness_authorizations", set()):
        raise _r53("NotAuthorizedException", f"The VPC: {vpc_id} has not authorized to associate with your hosted zone.")
    already = any(v.get("vpc_id") == vpc_id and v.get("vpc_region") in (None, region) for v in zone.vpcs)
    if not already:
        _check_zone_conflict(zone.name, vpc_id, region, except_zone=zone)
        zone.add_vpc(vpc_id, region)
    return ActionResult({"ChangeInfo": _change_info(self._get_param("Comment"))})


Route53.associate_vpc_with_hosted_zone = _associate_vpc_with_hosted_zone  # type: ignore[method-assign]


def _disassociate_vpc_from_hosted_zone(self: Any) -> ActionResult:
    # The VPC's account may disassociate its VPC from another account's zone (same page as above).
    zone_id = self._get_param("HostedZoneId")
    vpc_id = self._get_param("VPC.VPCId")
    found = _find_zone(zone_id)
    if found is None:
        raise NoSuchHostedZone(zone_id)
    owner, zone = found
    if owner != self.current_account:
        _check_vpc_for_zone(self.current_account, vpc_id, self._get_param("VPC.VPCRegion"))
    route53_backends[owner]["aws"].disassociate_vpc_from_hosted_zone(zone.resource_id, vpc_id)
    return ActionResult({"ChangeInfo": _change_info(self._get_param("Comment"))})


Route53.disassociate_vpc_from_hosted_zone = _disassociate_vpc_from_hosted_zone  # type: ignore[method-assign]


def _own_private_zone(self: Any) -> Any:
    zone = self.backend.get_hosted_zone(self._get_param("HostedZoneId"))
    if not zone.private_zone:
        raise PublicZoneVPCAssociation()
    if not hasattr(zone, "harness_authorizations"):
        zone.harness_authorizations = set()
    return zone


def _create_vpc_association_authorization(self: Any) -> ActionResult:
    # https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateVPCAssociationAuthorization.html
    zone = _own_private_zone(self)
    vpc = {"VPCRegion": self._get_param("VPC.VPCRegion") or "us-east-1", "VPCId": self._get_param("VPC.VPCId")}
    zone.harness_authorizations.add((vpc["VPCId"], vpc["VPCRegion"]))
    return ActionResult({"HostedZoneId": zone.resource_id, "VPC": vpc})


def _list_vpc_association_authorizations(self: Any) -> ActionResult:
    zone = _own_private_zone(self)
    vpcs = [{"VPCRegion": r, "VPCId": v} for v, r in sorted(zone.harness_authorizations)]
    return ActionResult({"HostedZoneId": zone.resource_id, "VPCs": vpcs})


def _delete_vpc_association_authorization(self: Any) -> ActionResult:
    # https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteVPCAssociationAuthorization.html
    # (VPCAssociationAuthorizationNotFound: "The VPC that you specified is not authorized to be associated with the
    # hosted zone.")
    zone = _own_private_zone(self)
    key = (self._get_param("VPC.VPCId"), self._get_param("VPC.VPCRegion") or "us-east-1")
    if key not in zone.harness_authorizations:
        raise _r53("VPCAssociationAuthorizationNotFound",
                   "The VPC that you specified is not authorized to be associated with the hosted zone.")
    zone.harness_authorizations.discard(key)
    return ActionResult({})


Route53.create_vpc_association_authorization = _create_vpc_association_authorization  # type: ignore[attr-defined]
Route53.list_vpc_association_authorizations = _list_vpc_association_authorizations  # type: ignore[attr-defined]
Route53.delete_vpc_association_authorization = _delete_vpc_association_authorization  # type: ignore[attr-defined]
for _suffix in ("authorizevpcassociation", "deauthorizevpcassociation"):
    route53_urls.url_paths[
        r"{0}/(?P<api_version>[\d_-]+)/hostedzone/(?P<zone_id>[^/]+)/" + _suffix + r"/?$"
    ] = Route53.dispatch


def _list_hosted_zones_by_vpc(self: Any) -> ActionResult:
    # https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByVPC.html: "Lists all the private
    # hosted zones that a specified VPC is associated with, regardless of which AWS account or AWS service owns the
    # hosted zones"; HostedZoneOwner.OwningAccount is the account that created the zone. VPCRegion is required.
    vpc_id = self._get_param("VPCId")
    region = self._get_param("VPCRegion")
    if not region:
        raise _r53("InvalidInput", "1 validation error detected: Value null at 'vPCRegion' failed to satisfy constraint: Member must not be null")
    _check_vpc_for_zone(self.current_account, vpc_id, region)
    summaries = [
        {"HostedZoneId": zone.resource_id, "Name": zone.name, "Owner": {"OwningAccount": owner}}
        for owner, zone in _zones_of_vpc(vpc_id, region)
    ]
    return ActionResult({"HostedZoneSummaries": summaries, "MaxItems": str(self._get_int_param("MaxItems", 100))})


Route53.list_hosted_zones_by_vpc = _list_hosted_zones_by_vpc  # type: ignore[method-assign]
_orig_get_hosted_zone = Route53Backend.get_hosted_zone


def _get_hosted_zone(self: Any, id_: str) -> Any:
    # Route 53 has no resource policies: a zone of another account is not readable or writable, even when it is
    # associated with one of the caller's VPCs. AWS answers AccessDenied (HTTP 403) "User: <caller> is not
    # authorized to access this resource" (AWS's wording for a zone in another account, as seen in practice; no AWS
    # page states it) and NoSuchHostedZone for an id no account has.
    try:
        return _orig_get_hosted_zone(self, id_)
    except NoSuchHostedZone:
        found = _find_zone(id_)
        if found is not None and found[0] != self.account_id:
            raise _with_status(
                _r53("AccessDenied", f"User: arn:aws:iam::{self.account_id}:root is not authorized to access this resource"),
                403,
            )
        raise


Route53Backend.get_hosted_zone = _get_hosted_zone  # type: ignore[method-assign]

# Record names: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html - "Amazon Route 53
# stores alphabetic characters as lowercase letters"; characters other than a-z, 0-9, - and _ are returned as escape
# codes \ooo, so ListResourceRecordSets returns *.example.com as \052.example.com.
_ESCAPE_RE = re.compile(r"\\(\d{3})")


def _canonical_name(name: str) -> str:
    plain = _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 8)), name).lower()
    labels = plain.rstrip(".").split(".")
    escaped = [
        "".join(c if (c.isascii() and (c.isalnum() or c in "-_")) else f"\\{ord(c):03o}" for c in label)
        for label in labels
    ]
    return ".".join(escaped) + "."


_orig_change_rrsets = Route53Backend.change_resource_record_sets


def _change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> None:
    for change in change_list or []:
        rrset = change.get("ResourceRecordSet") or {}
        if rrset.get("Name"):
            rrset["Name"] = _canonical_name(rrset["Name"])
    return _orig_change_rrsets(self, zoneid, change_list)


Route53Backend.change_resource_record_sets = _change_resource_record_sets  # type: ignore[method-assign]
_orig_list_rrsets = Route53Backend.list_resource_record_sets


def _list_resource_record_sets(self: Any, zone_id: str, start_type: str, start_name: str, max_items: int) -> Any:
    return _orig_list_rrsets(self, zone_id, start_type, _canonical_name(start_name) if start_name else start_name, max_items)


Route53Backend.list_resource_record_sets = _list_resource_record_sets  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# N8 Private DNS of interface endpoints vs private hosted zones
# https://repost.aws/knowledge-center/vpc-interface-endpoint-creation-errors: the "conflicting DNS domain" error
# arises when the VPC already has an endpoint for the service with private DNS, or "the VPC is already associated
# with a private hosted zone that contains the intended service name". AWS's private DNS for ecr.dkr is the zone
# dkr.ecr.<region>.amazonaws.com with a wildcard record, so a zone of that name conflicts too.
# ---------------------------------------------------------------------------------------------------
_orig_check_private_dns = _HOST._check_private_dns


def _zone_holds(zone_name: str, dns_name: str) -> bool:
    zone = zone_name.rstrip(".").lower()
    name = dns_name.rstrip(".").lower()
    return zone == name or (name.startswith("*.") and zone == name[2:])


def _check_private_dns(backend: Any, vpc_id: str, dns_name: str, exclude_id: str | None) -> None:
    _orig_check_private_dns(backend, vpc_id, dns_name, exclude_id)
    for _owner, zone in _zones_of_vpc(vpc_id, backend.region_name):
        if _zone_holds(zone.name, dns_name):
            raise _HOST._err(
                "InvalidParameter",
                f"private-dns-enabled cannot be set because there is already a conflicting DNS domain for {dns_name} "
                f"in the VPC {vpc_id}",
            )


_HOST._check_private_dns = _check_private_dns


# ---------------------------------------------------------------------------------------------------
# N11 Route 53 Resolver
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_route53resolver_ListResolverRules.html and
# API_route53resolver_ListResolverRuleAssociations.html ("If you don't specify a value for MaxResults, Resolver
# returns up to 100"); API_route53resolver_TargetAddress.html (Port is optional; DNS port 53 when omitted);
# API_route53resolver_CreateResolverRule.html ("TargetIps is available only when the value of Rule type is
# FORWARD"); AssociateResolverRule's InvalidRequestException "Cannot associate rules with same domain name with same
# VPC. Conflict with resolver rule '<id>'" (the text moto already used, for one rule only);
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-rules-managing.html#resolver-rules-managing-sharing
# (rules shared through AWS RAM: ShareStatus SHARED_WITH_ME / SHARED_BY_ME, the participant associates them).
# ---------------------------------------------------------------------------------------------------
_orig_create_resolver_rule = Route53ResolverBackend.create_resolver_rule


def _create_resolver_rule(self: Any, region: str, creator_request_id: str, name: str, rule_type: str,
                          domain_name: str, target_ips: list[dict[str, Any]], resolver_endpoint_id: str,
                          tags: list[dict[str, str]]) -> Any:
    if rule_type == "SYSTEM" and target_ips:
        raise InvalidRequestException("Cannot specify resolver endpoint ID and target IP for SYSTEM type resolver rule")
    for target in target_ips or []:
        target.setdefault("Port", 53)
    return _orig_create_resolver_rule(self, region, creator_request_id, name, rule_type, domain_name,
                                      target_ips or [], resolver_endpoint_id, tags)


Route53ResolverBackend.create_resolver_rule = _create_resolver_rule  # type: ignore[method-assign]


def _shared_rules(account_id: str, region: str) -> list[Any]:
    """Copies of other accounts' rules shared with `account_id` (ShareStatus SHARED_WITH_ME)."""
    rules = []
    for owner, share in _shares_with(account_id, region):
        owner_backend = _regional(dict.get(route53resolver_backends, owner) or {}, region)
        if owner_backend is None:
            continue
        for arn in share.resource_arns:
            m = _RULE_ARN.match(arn)
            if m and m.group(3) in owner_backend.resolver_rules:
                view = copy.copy(owner_backend.resolver_rules[m.group(3)])
                view.share_status = "SHARED_WITH_ME"
                rules.append(view)
    return rules


def _rule_view(backend: Any, rule: Any) -> Any:
    if _shared_with(backend.account_id, backend.region_name, rule.arn):
        view = copy.copy(rule)
        view.share_status = "SHARED_BY_ME"
        return view
    return rule


def _visible_rule(backend: Any, rule_id: str) -> Any:
    if rule_id in backend.resolver_rules:
        return _rule_view(backend, backend.resolver_rules[rule_id])
    for rule in _shared_rules(backend.account_id, backend.region_name):
        if rule.id == rule_id:
            return rule
    raise ResourceNotFoundException(f"Resolver rule with ID '{rule_id}' does not exist.")


def _sorted_matches(backend: Any, items: list[Any], filters: Any, names: list[str]) -> list[Any]:
    filters = filters or []
    backend._add_field_name_to_filter(filters)
    backend._validate_filters(filters, names)
    return [x for x in sorted(items, key=lambda x: (x.name or "", x.id)) if backend._matches_all_filters(x, filters)]


# (paginate looks its model up by the function's name, hence the names.)
@paginate(pagination_model=RESOLVER_PAGINATION)
def list_resolver_rules(self: Any, filters: Any) -> list[Any]:
    from moto.route53resolver.models import ResolverRule

    rules = [_rule_view(self, r) for r in list(self.resolver_rules.values())]
    rules += _shared_rules(self.account_id, self.region_name)
    return _sorted_matches(self, rules, filters, ResolverRule.FILTER_NAMES)


@paginate(pagination_model=RESOLVER_PAGINATION)
def list_resolver_rule_associations(self: Any, filters: Any) -> list[Any]:
    items = list(self.resolver_rule_associations.values())
    return _sorted_matches(self, items, filters, ResolverRuleAssociation.FILTER_NAMES)


Route53ResolverBackend.list_resolver_rules = list_resolver_rules  # type: ignore[method-assign]
Route53ResolverBackend.list_resolver_rule_associations = list_resolver_rule_associations  # type: ignore[method-assign]


def _resolver_list(method: str, key: str) -> Any:
    def handler(self: Any) -> str:
        max_results = self._get_param("MaxResults", 100)
        validate_args([("maxResults", max_results)])
        from moto.route53resolver.exceptions import InvalidNextTokenException
        from moto.utilities.paginator import InvalidToken

        try:
            items, next_token = getattr(self.route53resolver_backend, method)(
                self._get_param("Filters"), next_token=self._get_param("NextToken"), max_results=max_results
            )
        except InvalidToken as exc:
            raise InvalidNextTokenException() from exc
        response: dict[str, Any] = {key: [x.description() for x in items], "MaxResults": max_results}
        if next_token:
            response["NextToken"] = next_token
        return json.dumps(response)

    return handler


Route53ResolverResponse.list_resolver_rules = _resolver_list("list_resolver_rules", "ResolverRules")  # type: ignore[method-assign]
Route53ResolverResponse.list_resolver_rule_associations = _resolver_list(  # type: ignore[method-assign]
    "list_resolver_rule_associations", "ResolverRuleAssociations"
)


def _get_resolver_rule(self: Any, resolver_rule_id: str) -> Any:
    validate_args([("resolverRuleId", resolver_rule_id)])
    return _visible_rule(self, resolver_rule_id)


Route53ResolverBackend.get_resolver_rule = _get_resolver_rule  # type: ignore[method-assign]
_orig_associate_resolver_rule = Route53ResolverBackend.associate_resolver_rule
_RESOLVER_LOCK = threading.RLock()


def _associate_resolver_rule(self: Any, resolver_rule_id: str, name: str, vpc_id: str) -> Any:
    with _RESOLVER_LOCK:
        rule = _visible_rule(self, resolver_rule_id)
        for assoc in list(self.resolver_rule_associations.values()):
            if assoc.vpc_id != vpc_id:
                continue
            other = self.resolver_rules.get(assoc.resolver_rule_id) or next(
                (r for r in _shared_rules(self.account_id, self.region_name) if r.id == assoc.resolver_rule_id), None
            )
            if other is not None and other.domain_name == rule.domain_name:
                raise InvalidRequestException(
                    "Cannot associate rules with same domain name with same VPC. "
                    f"Conflict with resolver rule '{other.id}'"
                )
        if resolver_rule_id in self.resolver_rules:
            return _orig_associate_resolver_rule(self, resolver_rule_id, name, vpc_id)
        # A rule shared with this account: the association is the participant's own.
        if vpc_id not in [v.id for v in self.ec2_backend.describe_vpcs()]:
            from moto.route53resolver.exceptions import InvalidParameterException as ResolverInvalid

            raise ResolverInvalid(f"The vpc ID '{vpc_id}' does not exist")
        assoc_id = f"rslvr-rrassoc-{mock_random.get_random_hex(17)}"
        assoc = ResolverRuleAssociation(self.region_name, assoc_id, resolver_rule_id, vpc_id, name)
        self.resolver_rule_associations[assoc_id] = assoc
        return assoc


Route53ResolverBackend.associate_resolver_rule = _associate_resolver_rule  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# P20 Route 53 Profiles (moto 5.2.5 has no route53profiles service)
# ---------------------------------------------------------------------------------------------------
# The remediator reads which Profiles carry its endpoints (ListProfiles, ListProfileResourceAssociations); tests
# make the data with CreateProfile and AssociateResourceToProfile. Served under the signing name route53profiles
# (restJson1) by a WSGI layer in front of moto's dispatcher (route53_profiles_app, applied by moto_server.main):
# moto's dispatcher knows no such service. Per account (the access key id, as P0) and Region (the credential scope).
# What AWS documents (https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Route_53_Profiles.html):
#   POST /profile {Name, ClientToken, Tags} -> {Profile}; a repeated ClientToken returns the Profile made with it.
#   GET /profiles?maxResults&nextToken -> {ProfileSummaries: [{Arn, Id, Name, ShareStatus}], NextToken}.
#   POST /profileresourceassociation {Name, ProfileId, ResourceArn, ResourceProperties} -> {ProfileResourceAssociation}.
#   GET /profileresourceassociations/profileid/{ProfileId}?maxResults&nextToken&resourceType
#     -> {ProfileResourceAssociations, NextToken}.
#   maxResults 1..100 (default 100), else ValidationException; an unknown Profile is ResourceNotFoundException (404);
#   an unknown nextToken InvalidNextTokenException. Errors carry x-amzn-ErrorType and {"Message"}.
# Emulated, not AWS's exact wording (the messages could not be found): the resource must exist in the account (a VPC
# endpoint of the Profile's Region, or a hosted zone), else ResourceNotFoundException; associating one resource twice
# with a Profile is ConflictException. An association is COMPLETE at once (AWS: CREATING, then COMPLETE). ResourceType
# is PRIVATE_HOSTED_ZONE for a zone, as AWS's examples show, and VPC_ENDPOINT for an endpoint (not confirmed; the
# remediator reads ResourceArn only). Sharing Profiles through AWS RAM is not emulated (every Profile is NOT_SHARED),
# nor AssociateProfile and the other operations: they answer UnknownOperationException naming the harness.
_PROFILES_LOCK = threading.RLock()
# (account, region) -> {profile id: profile}; each profile: {"summary": {...}, "token": str, "resources": [...]}
_PROFILES: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
_PROFILE_SCOPE_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_PROFILE_PAGE_MAX = 100


class _ProfilesError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _profiles_page(items: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    raw = query.get("maxResults")
    try:
        max_results = _PROFILE_PAGE_MAX if raw is None else int(raw)
    except ValueError:
        max_results = 0
    if not 1 <= max_results <= _PROFILE_PAGE_MAX:
        raise _ProfilesError(
            400, "ValidationException", f"1 validation error detected: Value '{raw}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value less than or equal to 100 and greater than or equal to 1"
        )
    token = query.get("nextToken")
    start = 0
    if token is not None:
        if not token.isdigit() or int(token) > len(items):
            raise _ProfilesError(400, "InvalidNextTokenException", "The nextToken is not valid.")
        start = int(token)
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


def _profile_resource_exists(account: str, region: str, arn: str) -> tuple[bool, str]:
    """Whether `arn` names an existing VPC endpoint of the Region or hosted zone of the account; its ResourceType."""
    endpoint = re.match(r"^arn:[^:]+:ec2:([^:]*):(\d*):vpc-endpoint/(vpce-[0-9a-f]+)$", arn)
    if endpoint:
        per_account = dict.get(ec2_backends, account)
        backend = _regional(per_account, region) if per_account is not None else None
        found = (
            endpoint.group(1) == region
            and endpoint.group(2) == account
            and backend is not None
            and endpoint.group(3) in backend.vpc_end_points
            and str(backend.vpc_end_points[endpoint.group(3)].state).lower() not in ("deleted", "deleting")
        )
        return found, "VPC_ENDPOINT"
    zone = re.match(r"^arn:[^:]+:route53:::hostedzone/([A-Z0-9]+)$", arn)
    if zone:
        owner = _find_zone(zone.group(1))
        return owner is not None and owner[0] == account, "PRIVATE_HOSTED_ZONE"
    return False, ""


def _profiles_call(account: str, region: str, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    with _PROFILES_LOCK:
        profiles = _PROFILES.setdefault((account, region), {})
        now = utcnow().timestamp()
        if method == "POST" and path == "/profile":
            name = body.get("Name")
            if not isinstance(name, str) or not re.fullmatch(r"(?!^[0-9]+$)([a-zA-Z0-9\-_' ']+)", name):
                raise _ProfilesError(400, "ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint")
            token = str(body.get("ClientToken") or mock_random.get_random_hex(16))
            for profile in profiles.values():
                if profile["token"] == token:
                    return {"Profile": profile["summary"] | profile["details"]}
            profile_id = f"rp-{mock_random.get_random_hex(16)}"
            summary = {
                "Arn": f"arn:aws:route53profiles:{region}:{account}:profile/{profile_id}",
                "Id": profile_id,
                "Name": name,
                "ShareStatus": "NOT_SHARED",
            }
            details = {
                "ClientToken": token, "CreationTime": now, "ModificationTime": now, "OwnerId": account, "Status": "COMPLETE",
                "StatusMessage": "Created Profile",
            }
            profiles[profile_id] = {"summary": summary, "details": details, "token": token, "resources": []}
            return {"Profile": summary | details}
        if method == "GET" and path == "/profiles":
            page, next_token = _profiles_page([p["summary"] for p in profiles.values()], query)
            return {"ProfileSummaries": page, **({"NextToken": next_token} if next_token else {})}
        if method == "POST" and path == "/profileresourceassociation":
            profile = profiles.get(str(body.get("ProfileId")))
            if profile is None:
                raise _ProfilesError(404, "ResourceNotFoundException", f"The profile {body.get('ProfileId')} does not exist.")
            arn = str(body.get("ResourceArn") or "")
            exists, resource_type = _profile_resource_exists(account, region, arn)
            if not exists:
                raise _ProfilesError(404, "ResourceNotFoundException", f"The resource {arn} does not exist.")
            if any(r["ResourceArn"] == arn for r in profile["resources"]):
                raise _ProfilesError(409, "ConflictException", f"The resource {arn} is already associated with the profile.")
            association = {
                "CreationTime": now, "Id": f"rpr-{mock_random.get_random_hex(16)}", "ModificationTime": now,
                "Name": str(body.get("Name") or ""), "OwnerId": account, "ProfileId": profile["summary"]["Id"],
                "ResourceArn": arn, "ResourceType": resource_type, "Status": "COMPLETE", "StatusMessage": "Completed creation",
                **({"ResourceProperties": body["ResourceProperties"]} if body.get("ResourceProperties") else {}),
            }
            profile["resources"].append(association)
            return {"ProfileResourceAssociation": association}
        listed = re.fullmatch(r"/profileresourceassociations/profileid/([^/]+)", path)
        if method == "GET" and listed:
            profile = profiles.get(listed.group(1))
            if profile is None:
                raise _ProfilesError(404, "ResourceNotFoundException", f"The profile {listed.group(1)} does not exist.")
            wanted_type = query.get("resourceType")
            items = [r for r in profile["resources"] if wanted_type is None or r["ResourceType"] == wanted_type]
            page, next_token = _profiles_page(items, query)
            return {"ProfileResourceAssociations": page, **({"NextToken": next_token} if next_token else {})}
        raise _ProfilesError(
            400, "UnknownOperationException", f"{method} {path}: not emulated by the test harness (moto_network.py P20)"
        )


def route53_profiles_app(app: Any) -> Any:
    """A WSGI layer answering route53profiles requests (P20) and passing every other one to moto's `app`."""
    from urllib.parse import parse_qsl

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            with _PROFILES_LOCK:
                _PROFILES.clear()
            return app(environ, start_response)
        scope = _PROFILE_SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", "") or "")
        if scope is None or scope.group(3) != "route53profiles":
            return app(environ, start_response)
        account = scope.group(1) if re.fullmatch(r"\d{12}", scope.group(1)) else "123456789012"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else {}
            query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            status, headers, payload = 200, [], _profiles_call(account, scope.group(2), environ.get("REQUEST_METHOD", ""), path, query, body)
        except _ProfilesError as error:
            status, headers, payload = error.status, [("x-amzn-ErrorType", error.code)], {"Message": error.message}
        except ValueError:
            status, headers, payload = 400, [("x-amzn-ErrorType", "ValidationException")], {"Message": "The body is not JSON."}
        data = json.dumps(payload).encode()
        reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 409: "Conflict"}
        start_response(
            f"{status} {reasons.get(status, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), ("x-amzn-RequestId", mock_random.get_random_hex(32)), *headers],
        )
        return [data]

    return serve
