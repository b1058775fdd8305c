"""SSM Run Command and ECS agent behaviours for the moto launcher (imported by moto_server.py).

moto 5.2.5 lacks DescribeInstanceInformation and ListCommandInvocations, runs every command with
success at once, and lacks ECS UpdateContainerAgent. The agent-restart code path needs all of them,
so these patches add them, and let a test steer one instance through tags on its EC2 instance
(set with the real SDK's CreateTags, so the state lives in the test's own account):

  eer-test:ssm               unmanaged -> not an SSM managed node (absent from DescribeInstanceInformation,
                             SendCommand -> InvalidInstanceId); ConnectionLost / Inactive -> that ping status.
                             Default: Online.
  eer-test:platform-name     SSM PlatformName (default: Amazon Linux, or Microsoft Windows Server 2022
                             Datacenter for a Windows AMI). E.g. Bottlerocket, Ubuntu.
  eer-test:platform-version  SSM PlatformVersion (default: 2023, or 10.0.20348 on Windows).
  eer-test:command           fail -> the invocation ends Failed with exit code 1 and some output.
  eer-test:reconnect         false -> after a successful command the ECS agent stays disconnected
                             (agentConnected false), as if the restart broke it.
  eer-test:command-seconds   N -> each command runs N seconds (S8) before it ends as above.

  S1  DescribeInstanceInformation: the account's pending/running EC2 instances as SSM managed nodes;
      Filters InstanceIds (at most 100 values), MaxResults 5..50, NextToken.
  S2  SendCommand validates what AWS validates (InstanceIds 1..50, Comment <= 100 characters,
      TimeoutSeconds 30..2592000, every instance managed) and sets each invocation's outcome from tags.
      Without Targets it runs on the InstanceIds only (moto added every instance of the account: its
      target lookup with no filters matches them all).
  S3  ListCommandInvocations: CommandId / InstanceId filters, Details (CommandPlugins with Output),
      MaxResults 1..50, NextToken.
  S4  ECS UpdateContainerAgent: AGENT_UPDATE requested (agentUpdateStatus PENDING); on an up-to-date
      agent (>= 1.90.0) NoUpdateAvailableException.
  S5  ECS PutAttributes accepts a container instance's full ARN as targetId with targetType
      container-instance, as AWS does (moto took only the short id then: TargetNotFoundException).
  S6  SendCommand with a Command document of the account (CreateDocument) checks what AWS checks
      (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html, Errors):
      the document exists -> InvalidDocument; DocumentVersion exists -> InvalidDocumentVersion;
      Parameters are the document's, each value within its allowedValues, every parameter without a
      default given -> InvalidParameters (moto ran any name with any parameters). The command keeps
      its DocumentVersion. Each invocation has one plugin per mainSteps step, as the agent reports it
      (https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-schemas-features.html,
      cross-platform preconditions): a step whose `platformType` precondition is not the instance's
      platform is Skipped; the others run (Success, or Failed with eer-test:command=fail). If no step
      runs, the invocation still ends Success (moto had one aws:runShellScript plugin whatever ran).
      AWS-owned documents (AWS-*) are not in moto's store: sent as before, unchecked.
  S7  ListCommands honours Filters (InvokedAfter, InvokedBefore: ISO 8601; DocumentName; Status;
      other keys -> InvalidFilterKey), MaxResults 1..50 and NextToken, newest first
      (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListCommands.html; moto
      ignored Filters and paging: "not yet implemented").
  S8  A command takes time, as on AWS: Run Command delivers it to the instance's SSM agent, which runs
      the document there, so an invocation is InProgress for seconds to minutes (a restart of the ECS
      agent waits for the agent to stop and start) before it reaches a terminal status
      (https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html, "Understanding
      command statuses"). moto ended every invocation at SendCommand. With eer-test:command-seconds=N on
      an instance, its invocation reads InProgress (and its command InProgress, ListCommands) for N
      seconds after SendCommand, then ends with the outcome it would have had at once (Success, or Failed
      with eer-test:command=fail; eer-test:reconnect=false disconnects the agent only then).
"""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.ssm.models import Command, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

