"""Readers of Terraform's own JSON: ``terraform show -json`` of a saved plan, and the state file Terraform wrote
(read from the S3 backend's bucket, or printed by ``terraform state pull``; laid out as ``show -json`` lays out a
state: :func:`state_values`).

Everything the runbooks know about the infrastructure Terraform manages comes through here: the resources a plan
creates, changes or replaces (``resource_changes``), what changed outside Terraform (``resource_drift``), the
values after the plan (``planned_values``) or in the state (``values``). :func:`table_spec` turns a list of
resources into the :class:`~runbook.spec.TableSpec` the other modules read — from the provider's attribute names,
never from the module's HCL.

The JSON formats: https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from runbook.spec import Alarm, Attribute, Autoscaling, GlobalSecondaryIndex, LocalSecondaryIndex, Replica, TableSpec

if TYPE_CHECKING:
    from runbook.terraform.command import Terraform

TABLE_TYPE = "aws_dynamodb_table"


def _strip_index(address: str) -> str:
    """``module.a["x"].aws_b.c[0]`` → ``module.a.aws_b.c`` (the configuration names resources without keys)."""
    return re.sub(r"\[[^\]]*\]", "", address)


# --- flattening -------------------------------------------------------------------------------------------------


def flatten(module: dict | None) -> list[dict]:
    """Every resource of a ``values`` module tree (``root_module`` and its ``child_modules``), depth first."""
    if not module:
        return []
    resources = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        resources += flatten(child)
    return resources


def managed(resources: Iterable[dict]) -> list[dict]:
    """Only managed resources (``mode == "managed"``), not data sources."""
    return [r for r in resources if r.get("mode", "managed") == "managed"]


def of_type(resources: Iterable[dict], type_: str) -> list[dict]:
    return [r for r in resources if r.get("type") == type_]


# --- the state file (the backend's object, ``terraform state pull``) ------------------------------------------------


def state_values(pulled: dict) -> dict:
    """The state as ``terraform show -json`` lays it out (``values``: ``outputs`` and the ``root_module`` tree of
    resources with ``address``, ``values``, ``tainted``, ``deposed_key``…), from the state file: the object
    Terraform's backend stores, which is what ``terraform state pull`` prints (no provider is started for either).
    Only what the file holds: no ``sensitive_values`` (those need the provider's schema).

    The file's format (version 4 since Terraform 0.12) is the one every state is written in. Any other version
    raises ``ValueError``.
    """
    if not pulled:
        return {}
    if pulled.get("version") != 4:
        raise ValueError(f"a state file of version {pulled.get('version')!r}; this reader knows version 4")
    modules: dict[str, dict] = {"": {"resources": []}}
    for resource in pulled.get("resources") or []:
        module = resource.get("module") or ""
        prefix = (f"{module}." if module else "") + ("data." if resource.get("mode") == "data" else "")
        base = f"{prefix}{resource['type']}.{resource['name']}"
        provider = re.search(r'provider\["([^"]+)"\]', resource.get("provider", ""))  # (an alias follows: .west)
        for instance in resource.get("instances") or []:
            key = instance.get("index_key")
            entry = {
                "address": base + (f"[{json.dumps(key)}]" if key is not None else ""),
                "mode": resource.get("mode", "managed"),
                "type": resource["type"],
                "name": resource["name"],
                **({"index": key} if key is not None else {}),
                "provider_name": provider.group(1) if provider else resource.get("provider", ""),
                "schema_version": instance.get("schema_version", 0),
                "values": instance.get("attributes") or {},
                **({"depends_on": instance["dependencies"]} if instance.get("dependencies") else {}),
                **({"tainted": True} if instance.get("status") == "tainted" else {}),
                **({"deposed_key": instance["deposed"]} if instance.get("deposed") else {}),
            }
            _module_node(modules, module)["resources"].append(entry)
    outputs = {
        name: {
            "sensitive": bool(item.get("sensitive")),
            "value": item.get("value"),
            **({"type": item["type"]} if "type" in item else {}),
        }
        for name, item in (pulled.get("outputs") or {}).items()
    }
    return {
        "format_version": "1.0",
        "terraform_version": pulled.get("terraform_version"),
        "values": {**({"outputs": outputs} if outputs else {}), "root_module": modules[""]},
    }


def _module_node(modules: dict[str, dict], address: str) -> dict:
    """The ``child_modules`` node of ``address`` (``module.a[0].module.b``), made with its parents as needed."""
    if address not in modules:
        parent = address.rsplit(".module.", 1)[0] if ".module." in address else ""
        modules[address] = {"resources": [], "address": address}
        _module_node(modules, parent).setdefault("child_modules", []).append(modules[address])
    return modules[address]


# --- plans ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanJson:
    """``terraform show -json`` of a saved plan."""

    raw: dict = field(repr=False)

    @classmethod
    def from_file(cls, path: Path | str) -> "PlanJson":
        return cls(json.loads(Path(path).read_text()))

    @property
    def terraform_version(self) -> str:
        return self.raw.get("terraform_version", "")

    @property
    def resource_changes(self) -> list[dict]:
        """Every resource's planned change (``change.actions``, ``before``, ``after``, ``replace_paths``…)."""
        return list(self.raw.get("resource_changes", []))

    @property
    def resource_drift(self) -> list[dict]:
        """Changes Terraform found while refreshing: made outside Terraform since the last apply."""
        return list(self.raw.get("resource_drift", []))

    @property
    def variables(self) -> dict[str, Any]:
        """The root module's input variables as Terraform resolved them (tfvars, defaults)."""
        return {name: item.get("value") for name, item in (self.raw.get("variables") or {}).items()}

    def planned_resources(self) -> list[dict]:
        """Managed resources as they will be after the plan is applied."""
        return managed(flatten((self.raw.get("planned_values") or {}).get("root_module")))

    def prior_resources(self) -> list[dict]:
        """Managed resources in the state the plan started from (after refresh)."""
        prior = (self.raw.get("prior_state") or {}).get("values") or {}
        return managed(flatten(prior.get("root_module")))

    def configured_attributes(self, address: str) -> set[str] | None:
        """The attribute and block names the configuration sets for a resource (its ``expressions``).

        ``None`` when the plan carries no configuration for it. Attributes outside this set are computed by the
        provider (``arn``, ``attachment_count`` …): a refresh that changes them is not a change made outside Terraform.
        """
        module = (self.raw.get("configuration") or {}).get("root_module") or {}
        parts = [p for p in _strip_index(address).split(".")]
        while len(parts) > 2 and parts[0] == "module":
            module = ((module.get("module_calls") or {}).get(parts[1]) or {}).get("module") or {}
            parts = parts[2:]
        wanted = ".".join(parts)
        for resource in module.get("resources", []):
            if resource.get("address") == wanted:
                return set(resource.get("expressions") or {})
        return None

    def change(self, address: str) -> dict | None:
        return next((c for c in self.resource_changes if c.get("address") == address), None)

    @property
    def has_changes(self) -> bool:
        return any(
            set(c["change"]["actions"]) - {"no-op", "read"} or c["change"].get("importing")
            for c in self.resource_changes
        )


def load_plan(terraform: "Terraform", plan_file: str | None = None) -> PlanJson:
    """``terraform show -json`` of the workspace's saved plan (one Terraform run, no refresh)."""
    return PlanJson(terraform.show_json(plan_file or terraform.workspace.plan_file.name))


def state_resources(terraform: "Terraform") -> list[dict]:
    """Managed resources in the workspace's state (:meth:`Terraform.show_json`); empty when there is none."""
    values = (terraform.show_json() or {}).get("values") or {}
    return managed(flatten(values.get("root_module")))


# --- the table -------------------------------------------------------------------------------------------------


def _first(block: Any) -> dict:
    """A nested block the provider gives as a list of at most one object."""
    if isinstance(block, list) and block:
        return block[0] or {}
    return block if isinstance(block, dict) else {}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value else None


def _encryption(values: dict, module_has_kms_key: bool) -> tuple[str, str | None]:
    sse = _first(values.get("server_side_encryption"))
    if not sse.get("enabled"):
        return "AWS_OWNED", None
    key = sse.get("kms_key_arn") or None
    if key and not key.endswith(":alias/aws/dynamodb"):
        return "CUSTOMER_MANAGED", key
    return ("CUSTOMER_MANAGED", None) if module_has_kms_key else ("AWS_MANAGED", None)


def _module_of(address: str) -> str:
    """``module.dynamodb`` of ``module.dynamodb.aws_x.y`` (``""`` for the root module)."""
    parts = address.split(".")
    prefix = []
    while len(parts) > 2 and parts[0] == "module":
        prefix += parts[:2]
        parts = parts[2:]
    return ".".join(prefix)


def _alarm(resource: dict) -> Alarm:
    values = resource.get("values") or {}
    metrics = [values["metric_name"]] if values.get("metric_name") else []
    for query in values.get("metric_query") or []:
        for metric in query.get("metric") or []:
            if metric.get("metric_name"):
                metrics.append(metric["metric_name"])
    return Alarm(
        address=resource["address"],
        name=values.get("alarm_name") or resource["address"],
        metrics=tuple(dict.fromkeys(metrics)),
        threshold=values.get("threshold"),
        comparison_operator=values.get("comparison_operator"),
        period=values.get("period"),
        evaluation_periods=values.get("evaluation_periods"),
        statistic=values.get("statistic"),
        dimensions=dict(values.get("dimensions") or {}),
    )


def _autoscaling(resources: list[dict], table: str) -> Autoscaling:
    resource_id = f"table/{table}"
    targets = {
        r["values"].get("scalable_dimension"): r["values"]
        for r in of_type(resources, "aws_appautoscaling_target")
        if (r.get("values") or {}).get("resource_id") == resource_id
    }
    if not targets:
        return Autoscaling()
    policies = [
        r["values"]
        for r in of_type(resources, "aws_appautoscaling_policy")
        if (r.get("values") or {}).get("resource_id") in (resource_id, None)
    ]
    target_values = [
        _first(p.get("target_tracking_scaling_policy_configuration")).get("target_value") for p in policies
    ]
    read = targets.get("dynamodb:table:ReadCapacityUnits", {})
    write = targets.get("dynamodb:table:WriteCapacityUnits", {})
    return Autoscaling(
        enabled=True,
        read_min=read.get("min_capacity"),
        read_max=read.get("max_capacity"),
        write_min=write.get("min_capacity"),
        write_max=write.get("max_capacity"),
        target_utilization=next((float(v) for v in target_values if v is not None), None),
    )


def _replicas(values: dict) -> tuple[Replica, ...]:
    """The table's ``replica`` blocks (global-table replicas), sorted by region."""
    return tuple(
        sorted(
            (
                Replica(
                    region=r["region_name"],
                    kms_key_arn=r.get("kms_key_arn") or None,
                    pitr_enabled=bool(r.get("point_in_time_recovery")),
                    propagate_tags=bool(r.get("propagate_tags")),
                )
                for r in values.get("replica") or []
                if r.get("region_name")
            ),
            key=lambda r: r.region,
        )
    )


def table_resource(resources: Iterable[dict], name: str | None = None) -> dict | None:
    """The ``aws_dynamodb_table`` resource (the one named ``name`` when several are planned)."""
    tables = of_type(resources, TABLE_TYPE)
    if name is not None:
        tables = [t for t in tables if (t.get("values") or {}).get("name") == name]
    return tables[0] if tables else None


def table_spec(
    resources: list[dict], region: str = "", environment: str = "", name: str | None = None
) -> TableSpec | None:
    """The table as these resources (planned values or state) describe it; ``None`` when no table is among them."""
    table = table_resource(resources, name)
    if table is None:
        return None
    values = table.get("values") or {}
    table_name = values["name"]
    module = _module_of(table["address"])
    in_module = [r for r in resources if _module_of(r["address"]) == module]
    encryption, kms_key = _encryption(values, bool(of_type(in_module, "aws_kms_key")))
    provisioned = values.get("billing_mode") == "PROVISIONED"
    pitr = _first(values.get("point_in_time_recovery"))
    ttl = _first(values.get("ttl"))
    on_demand = _first(values.get("on_demand_throughput"))
    tags = dict(values.get("tags_all") or values.get("tags") or {})

    def gsi(index: dict) -> GlobalSecondaryIndex:
        ceiling = _first(index.get("on_demand_throughput"))
        return GlobalSecondaryIndex(
            name=index["name"],
            hash_key=index["hash_key"],
            range_key=index.get("range_key") or None,
            projection_type=index.get("projection_type") or "ALL",
            non_key_attributes=tuple(sorted(index.get("non_key_attributes") or ())),
            read_capacity=_int(index.get("read_capacity")) if provisioned else None,
            write_capacity=_int(index.get("write_capacity")) if provisioned else None,
            max_read_request_units=_int(ceiling.get("max_read_request_units")),
            max_write_request_units=_int(ceiling.get("max_write_request_units")),
        )

    alarms = [
        r
        for r in of_type(in_module, "aws_cloudwatch_metric_alarm")
        if table_name in (r.get("values") or {}).get("alarm_name", "")
        or (r.get("values") or {}).get("dimensions", {}) == {"TableName": table_name}
    ]
    return TableSpec(
        address=table["address"],
        name=table_name,
        region=region,
        environment=environment or tags.get("Environment", ""),
        billing_mode=values.get("billing_mode") or "PROVISIONED",
        hash_key=values["hash_key"],
        range_key=values.get("range_key") or None,
        attributes=tuple(Attribute(name=a["name"], type=a["type"]) for a in values.get("attribute") or []),
        global_secondary_indexes=tuple(
            sorted((gsi(i) for i in values.get("global_secondary_index") or []), key=lambda i: i.name)
        ),
        local_secondary_indexes=tuple(
            sorted(
                (
                    LocalSecondaryIndex(
                        name=i["name"],
                        range_key=i["range_key"],
                        projection_type=i.get("projection_type") or "ALL",
                        non_key_attributes=tuple(sorted(i.get("non_key_attributes") or ())),
                    )
                    for i in values.get("local_secondary_index") or []
                ),
                key=lambda i: i.name,
            )
        ),
        read_capacity=_int(values.get("read_capacity")) if provisioned else None,
        write_capacity=_int(values.get("write_capacity")) if provisioned else None,
        max_read_request_units=_int(on_demand.get("max_read_request_units")),
        max_write_request_units=_int(on_demand.get("max_write_request_units")),
        autoscaling=_autoscaling(in_module, table_name) if provisioned else Autoscaling(),
        stream_enabled=bool(values.get("stream_enabled")),
        stream_view_type=(values.get("stream_view_type") or None) if values.get("stream_enabled") else None,
        pitr_enabled=bool(pitr.get("enabled")),
        pitr_recovery_period_days=_int(pitr.get("recovery_period_in_days")) if pitr.get("enabled") else None,
        ttl_enabled=bool(ttl.get("enabled")),
        ttl_attribute_name=(ttl.get("attribute_name") or None) if ttl.get("enabled") else None,
        encryption=encryption,
        kms_key_arn=kms_key,
        table_class=values.get("table_class") or "STANDARD",
        deletion_protection_enabled=bool(values.get("deletion_protection_enabled")),
        contributor_insights_enabled=any(
            (r.get("values") or {}).get("table_name") == table_name and not (r.get("values") or {}).get("index_name")
            for r in of_type(in_module, "aws_dynamodb_contributor_insights")
        ),
        dashboard_enabled=bool(of_type(in_module, "aws_cloudwatch_dashboard")),
        alarms=tuple(sorted((_alarm(r) for r in alarms), key=lambda a: a.name)),
        replicas=_replicas(values),
        tags=tags,
    )
