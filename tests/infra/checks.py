"""Checks of a declared stack against facts that come from Azure's documentation, not from the
program. Each check raises AssertionError on a stack that is wrong; ``test_facts`` runs them
over every stack, and the mutation harness (``mutations.py``) shows that each misconfiguration
it makes is caught by one of them or by the policy pack.

Sources (Microsoft Learn, checked when these were written):
- Private DNS zone per private-link sub-resource: "Azure Private Endpoint private DNS zone
  values" (private-link/private-endpoint-dns).
- Built-in role ids: "Azure built-in roles" (role-based-access-control/built-in-roles/*: the
  ``name`` field of each role's JSON).
- Static Web Apps regions: the regions ARM offers for Microsoft.Web/staticSites (westus2,
  centralus, eastus2, westeurope, eastasia), as its "location not available" error lists them.
- Metric names, dimensions and aggregations: "Supported metrics" for
  Microsoft.ServiceBus/namespaces, Microsoft.DBforPostgreSQL/flexibleServers and
  Microsoft.Web/sites (Azure Monitor reference, generated from the metrics API).
- Delegations: App Service VNet integration needs Microsoft.Web/serverFarms; a workload-profiles
  Container Apps environment needs Microsoft.App/environments.
- Origins: a browser sends ``Origin: <scheme>://<host>[:<port>]`` (RFC 6454, section 6.2: no
  path, no trailing slash), and a CORS allow-list must match it exactly; ``*`` cannot be used
  with credentials (Fetch standard, CORS protocol). The default hostname of a static web app is
  ``<name>.azurestaticapps.net``, served over HTTPS only ("Static Web Apps" overview).
- Linking an App Service as a static web app's backend makes it accept only the requests
  proxied through that site ("API support in Azure Static Web Apps with Azure App Service").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.infra.conftest import Declared, Stack, computed_outputs

# Private-link group id -> the documented private DNS zone name.
PRIVATE_DNS_ZONES = {
    "postgresqlServer": "privatelink.postgres.database.azure.com",
    "vault": "privatelink.vaultcore.azure.net",
    "namespace": "privatelink.servicebus.windows.net",
}

# Built-in role definition ids, from the "Azure built-in roles" reference.
ROLE_IDS = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}

STATIC_WEB_APP_REGIONS = {"westus2", "centralus", "eastus2", "westeurope", "eastasia"}

# Resource type -> {metric name in the REST API: dimensions it offers}.
METRICS = {
    "Microsoft.ServiceBus/namespaces": {
        "ActiveMessages": {"EntityName"},
        "DeadletteredMessages": {"EntityName"},
    },
    "Microsoft.DBforPostgreSQL/flexibleServers": {"cpu_percent": set(), "storage_percent": set()},
    "Microsoft.Web/sites": {"Http5xx": {"Instance"}},
}
# (Resource type, metric) -> the aggregations Azure Monitor offers for it.
AGGREGATIONS = {
    ("Microsoft.ServiceBus/namespaces", "ActiveMessages"): {"Average", "Minimum", "Maximum"},
    ("Microsoft.ServiceBus/namespaces", "DeadletteredMessages"): {"Average", "Minimum", "Maximum"},
    ("Microsoft.DBforPostgreSQL/flexibleServers", "cpu_percent"): {"Average", "Minimum", "Maximum"},
    ("Microsoft.DBforPostgreSQL/flexibleServers", "storage_percent"): {
        "Average",
        "Minimum",
        "Maximum",
    },
    ("Microsoft.Web/sites", "Http5xx"): {"Total"},
}

QUEUE = "diagnosis-jobs"
WEB_APP = "azure-native:web:WebApp"
SLOT = "azure-native:web:WebAppSlot"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def _app(stack: Stack, suffix: str) -> Declared:
    found = [a for a in stack.of(WEB_APP) if a.name.endswith(suffix)]
    assert len(found) == 1, (suffix, [a.name for a in stack.of(WEB_APP)])
    return found[0]


def _by_id(stack: Stack, resource_id: str) -> Declared:
    found = [r for r in stack.resources if r.id == resource_id]
    assert len(found) == 1, f"{resource_id} is not a resource of this stack"
    return found[0]


def _settings(resource: Declared) -> dict[str, Any]:
    return {s["name"]: s["value"] for s in resource.inputs["siteConfig"]["appSettings"]}


def _identity_principal(stack: Stack, who: str) -> str:
    identity = stack.one("azure-native:managedidentity:UserAssignedIdentity", f"id-{who}")
    return f"principal-{identity.name}"


def _identity_client(stack: Stack, who: str) -> str:
    identity = stack.one("azure-native:managedidentity:UserAssignedIdentity", f"id-{who}")
    return f"client-{identity.name}"


def private_endpoints_use_the_documented_zones(stack: Stack) -> None:
    groups = stack.of("azure-native:network:PrivateDnsZoneGroup")
    endpoints = stack.of("azure-native:network:PrivateEndpoint")
    assert endpoints
    for endpoint in endpoints:
        (connection,) = endpoint.inputs["privateLinkServiceConnections"]
        (group_id,) = connection["groupIds"]
        assert group_id in PRIVATE_DNS_ZONES, f"{endpoint.name}: unknown group id {group_id}"
        target = _by_id(stack, connection["privateLinkServiceId"]).type
        expected_target = {
            "postgresqlServer": "azure-native:dbforpostgresql:Server",
            "vault": "azure-native:keyvault:Vault",
            "namespace": "azure-native:servicebus:Namespace",
        }[group_id]
        assert target == expected_target, (endpoint.name, group_id, target)
        (dns,) = [g for g in groups if g.name == f"{endpoint.name}-dns"]
        zone = _by_id(stack, dns.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"])
        assert zone.inputs["privateZoneName"] == PRIVATE_DNS_ZONES[group_id], (
            endpoint.name,
            zone.inputs["privateZoneName"],
        )
    vnet = stack.one("azure-native:network:VirtualNetwork")
    for zone in stack.of("azure-native:privatedns:PrivateZone"):
        assert zone.inputs["privateZoneName"] in PRIVATE_DNS_ZONES.values(), zone.inputs
        links = [
            link
            for link in stack.of("azure-native:privatedns:VirtualNetworkLink")
            if link.inputs["privateZoneName"] == zone.inputs["privateZoneName"]
        ]
        assert [link.inputs["virtualNetwork"]["id"] for link in links] == [vnet.id], zone.name


def roles_are_the_documented_least_privilege_ones(stack: Stack) -> None:
    by_guid = {guid: role for role, guid in ROLE_IDS.items()}
    who = {_identity_principal(stack, w): w for w in ("api", "worker", "migrator")}
    granted: dict[str, set[tuple[str, str]]] = {w: set() for w in who.values()}
    for assignment in stack.of(ASSIGNMENT):
        inputs = assignment.inputs
        guid = inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        assert guid in by_guid, f"{assignment.name}: {guid} is not one of the documented roles"
        assert inputs["roleDefinitionId"].startswith("/subscriptions/"), inputs["roleDefinitionId"]
        assert inputs["principalId"] in who, (assignment.name, inputs["principalId"])
        granted[who[inputs["principalId"]]].add(
            (by_guid[guid], _by_id(stack, inputs["scope"]).type)
        )
    common = {
        ("AcrPull", "azure-native:containerregistry:Registry"),
        ("Key Vault Secrets User", "azure-native:keyvault:Vault"),
        ("Key Vault Crypto User", "azure-native:keyvault:Key"),
        ("Monitoring Metrics Publisher", "azure-native:applicationinsights:Component"),
    }
    assert granted["api"] == common | {
        ("Azure Service Bus Data Sender", "azure-native:servicebus:Queue")
    }, granted["api"]
    assert granted["worker"] == common | {
        ("Azure Service Bus Data Receiver", "azure-native:servicebus:Queue")
    }, granted["worker"]
    assert granted["migrator"] == {("AcrPull", "azure-native:containerregistry:Registry")}


def static_web_app_is_in_a_supported_region(stack: Stack) -> None:
    for site in stack.of("azure-native:web:StaticSite"):
        assert site.inputs["location"] in STATIC_WEB_APP_REGIONS, site.inputs["location"]


# An https origin as a browser sends it: scheme and host (and a port), nothing after.
HTTPS_ORIGIN = re.compile(
    r"https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d+)?"
)


def the_api_allows_exactly_its_spa_origin(stack: Stack) -> None:
    """The SPA calls the API from its own origin: the API (and its staging slot) must allow
    exactly that origin, as the browser spells it, and nothing broader. The API is not linked
    as the site's backend, which would shut out every caller but the site's proxy."""
    (site,) = stack.of("azure-native:web:StaticSite")
    hostname = computed_outputs(site)["defaultHostname"]
    expected = [f"https://{hostname}"]
    for domain in stack.of("azure-native:web:StaticSiteCustomDomain"):
        expected.append(f"https://{domain.inputs['domainName']}")
    for app in [_app(stack, "-api"), *stack.of(SLOT)]:
        origins = _settings(app)["LOGDAWG_CORS_ORIGINS"].split(",")
        for origin in origins:
            assert HTTPS_ORIGIN.fullmatch(origin), (app.name, origin)
        assert origins == expected, (app.name, origins, expected)
    assert "LOGDAWG_CORS_ORIGINS" not in _settings(_app(stack, "-worker"))
    assert stack.of("azure-native:web:StaticSiteLinkedBackend") == []


def the_api_knows_a_request_came_over_https(stack: Stack) -> None:
    """App Service ends TLS at its front ends and passes the request on over HTTP, saying
    ``X-Forwarded-Proto: https`` (Azure's "Configure a Linux Python app": inspect that
    header to detect an HTTPS session). The API (and its staging slot) must trust it from
    any address, the front ends' not being fixed, and accept nothing but HTTPS, or it never
    sends Strict-Transport-Security."""
    for app in [_app(stack, "-api"), *stack.of(SLOT)]:
        assert _settings(app).get("FORWARDED_ALLOW_IPS") == "*", app.name
        assert app.inputs["httpsOnly"] is True, app.name


def worker_autoscales_on_its_queue(stack: Stack) -> None:
    autoscales = stack.of("azure-native:monitor:AutoscaleSetting")
    if stack.name != "prod":
        assert autoscales == []
        return
    (autoscale,) = autoscales
    worker_plan = next(p for p in stack.of("azure-native:web:AppServicePlan") if "worker" in p.name)
    assert autoscale.inputs["targetResourceUri"] == worker_plan.id
    namespace = stack.one("azure-native:servicebus:Namespace")
    rules = autoscale.inputs["profiles"][0]["rules"]
    assert {r["scaleAction"]["direction"] for r in rules} == {"Increase", "Decrease"}
    for rule in rules:
        trigger = rule["metricTrigger"]
        assert trigger["metricNamespace"] == "Microsoft.ServiceBus/namespaces"
        assert trigger["metricName"] in METRICS["Microsoft.ServiceBus/namespaces"]
        assert trigger["metricName"] == "ActiveMessages"
        assert trigger["metricResourceUri"] == namespace.id
        (dimension,) = trigger["dimensions"]
        assert dimension["dimensionName"] in METRICS[trigger["metricNamespace"]]["ActiveMessages"]
        assert dimension["values"] == [QUEUE], dimension


def alerts_use_documented_metrics_and_reach_the_action_group(stack: Stack) -> None:
    (group,) = stack.of("azure-native:monitor:ActionGroup")
    emails = [r["emailAddress"] for r in group.inputs.get("emailReceivers", [])]
    assert emails == ["oncall@example.org", "platform@example.org"]
    wanted = {
        ("Microsoft.ServiceBus/namespaces", "DeadletteredMessages"),
        ("Microsoft.ServiceBus/namespaces", "ActiveMessages"),
        ("Microsoft.Web/sites", "Http5xx"),
        ("Microsoft.DBforPostgreSQL/flexibleServers", "cpu_percent"),
        ("Microsoft.DBforPostgreSQL/flexibleServers", "storage_percent"),
    }
    seen = set()
    targets = {
        "Microsoft.ServiceBus/namespaces": stack.one("azure-native:servicebus:Namespace").id,
        "Microsoft.Web/sites": _app(stack, "-api").id,
        "Microsoft.DBforPostgreSQL/flexibleServers": stack.one(
            "azure-native:dbforpostgresql:Server"
        ).id,
    }
    for alert in stack.of("azure-native:monitor:MetricAlert"):
        namespace = alert.inputs["targetResourceType"]
        assert alert.inputs["scopes"] == [targets[namespace]], alert.name
        assert alert.inputs["actions"] == [{"actionGroupId": group.id}], alert.name
        for criterion in alert.inputs["criteria"]["allOf"]:
            metric = criterion["metricName"]
            assert metric in METRICS[namespace], (alert.name, metric)
            assert criterion["timeAggregation"] in AGGREGATIONS[namespace, metric], alert.name
            assert criterion["metricNamespace"] == namespace
            for dimension in criterion.get("dimensions") or []:
                assert dimension["name"] in METRICS[namespace][metric], (alert.name, dimension)
                assert dimension["values"] == [QUEUE], dimension
            if namespace == "Microsoft.ServiceBus/namespaces":
                assert criterion.get("dimensions"), f"{alert.name} must filter on the queue"
            seen.add((namespace, metric))
    assert seen == wanted, wanted - seen
    dead = next(
        a for a in stack.of("azure-native:monitor:MetricAlert") if a.name.endswith("dead-letters")
    )
    criterion = dead.inputs["criteria"]["allOf"][0]
    assert (criterion["operator"], criterion["threshold"]) == ("GreaterThan", 0)
    (failed,) = stack.of("azure-native:monitor:ScheduledQueryRule")
    assert failed.inputs["actions"]["actionGroups"] == [group.id]
    assert "logdawg-worker" in failed.inputs["criteria"]["allOf"][0]["query"]


def every_resource_with_diagnostics_sends_them_to_the_workspace(stack: Stack) -> None:
    workspace = stack.one("azure-native:operationalinsights:Workspace")
    settings = stack.of("azure-native:monitor:DiagnosticSetting")
    covered = {}
    for setting in settings:
        assert setting.inputs["workspaceId"] == workspace.id, setting.name
        assert {"category": "AllMetrics", "enabled": True} in setting.inputs["metrics"]
        covered[setting.inputs["resourceUri"]] = setting
    with_logs = (
        "azure-native:dbforpostgresql:Server",
        "azure-native:keyvault:Vault",
        "azure-native:servicebus:Namespace",
        "azure-native:containerregistry:Registry",
        WEB_APP,
        "azure-native:app:ManagedEnvironment",
    )
    for type_ in (*with_logs, "azure-native:web:AppServicePlan"):
        for resource in stack.of(type_):
            assert resource.id in covered, f"{resource.name} has no diagnostic setting"
            if type_ in with_logs:
                logs = covered[resource.id].inputs.get("logs") or []
                assert {"categoryGroup": "allLogs", "enabled": True} in logs, resource.name


def apps_run_their_own_image_at_the_release_tag(stack: Stack) -> None:
    registry = stack.one("azure-native:containerregistry:Registry")
    server = f"{registry.inputs['registryName']}.azurecr.io"
    tag = "latest"
    for who, image in (("-api", "logdawg-api"), ("-worker", "logdawg-worker")):
        app = _app(stack, who)
        assert app.inputs["siteConfig"]["linuxFxVersion"] == f"DOCKER|{server}/{image}:{tag}"
        client = _identity_client(stack, who.strip("-"))
        assert app.inputs["siteConfig"]["acrUserManagedIdentityID"] == client, app.name
    for slot in stack.of(SLOT):
        assert slot.inputs["siteConfig"]["linuxFxVersion"] == f"DOCKER|{server}/logdawg-api:{tag}"
    (job,) = stack.of("azure-native:app:Job")
    (container,) = job.inputs["template"]["containers"]
    assert container["image"] == f"{server}/logdawg-migrator:{tag}"


def health_checks_are_liveness_and_the_worker_is_private(stack: Stack) -> None:
    for app in stack.of(WEB_APP) + stack.of(SLOT):
        assert app.inputs["siteConfig"]["healthCheckPath"] == "/healthz", app.name
    assert _app(stack, "-worker").inputs["publicNetworkAccess"] == "Disabled"
    subnets = {s.name: s for s in stack.of("azure-native:network:Subnet")}
    assert subnets["net-app"].inputs["delegations"][0]["serviceName"] == "Microsoft.Web/serverFarms"
    assert (
        subnets["net-jobs"].inputs["delegations"][0]["serviceName"] == "Microsoft.App/environments"
    )


def vault_allows_no_template_vm_or_disk_access(stack: Stack) -> None:
    properties = stack.one("azure-native:keyvault:Vault").inputs["properties"]
    for key in ("enabledForTemplateDeployment", "enabledForDeployment", "enabledForDiskEncryption"):
        assert properties.get(key) is False, key
    assert properties["enableRbacAuthorization"] is True
    assert properties.get("enablePurgeProtection") is (True if stack.name == "prod" else None)


def the_migrator_alone_administers_the_database(stack: Stack) -> None:
    admins = stack.of("azure-native:dbforpostgresql:Administrator")
    migrator = _identity_principal(stack, "migrator")
    assert {a.inputs["objectId"] for a in admins} == {
        "0b3c8a52-5d1e-4c55-9f3e-6a8c2f1d7e90",
        migrator,
    }
    (machine,) = [a for a in admins if a.inputs["objectId"] == migrator]
    assert machine.inputs["principalType"] == "ServicePrincipal"
    (job,) = stack.of("azure-native:app:Job")
    env = {e["name"]: e["value"] for e in job.inputs["template"]["containers"][0]["env"]}
    assert env["AZURE_CLIENT_ID"] == _identity_client(stack, "migrator")
    assert env["LOGDAWG_DATABASE_USER"] == machine.inputs["principalName"]
    runtime = dict(pair.split("=") for pair in env["LOGDAWG_RUNTIME_PRINCIPALS"].split(","))
    assert sorted(runtime.values()) == sorted(
        [_identity_principal(stack, "api"), _identity_principal(stack, "worker")]
    )
    assert job.inputs["configuration"]["triggerType"] == "Manual"
    assert job.inputs["identity"]["userAssignedIdentities"] == [
        stack.one("azure-native:managedidentity:UserAssignedIdentity", "id-migrator").id
    ]
    environment = stack.one("azure-native:app:ManagedEnvironment")
    assert job.inputs["environmentId"] == environment.id
    jobs_subnet = stack.one("azure-native:network:Subnet", "net-jobs")
    assert environment.inputs["vnetConfiguration"]["infrastructureSubnetId"] == jobs_subnet.id
    for app in stack.of(WEB_APP) + stack.of(SLOT):
        settings = _settings(app)
        assert settings["LOGDAWG_MIGRATE_ON_START"] == "false", app.name
        assert settings["LOGDAWG_DATABASE_USER"] != machine.inputs["principalName"]


def the_api_signs_people_in_with_entra(stack: Stack) -> None:
    for app in [_app(stack, "-api"), *stack.of(SLOT)]:
        settings = _settings(app)
        assert settings["LOGDAWG_AUTH_PROVIDER"] == "entra"
        assert settings["LOGDAWG_AUTH_CLIENT_ID"] == "6e1f4a2b-9c3d-4e5f-8a7b-1c2d3e4f5a6b"
        assert settings["LOGDAWG_AUTH_TENANT_ID"] == "99999999-8888-7777-6666-555555555555"
        assert settings["OTEL_SERVICE_NAME"] == "logdawg-api"
    assert _settings(_app(stack, "-worker"))["OTEL_SERVICE_NAME"] == "logdawg-worker"


def budget_and_protection_fit_the_environment(stack: Stack) -> None:
    (budget,) = stack.of("azure-native:consumption:Budget")
    group = stack.one("azure-native:resources:ResourceGroup")
    assert budget.inputs["scope"] == group.id
    assert budget.inputs["amount"] == {"dev": 150, "prod": 1500}.get(stack.name, 40)
    assert budget.inputs["timeGrain"] == "Monthly"
    stateful = {
        "db-server", "db-db", "vault-kv", "vault-kek", "bus-sb", "bus-queue", "images-acr",
        "obs-logs",
    }  # fmt: skip
    if stack.name == "prod":
        assert stateful <= stack.protected, stateful - stack.protected
    else:
        assert stack.protected == set(), stack.protected


def apps_and_the_job_start_after_what_they_need(stack: Stack) -> None:
    assignments = {a.name for a in stack.of(ASSIGNMENT)}
    for app in stack.of(WEB_APP) + stack.of(SLOT):
        who = "api" if app.name.startswith("apps-api") else "worker"
        needed = {f"{who}-acr-pull", f"{who}-kv-secrets", f"{who}-kv-kek"}
        assert needed <= assignments, needed - assignments
        depends = stack.depends_on.get(app.name, set())
        assert needed | {"appinsights-connection"} <= depends, (app.name, needed - depends)
    (job,) = stack.of("azure-native:app:Job")
    job_needs = {"migrator-acr-pull", "db-migrator-admin", "db-db"}
    assert job_needs <= stack.depends_on.get(job.name, set()), job_needs


CHECKS: tuple[Callable[[Stack], None], ...] = (
    private_endpoints_use_the_documented_zones,
    roles_are_the_documented_least_privilege_ones,
    static_web_app_is_in_a_supported_region,
    the_api_allows_exactly_its_spa_origin,
    the_api_knows_a_request_came_over_https,
    worker_autoscales_on_its_queue,
    alerts_use_documented_metrics_and_reach_the_action_group,
    every_resource_with_diagnostics_sends_them_to_the_workspace,
    apps_run_their_own_image_at_the_release_tag,
    health_checks_are_liveness_and_the_worker_is_private,
    vault_allows_no_template_vm_or_disk_access,
    the_migrator_alone_administers_the_database,
    the_api_signs_people_in_with_entra,
    budget_and_protection_fit_the_environment,
    apps_and_the_job_start_after_what_they_need,
)