LATEST_AGENT = "1.90.0"


def _validation(message: str) -> JsonRESTError:
    return JsonRESTError("ValidationException", message)


def _tags(instance: Any) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in instance.get_tags()}


def _instances(account_id: str, region: str) -> list[Any]:
    backend = ec2_backends[account_id][region]
    return [i for i in backend.all_instances() if i.state in ("pending", "running")]


def _managed(instance: Any) -> bool:
    return _tags(instance).get("eer-test:ssm") != "unmanaged"


def _information(instance: Any) -> dict[str, Any]:
    tags = _tags(instance)
    windows = (instance.platform or "").lower() == "windows"
    return {
        "InstanceId": instance.id,
        "PingStatus": tags.get("eer-test:ssm", "Online"),
        "PlatformType": "Windows" if windows else "Linux",
        "PlatformName": tags.get(
            "eer-test:platform-name", "Microsoft Windows Server 2022 Datacenter" if windows else "Amazon Linux"
        ),
        "PlatformVersion": tags.get("eer-test:platform-version", "10.0.20348" if windows else "2023"),
        "AgentVersion": "3.3.1142.0",
        "ResourceType": "EC2Instance",
        "IsLatestVersion": True,
    }


def _page(items: list[Any], max_results: int, token: str | None) -> tuple[list[Any], str | None]:
    start = int(base64.b64decode(token).decode()) if token else 0
    end = start + max_results
    return items[start:end], (base64.b64encode(str(end).encode()).decode() if end < len(items) else None)


# S1 ------------------------------------------------------------------------------------------------
def _describe_instance_information(self: Any) -> ActionResult:
    filters = self._get_param("Filters") or []
    max_results = int(self._get_param("MaxResults") or 50)
    if not 5 <= max_results <= 50:
        raise _validation("MaxResults must be between 5 and 50")
    wanted: set[str] | None = None
    for f in filters:
        if f.get("Key") == "InstanceIds":
            if len(f.get("Values", [])) > 100:
                raise _validation("at most 100 values per filter")
            wanted = set(f["Values"])
    nodes = [
        _information(i)
        for i in sorted(_instances(self.current_account, self.region), key=lambda i: i.id)
        if _managed(i) and (wanted is None or i.id in wanted)
    ]
    page, token = _page(nodes, max_results, self._get_param("NextToken"))
    return ActionResult({"InstanceInformationList": page, **({"NextToken": token} if token else {})})


SimpleSystemManagerResponse.describe_instance_information = _describe_instance_information  # type: ignore[attr-defined]


# S2 ------------------------------------------------------------------------------------------------
_orig_targets = Command._get_instance_ids_from_targets


def _instance_ids_from_targets(self: Any) -> list[str]:
    return _orig_targets(self) if self.targets else []


Command._get_instance_ids_from_targets = _instance_ids_from_targets  # type: ignore[method-assign]
_orig_send_command = SimpleSystemManagerResponse.send_command


# S6 ------------------------------------------------------------------------------------------------
def _account_document(self: Any) -> Any:
    """The account's Command document SendCommand names, validated as AWS does; None for AWS-* ones."""
    name = self._get_param("DocumentName") or ""
    backend = ssm_backends[self.current_account][self.region]
    documents = backend._documents.get(name)
    if documents is None:
        if name.startswith("AWS-"):
            return None
        raise JsonRESTError("InvalidDocument", f"Document {name} does not exist in your account")
    version = self._get_param("DocumentVersion")
    if version in (None, "", "$DEFAULT"):
        document = documents.get_default_version()
    elif version == "$LATEST":
        document = documents.get_latest_version()
    else:
        document = documents.find_by_version(version)
    if document is None:
        raise JsonRESTError("InvalidDocumentVersion", f"Document {name} has no version {version}")
    if document.document_type != "Command":
        raise JsonRESTError("InvalidDocument", f"Document {name} is not a Command document")
    declared = (document.content_json or {}).get("parameters") or {}
    given = self._get_param("Parameters") or {}
    for key, values in given.items():
        if key not in declared:
            raise JsonRESTError("InvalidParameters", f"Parameter {key} is not defined in document {name}")
        allowed = declared[key].get("allowedValues")
        if allowed is not None and any(value not in allowed for value in values):
            raise JsonRESTError("InvalidParameters", f"Parameter {key} value is not one of its allowed values")
    for key, spec in declared.items():
        if key not in given and "default" not in spec:
            raise JsonRESTError("InvalidParameters", f"Parameter {key} is required by document {name}")
    return document


