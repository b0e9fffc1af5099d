"""The security and sizing properties of every stack, asserted on what the program declares."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from app.settings import Settings
from infra.policy.rules import violations
from tests.infra.conftest import Stack, run_stack, stack_config

WEB_APP = "azure-native:web:WebApp"
ENVIRONMENTS = ("dev", "prod", "pr-123")


def _settings(app: Any) -> dict[str, str]:
    return {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_taggable_resource_is_tagged(stacks: dict[str, Stack], name: str) -> None:
    stack = stacks[name]
    taggable = [r for r in stack.resources if r.taggable]
    assert len(taggable) > 20
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert {"environment", "application", "owner"} <= tags.keys(), resource.name
        assert tags["owner"] == "platform-team"


def test_pr_stacks_carry_the_pr_number_an_expiry_and_random_suffixes(
    stacks: dict[str, Stack],
) -> None:
    pr = stacks["pr-123"]
    group = pr.one("azure-native:resources:ResourceGroup")
    assert group.inputs["tags"]["pull-request"] == "123"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", group.inputs["tags"]["expires"])
    assert pr.one("azure-native:keyvault:Vault").inputs["vaultName"].endswith("-q7x2k")
    assert (
        pr.one("azure-native:containerregistry:Registry").inputs["registryName"].endswith("q7x2k")
    )
    assert (
        "pull-request"
        not in stacks["dev"].one("azure-native:resources:ResourceGroup").inputs["tags"]
    )


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_public_access_is_off_where_stated(stacks: dict[str, Stack], name: str) -> None:
    stack = stacks[name]
    server = stack.one("azure-native:dbforpostgresql:Server")
    assert server.inputs["network"]["publicNetworkAccess"] == "Disabled"
    vault = stack.one("azure-native:keyvault:Vault").inputs["properties"]
    assert vault["publicNetworkAccess"] == "Disabled"
    assert vault["networkAcls"]["defaultAction"] == "Deny"
    worker = next(a for a in stack.of(WEB_APP) if a.name.endswith("-worker"))
    assert worker.inputs["publicNetworkAccess"] == "Disabled"
    bus = stack.one("azure-native:servicebus:Namespace").inputs
    assert bus["publicNetworkAccess"] == ("Disabled" if name == "prod" else "Enabled")


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_each_private_endpoint_is_in_a_zone_linked_to_the_vnet(
    stacks: dict[str, Stack], name: str
) -> None:
    stack = stacks[name]
    vnet = stack.one("azure-native:network:VirtualNetwork")
    endpoints = stack.of("azure-native:network:PrivateEndpoint")
    groups = {e.inputs["privateLinkServiceConnections"][0]["groupIds"][0] for e in endpoints}
    expected = {"postgresqlServer", "vault"} | ({"namespace"} if name == "prod" else set())
    assert groups == expected
    endpoint_subnet = next(
        s for s in stack.of("azure-native:network:Subnet") if "endpoints" in s.name
    )
    zone_groups = stack.of("azure-native:network:PrivateDnsZoneGroup")
    links = stack.of("azure-native:privatedns:VirtualNetworkLink")
    for endpoint in endpoints:
        assert endpoint.inputs["subnet"]["id"] == endpoint_subnet.id
        group = next(g for g in zone_groups if g.name == f"{endpoint.name}-dns")
        zone = stack.by_id(group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"])
        assert zone.inputs["privateZoneName"].startswith("privatelink.")
        linked = [k for k in links if k.inputs["privateZoneName"] == zone.inputs["privateZoneName"]]
        assert [k.inputs["virtualNetwork"]["id"] for k in linked] == [vnet.id]


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_no_secret_in_clear_text_in_settings_or_outputs(
    stacks: dict[str, Stack], name: str
) -> None:
    stack = stacks[name]
    secretish = re.compile(r"InstrumentationKey=|AccountKey=|SharedAccessKey=|[Pp]assword")
    for app in stack.of(WEB_APP) + stack.of("azure-native:web:WebAppSlot"):
        settings = _settings(app)
        assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"].startswith("@Microsoft.KeyVault(")
        assert settings["LOGDAWG_DATABASE_AUTH"] == "entra"
        assert not any(secretish.search(v) for v in settings.values()), settings
        assert app.inputs["keyVaultReferenceIdentity"]
    assert not any(secretish.search(str(v)) for v in stack.outputs.values())
    server = stack.one("azure-native:dbforpostgresql:Server").inputs
    assert "administratorLoginPassword" not in server
    assert server["authConfig"] == {
        "activeDirectoryAuth": "Enabled",
        "passwordAuth": "Disabled",
        "tenantId": server["authConfig"]["tenantId"],
    }


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_apps_are_https_tls12_vnet_bound_and_pull_with_their_identity(
    stacks: dict[str, Stack], name: str
) -> None:
    stack = stacks[name]
    apps = stack.of(WEB_APP) + stack.of("azure-native:web:WebAppSlot")
    assert len(apps) == (3 if name == "prod" else 2)
    subnet = next(s for s in stack.of("azure-native:network:Subnet") if s.name.endswith("-app"))
    assert subnet.inputs["delegations"][0]["serviceName"] == "Microsoft.Web/serverFarms"
    for app in apps:
        config = app.inputs["siteConfig"]
        assert app.inputs["httpsOnly"] is True
        assert config["minTlsVersion"] == "1.2" and config["scmMinTlsVersion"] == "1.2"
        assert config["ftpsState"] == "Disabled"
        assert config["http20Enabled"] is True and config["alwaysOn"] is True
        assert config["healthCheckPath"] in ("/readyz", "/healthz")
        assert config["vnetRouteAllEnabled"] is True
        assert app.inputs["outboundVnetRouting"]["allTraffic"] is True
        assert app.inputs["virtualNetworkSubnetId"] == subnet.id
        assert config["acrUseManagedIdentityCreds"] is True
        assert config["acrUserManagedIdentityID"].startswith("client-id-")
        assert app.inputs["identity"]["type"] == "UserAssigned"
        assert config["linuxFxVersion"].startswith("DOCKER|")
    for kind in ("WebAppFtpAllowed", "WebAppScmAllowed"):
        switches = stack.of(f"azure-native:web:{kind}")
        assert len(switches) == 2 and all(s.inputs["allow"] is False for s in switches)
    registry = stack.one("azure-native:containerregistry:Registry").inputs
    assert registry["adminUserEnabled"] is False and registry["anonymousPullEnabled"] is False
    worker = next(a for a in stack.of(WEB_APP) if a.name.endswith("-worker"))
    assert _settings(worker)["LOGDAWG_WORKER_HEALTH_PORT"] == _settings(worker)["WEBSITES_PORT"]
    assert _settings(worker)["LOGDAWG_MIGRATE_ON_START"] == "false"


def test_skus_and_redundancy_per_environment(stacks: dict[str, Stack]) -> None:
    for name in ("dev", "pr-123"):
        stack = stacks[name]
        server = stack.one("azure-native:dbforpostgresql:Server").inputs
        assert server["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
        assert server["backup"]["backupRetentionDays"] == 7
        assert server["highAvailability"]["mode"] == "Disabled"
        assert stack.one("azure-native:servicebus:Namespace").inputs["sku"]["name"] == "Standard"
        assert stack.one("azure-native:web:StaticSite").inputs["sku"]["name"] == "Free"
        assert {p.inputs["sku"]["name"] for p in stack.of("azure-native:web:AppServicePlan")} == {
            "B1"
        }
        assert (
            "enablePurgeProtection"
            not in stack.one("azure-native:keyvault:Vault").inputs["properties"]
        )
    prod = stacks["prod"]
    server = prod.one("azure-native:dbforpostgresql:Server").inputs
    assert server["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert server["highAvailability"]["mode"] == "ZoneRedundant"
    assert server["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}
    assert prod.one("azure-native:servicebus:Namespace").inputs["sku"] == {
        "name": "Premium",
        "tier": "Premium",
        "capacity": 1,
    }
    assert prod.one("azure-native:web:StaticSite").inputs["sku"]["name"] == "Standard"
    assert prod.one("azure-native:keyvault:Vault").inputs["properties"]["enablePurgeProtection"]
    plans = prod.of("azure-native:web:AppServicePlan")
    assert len(plans) == 2 and all(p.inputs["sku"]["tier"] == "PremiumV3" for p in plans)


def test_prod_has_a_staging_slot_and_worker_autoscale(
    stacks: dict[str, Stack],
) -> None:
    prod = stacks["prod"]
    slot = prod.one("azure-native:web:WebAppSlot").inputs
    assert slot["slot"] == "staging"
    autoscale = prod.one("azure-native:monitor:AutoscaleSetting").inputs
    worker_plan = next(p for p in prod.of("azure-native:web:AppServicePlan") if "worker" in p.name)
    assert autoscale["targetResourceUri"] == worker_plan.id
    trigger = autoscale["profiles"][0]["rules"][0]["metricTrigger"]
    assert trigger["metricName"] == "ActiveMessages"
    assert trigger["dimensions"][0]["values"] == ["diagnosis-jobs"]
    namespace = prod.one("azure-native:servicebus:Namespace")
    assert trigger["metricResourceUri"] == namespace.id


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_api_allows_the_spa_origin_of_its_own_stack_only(
    stacks: dict[str, Stack], name: str
) -> None:
    """The SPA (Static Web Apps, another origin than the API's) calls the API by its URL in
    every environment: the API's CORS setting is the site's https origin, exactly as a
    browser sends it in ``Origin``, and the app itself accepts it at start-up."""
    stack = stacks[name]
    apis = [a for a in stack.of(WEB_APP) if a.name.endswith("-api")]
    apis += stack.of("azure-native:web:WebAppSlot")
    assert len(apis) == (2 if name == "prod" else 1)
    for api in apis:
        origins = _settings(api)["LOGDAWG_CORS_ORIGINS"]
        # The mocks answer a site's default hostname as Azure shapes it.
        assert origins == "https://spa-swa.azurestaticapps.net"
        assert Settings(cors_origins=origins).cors_origins == [origins]
    assert stack.outputs["spa_url"] == "https://spa-swa.azurestaticapps.net"
    assert not stack.of("azure-native:web:StaticSiteLinkedBackend")


def test_a_custom_domain_of_the_spa_is_declared_and_allowed_too() -> None:
    config = stack_config("dev") | {"logdawg-cloud:spaCustomDomain": "app.example.org"}
    dev = run_stack("dev", config)
    domain = dev.one("azure-native:web:StaticSiteCustomDomain").inputs
    assert domain["domainName"] == "app.example.org"
    assert domain["validationMethod"] == "cname-delegation"
    api = next(a for a in dev.of(WEB_APP) if a.name.endswith("-api"))
    assert _settings(api)["LOGDAWG_CORS_ORIGINS"] == (
        "https://spa-swa.azurestaticapps.net,https://app.example.org"
    )


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_queue_has_the_peek_lock_settings_the_worker_relies_on(
    stacks: dict[str, Stack], name: str
) -> None:
    stack = stacks[name]
    queue = stack.one("azure-native:servicebus:Queue").inputs
    assert queue["queueName"] == "diagnosis-jobs"
    assert queue["lockDuration"] == "PT5M"
    assert queue["maxDeliveryCount"] == 5
    assert queue["deadLetteringOnMessageExpiration"] is True
    assert queue["requiresDuplicateDetection"] is True
    namespace = stack.one("azure-native:servicebus:Namespace").inputs
    assert namespace["disableLocalAuth"] is True and namespace["minimumTlsVersion"] == "1.2"


def test_dev_and_prod_declare_the_same_kinds_of_resources_but_the_intended(
    stacks: dict[str, Stack],
) -> None:
    prod_only = stacks["prod"].types - stacks["dev"].types
    assert prod_only == {
        "azure-native:web:WebAppSlot",
        "azure-native:monitor:AutoscaleSetting",
    }
    assert stacks["dev"].types - stacks["prod"].types == set()
    assert stacks["pr-123"].types - stacks["dev"].types == {
        "random:index/randomString:RandomString"
    }


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_outputs_are_named_like_the_apps_settings(stacks: dict[str, Stack], name: str) -> None:
    outputs = stacks[name].outputs
    assert outputs["api_url"].startswith("https://")
    assert outputs["spa_url"].startswith("https://")
    assert outputs["keyvault_uri"].startswith("https://") and outputs["keyvault_uri"].endswith(
        ".vault.azure.net/"
    )
    assert outputs["servicebus_namespace"].endswith(".servicebus.windows.net")
    assert outputs["database_host"].endswith(".postgres.database.azure.com")
    assert outputs["registry_login_server"].endswith(".azurecr.io")
    assert outputs["api_identity_client_id"] and outputs["worker_identity_client_id"]


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_policy_pack_passes_every_declared_resource(
    stacks: dict[str, Stack], name: str
) -> None:
    for resource in stacks[name].resources:
        assert violations(resource.type, resource.inputs) == [], resource.name


def test_bad_configuration_stops_before_anything_is_declared() -> None:
    with pytest.raises(ValueError, match="stack 'staging' is not an environment"):
        run_stack("staging", stack_config("dev"))
    broken = {**stack_config("dev"), "logdawg-cloud:namePrefix": "Log Dawg!"}
    with pytest.raises(ValueError, match="name_prefix"):
        run_stack("dev", broken)
    missing = {k: v for k, v in stack_config("dev").items() if not k.endswith(":owner")}
    with pytest.raises(Exception, match="owner"):
        run_stack("dev", missing)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_committed_yaml_needs_the_one_time_setup_and_says_how(name: str) -> None:
    as_committed = stack_config(name, setup=False)
    assert not any(v == "00000000-0000-0000-0000-000000000000" for v in as_committed.values())
    with pytest.raises(ValueError, match=r"pulumi config set postgresAdminObjectId <value>"):
        run_stack(name, as_committed)
    placeholder = stack_config(name) | {
        "logdawg-cloud:postgresAdminObjectId": "00000000-0000-0000-0000-000000000000"
    }
    with pytest.raises(ValueError, match="all-zero placeholder"):
        run_stack(name, placeholder)
    no_client = {k: v for k, v in stack_config(name).items() if not k.endswith(":authClientId")}
    with pytest.raises(ValueError, match="authClientId"):
        run_stack(name, no_client)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_app_accepts_the_settings_the_stack_gives_it(
    stacks: dict[str, Stack], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import Settings

    apis = 0
    for app in stacks[name].of(WEB_APP):
        with monkeypatch.context() as env:
            for key in [k for k in os.environ if k.startswith("LOGDAWG_")]:
                env.delenv(key)
            for key, value in _settings(app).items():
                if key.startswith("LOGDAWG_"):
                    env.setenv(key, value)
            settings = Settings()
        assert settings.queue_backend == "servicebus"
        assert settings.servicebus_namespace == stacks[name].outputs["servicebus_namespace"]
        assert settings.secret_backend == "keyvault"
        assert settings.database_auth == "entra"
        assert settings.database_host == stacks[name].outputs["database_host"]
        assert settings.mode == "multi_tenant"
        assert not settings.uses_embedded_database
        apis += _settings(app)["LOGDAWG_ROLE"] == "api"
        if _settings(app)["LOGDAWG_ROLE"] == "api":
            # The API signs people in with Entra ID and hashes API keys with a vault secret.
            settings.check_api()
            assert settings.auth_provider == "entra"
            assert settings.auth_client_id == stack_config(name)["logdawg-cloud:authClientId"]
            assert settings.api_key_secret is not None
            assert settings.api_key_secret.get_secret_value().startswith("@Microsoft.KeyVault(")
    assert apis == 1