def _document_plugins(document: Any, parameters: dict[str, list[str]], instance: Any, fail: bool) -> list[dict[str, Any]]:
    platform = "Windows" if (instance.platform or "").lower() == "windows" else "Linux"
    plugins = []
    for step in (document.content_json or {}).get("mainSteps") or []:
        condition = (step.get("precondition") or {}).get("StringEquals") or []
        runs = not condition or condition == ["platformType", platform]
        text = "\n".join(step.get("inputs", {}).get("runCommand", []))
        for key, values in parameters.items():
            text = text.replace("{{ " + key + " }}", ",".join(values))
        plugins.append(
            {
                "Name": step.get("name", step.get("action")),
                "Status": ("Failed" if fail else "Success") if runs else "Skipped",
                "ResponseCode": (1 if fail else 0) if runs else 0,
                "Output": ("simulated failure" if fail else text) if runs else "Step execution skipped due to unsatisfied preconditions",
            }
        )
    return plugins


def _send_command(self: Any) -> ActionResult:
    ids = self._get_param("InstanceIds") or []
    if not 1 <= len(ids) <= 50:
        raise _validation("InstanceIds must have between 1 and 50 items")
    if len(self._get_param("Comment") or "") > 100:
        raise _validation("Comment must be at most 100 characters")
    timeout = self._get_int_param("TimeoutSeconds")
    if timeout is not None and not 30 <= timeout <= 2592000:
        raise _validation("TimeoutSeconds must be between 30 and 2592000")
    by_id = {i.id: i for i in _instances(self.current_account, self.region)}
    for instance_id in ids:
        if instance_id not in by_id or not _managed(by_id[instance_id]):
            raise JsonRESTError("InvalidInstanceId", f"Instances [[{instance_id}]] not in a valid state for account")
    document = _account_document(self)
    result = _orig_send_command(self)
    command = ssm_backends[self.current_account][self.region]._commands[-1]
    command.document_version = self._get_param("DocumentVersion") or (document.document_version if document else "$DEFAULT")
    failed = 0
    for invocation in command.invocations:
        instance = by_id[invocation["InstanceId"]]
        tags = _tags(instance)
        fail = tags.get("eer-test:command") == "fail"
        if document is not None:
            invocation["Plugins"] = _document_plugins(document, command.parameters, instance, fail)
            ran = [plugin for plugin in invocation["Plugins"] if plugin["Status"] != "Skipped"]
            fail = any(plugin["Status"] == "Failed" for plugin in ran)
            invocation["PluginName"] = ran[0]["Name"] if ran else invocation["Plugins"][0]["Name"]
        if fail:
            failed += 1
            invocation.update(
                Status="Failed",
                StatusDetails="Failed",
                ResponseCode=1,
                StandardOutputContent="stopping ecs-agent\nError response from daemon: simulated failure",
                StandardErrorContent="exit status 1",
            )
        else:
            invocation["StandardOutputContent"] = "\n".join(command.parameters.get("commands", []))
        disconnect = not fail and tags.get("eer-test:reconnect") == "false"
        seconds = float(tags.get("eer-test:command-seconds") or 0)
        if seconds > 0:
            _start_running(command, invocation, seconds, disconnect)
        elif disconnect:
            _disconnect_agent(self.current_account, self.region, invocation["InstanceId"])
    command.error_count = failed
    command.status = "Failed" if failed else "Success"
    command.status_details = command.status
    _settle(command, self.current_account, self.region)
    return result


def _disconnect_agent(account_id: str, region: str, instance_id: str) -> None:
    for cluster in ecs_backends[account_id][region].container_instances.values():
        for container_instance in cluster.values():
            if container_instance.ec2_instance_id == instance_id:
                container_instance.agent_connected = False


SimpleSystemManagerResponse.send_command = _send_command  # type: ignore[method-assign]


# S8 ------------------------------------------------------------------------------------------------
_FINAL_FIELDS = ("Status", "StatusDetails", "ResponseCode", "StandardOutputContent", "StandardErrorContent", "Plugins")
# (command id, instance id) -> (when it ends, epoch seconds; its outcome; whether it then disconnects the agent).
# Kept beside the invocation, not in it: GetCommandInvocation returns the invocation's dict as it is.
_RUNNING: dict[tuple[str, str], tuple[float, dict[str, Any], bool]] = {}


def _start_running(command: Any, invocation: dict[str, Any], seconds: float, disconnect: bool) -> None:
    """Holds the invocation's outcome back for `seconds`: until then it is InProgress, as on AWS."""
    final = {key: invocation[key] for key in _FINAL_FIELDS if key in invocation}
    _RUNNING[(command.command_id, invocation["InstanceId"])] = (time.time() + seconds, final, disconnect)
    invocation.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1, StandardOutputContent="", StandardErrorContent="")
    if invocation.get("Plugins"):
        invocation["Plugins"] = [
            {**plugin, "ResponseCode": -1, "Output": ""} | ({} if plugin["Status"] == "Skipped" else {"Status": "InProgress"})
            for plugin in invocation["Plugins"]
        ]


def _settle(command: Any, account_id: str, region: str) -> None:
    """Ends the invocations whose time has come, and sets the command's status from its invocations."""
    for invocation in command.invocations:
        key = (command.command_id, invocation["InstanceId"])
        running = _RUNNING.get(key)
        if running is None or running[0] > time.time():
            continue
        del _RUNNING[key]
        invocation.update(running[1])
        if running[2]:
            _disconnect_agent(account_id, region, invocation["InstanceId"])
    statuses = [invocation["Status"] for invocation in command.invocations]
    if "InProgress" in statuses:
        command.status = "InProgress"
    elif statuses:
        command.error_count = sum(1 for status in statuses if status != "Success")
        command.status = "Failed" if command.error_count else "Success"
    command.status_details = command.status


# S3 ------------------------------------------------------------------------------------------------
def _list_command_invocations(self: Any) -> ActionResult:
    backend = ssm_backends[self.current_account][self.region]
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    details = bool(self._get_param("Details"))
    max_results = int(self._get_param("MaxResults") or 50)
    if not 1 <= max_results <= 50:
        raise _validation("MaxResults must be between 1 and 50")
    commands = backend.list_commands(command_id, None)
    for command in commands:
        _settle(command, self.current_account, self.region)
    rows = []
    for command in commands:
        for invocation in command.invocations:
            if instance_id and invocation["InstanceId"] != instance_id:
                continue
            row = {
                "CommandId": command.command_id,
                "InstanceId": invocation["InstanceId"],
                "Comment": command.comment,
                "DocumentName": command.document_name,
                "RequestedDateTime": command.requested_date_time.isoformat(),
                "Status": invocation["Status"],
                "StatusDetails": invocation["StatusDetails"],
            }
            if details and invocation.get("Plugins"):
                row["CommandPlugins"] = [
                    {
                        "Name": plugin["Name"],
                        "Status": plugin["Status"],
                        "StatusDetails": plugin["Status"],
                        "ResponseCode": plugin["ResponseCode"],
                        "Output": plugin["Output"],
                    }
                    for plugin in invocation["Plugins"]
                ]
            elif details:
                row["CommandPlugins"] = [
                    {
                        "Name": invocation["PluginName"],
                        "Status": invocation["Status"],
                        "StatusDetails": invocation["StatusDetails"],
                        "ResponseCode": invocation["ResponseCode"],
                        "Output": "\n".join(
                            part for part in (invocation.get("StandardOutputContent"), invocation.get("StandardErrorContent")) if part
                        ),
                    }
                ]
            rows.append(row)
    page, token = _page(rows, max_results, self._get_param("NextToken"))
    return ActionResult({"CommandInvocations": page, **({"NextToken": token} if token else {})})


SimpleSystemManagerResponse.list_command_invocations = _list_command_invocations  # type: ignore[attr-defined]


# S4 ------------------------------------------------------------------------------------------------
def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


def _update_container_agent(self: Any) -> ActionResult:
    backend = ecs_backends[self.current_account][self.region]
    cluster = backend._get_cluster(self._get_param("cluster", "default"))
    wanted = self._get_param("containerInstance")
    instances = backend.container_instances.get(cluster.name, {})
    found = next(
        (ci for arn, ci in instances.items() if wanted in (arn, arn.rsplit("/", 1)[-1], ci.container_instance_arn)),
        None,
    )
    if found is None:
        raise JsonRESTError("InvalidParameterException", f"container instance {wanted} not found")
    if _version_tuple(found.version_info.get("agentVersion", "0")) >= _version_tuple(LATEST_AGENT):
        raise JsonRESTError("NoUpdateAvailableException", "There is no update available for your container agent.")
    found.agent_update_status = "PENDING"
    return ActionResult({"containerInstance": found})


EC2ContainerServiceResponse.update_container_agent = _update_container_agent  # type: ignore[attr-defined]



# S5 ------------------------------------------------------------------------------------------------
_orig_put_attribute = EC2ContainerServiceBackend._put_attribute


def _put_attribute(self: Any, cluster_name: str, name: str, value: Any = None, target_id: Any = None, target_type: Any = None) -> None:
    if target_type == "container-instance" and isinstance(target_id, str):
        target_id = target_id.rsplit("/", 1)[-1]
    _orig_put_attribute(self, cluster_name, name, value, target_id, target_type)


EC2ContainerServiceBackend._put_attribute = _put_attribute  # type: ignore[method-assign]


# S7 ------------------------------------------------------------------------------------------------
_LIST_COMMANDS_KEYS = {"InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName"}


def _list_commands(self: Any) -> ActionResult:
    backend = ssm_backends[self.current_account][self.region]
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    max_results = int(self._get_param("MaxResults") or 50)
    if not 1 <= max_results <= 50:
        raise _validation("MaxResults must be between 1 and 50")
    commands = backend.list_commands(command_id, instance_id)
    for command in commands:
        _settle(command, self.current_account, self.region)
    for f in self._get_param("Filters") or []:
        key, value = f.get("key"), f.get("value") or ""
        if key not in _LIST_COMMANDS_KEYS:
            raise JsonRESTError("InvalidFilterKey", f"The specified key {key} is not valid")
        if key in ("InvokedAfter", "InvokedBefore"):
            try:
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise JsonRESTError("InvalidFilterValue", f"{value} is not a valid date") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.timezone.utc)

            def at(command: Any) -> datetime.datetime:
                t = command.requested_date_time
                return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)

            commands = [c for c in commands if (at(c) >= moment if key == "InvokedAfter" else at(c) <= moment)]
        elif key == "DocumentName":
            commands = [c for c in commands if c.document_name == value]
        elif key == "Status":
            commands = [c for c in commands if c.status == value]
    commands = sorted(commands, key=lambda c: c.requested_date_time, reverse=True)
    rows = []
    for command in commands:
        row = command.response_object()
        row["DocumentVersion"] = getattr(command, "document_version", "$DEFAULT")
        rows.append(row)
    page, token = _page(rows, max_results, self._get_param("NextToken"))
    return ActionResult({"Commands": page, **({"NextToken": token} if token else {})})


SimpleSystemManagerResponse.list_commands = _list_commands  # type: ignore[method-assign]
