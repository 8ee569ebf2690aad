"""The Helm chart, rendered by Helm's own Go engine (helm-python-sdk binds Helm v4's SDK, so `helm lint`,
`values.schema.json` and the templates behave as with the `helm` binary), every manifest validated against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict) and the ServiceMonitor against the Prometheus Operator
CRD schema (@kubernetes-models/prometheus-operator)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._tools import CHART, K8S_MODELS, KUBERNETES_VERSIONS, missing, run

SECRETS = {
    "databaseUrl": "postgresql+asyncpg://sagemcp:pw@postgres.db.svc:5432/sagemcp",
    "secretKeys": "dGhpcyBpcyBhIHRlc3Qga2V5IG9mIDMyIGJ5dGVzISE=",
    "adminKey": "test-admin-key-0123456789",
}
BASE: dict[str, Any] = {"secrets": SECRETS, "config": {"publicUrl": "https://mcp.example.com"}}
EVERYTHING: dict[str, Any] = {
    **BASE,
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "hosts": [{"host": "mcp.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"hosts": ["mcp.example.com"], "secretName": "mcp-tls"}],
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12, "targetMemoryUtilizationPercentage": 80},
    "migrations": {"ttlSecondsAfterFinished": 3600},
    "redis": {"enabled": True, "url": "redis://:pw@redis.cache.svc:6379/0", "keyPrefix": "prod:"},
    "extraEnv": [{"name": "SAGEMCP_AUDIT_FLUSH_INTERVAL", "value": "1"}],
    "imagePullSecrets": [{"name": "registry"}],
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "sagemcp"}},
        }
    ],
}
EXTERNAL: dict[str, Any] = {
    "secrets": {"existingSecret": "sagemcp-credentials"},
    "image": {"repository": "registry.example.com/sagemcp", "digest": "sha256:" + "ab" * 32},
    "podDisruptionBudget": {"minAvailable": "50%"},
    "podAntiAffinity": "hard",
    "config": {"databaseSchema": "mcp", "allowedHosts": ["mcp.example.com"], "cacheTtl": 2.5},
}
SCENARIOS = {"defaults": BASE, "everything": EVERYTHING, "existing-secret": EXTERNAL}


@pytest.fixture(scope="module")
def helm() -> Any:
    try:
        import helm_python
    except ImportError:
        missing("helm-python-sdk", "pip install helm-python-sdk")
    return helm_python


@pytest.fixture(scope="module")
def chart(helm: Any) -> Iterator[Any]:
    with helm.Chart.load(str(CHART)) as loaded:
        yield loaded


def render(chart: Any, values: dict[str, Any], *, revision: int = 1) -> list[dict[str, Any]]:
    """The manifests `helm install prod --namespace mcp` would apply (with `helm test`'s pod)."""
    out = chart.render(copy.deepcopy(values), name="prod", namespace="mcp", revision=revision, is_install=True)
    docs = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} manifests"
    return found[0]


def container(docs: list[dict[str, Any]], kind: str = "Deployment") -> dict[str, Any]:
    return one(docs, kind)["spec"]["template"]["spec"]["containers"][0]


def test_helm_lint_is_clean(helm: Any) -> None:
    report = helm.lint(str(CHART), copy.deepcopy(BASE), strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({}, "/secrets/databaseUrl"),
        ({**BASE, "secrets": {**SECRETS, "adminKey": "short"}}, "/secrets/adminKey"),
        ({**BASE, "replicaCount": "3"}, "/replicaCount"),
        ({**BASE, "config": {"logLevel": "verbose"}}, "/config/logLevel"),
        ({**BASE, "config": {"publicUrl": "mcp.example.com"}}, "/config/publicUrl"),
        ({**BASE, "config": {"databaseSchema": "Bad-Name"}}, "/config/databaseSchema"),
        ({**BASE, "secrets": {**SECRETS, "databaseUrl": "mysql://x"}}, "/secrets/databaseUrl"),
        ({**BASE, "image": {"repository": "x", "digest": "latest"}}, "/image/digest"),
        ({**BASE, "podAntiAffinity": "sometimes"}, "/podAntiAffinity"),
        ({**BASE, "serviceMonitor": {"interval": "often"}}, "/serviceMonitor/interval"),
        ({**BASE, "replicas": 3}, "'replicas' not allowed"),
    ],
)
def test_the_values_schema_refuses_bad_values_naming_them(
    chart: Any, helm: Any, values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        chart.validate_schema(copy.deepcopy(values))
    assert complaint in str(caught.value)
    with pytest.raises(helm.HelmValuesError):
        render(chart, values)


@pytest.mark.parametrize("values", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_values_schema_accepts_what_the_docs_show(chart: Any, values: dict[str, Any]) -> None:
    chart.validate_schema(copy.deepcopy(values))


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_manifest_is_valid_for_kubernetes(chart: Any, values: dict[str, Any], version: str) -> None:
    try:
        import kubernetes_validate
    except ImportError:
        missing("kubernetes-validate", "pip install kubernetes-validate")
    docs = render(chart, values)
    crds = [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
    for doc in docs:
        if doc in crds:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']} is not valid for Kubernetes {version}: {exc}")
    if crds:
        assert validate_crds(crds) == [None] * len(crds)


def validate_crds(docs: list[dict[str, Any]]) -> list[str | None]:
    modules = Path(os.environ.get("SAGEMCP_K8S_MODELS", K8S_MODELS)) / "node_modules"
    node = shutil.which("node")
    if node is None or not (modules / "@kubernetes-models" / "prometheus-operator").is_dir():
        missing(
            "@kubernetes-models/prometheus-operator",
            f"npm install --prefix {K8S_MODELS} @kubernetes-models/prometheus-operator@6.0.0 (needs Node.js)",
        )
    assert node is not None
    script = Path(__file__).with_name("validate_crds.mjs")
    result = run(node, str(script), str(modules), env={"PATH": os.environ["PATH"]}, input_text=json.dumps(docs))
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_the_crd_check_is_live(chart: Any) -> None:
    monitor = one(render(chart, EVERYTHING), "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["interval"] = "every minute"
    [problem] = validate_crds([monitor])
    assert problem is not None and "interval" in problem


def test_the_replicas_run_the_image_locked_down_with_probes_and_a_drain(chart: Any) -> None:
    docs = render(chart, BASE)
    deployment = one(docs, "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pod = spec["template"]["spec"]
    server = pod["containers"][0]
    assert server["image"] == "ghcr.io/sagemcp/sagemcp:0.1.0"
    assert server["args"] == ["serve", "--no-migrate"]
    assert server["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert server["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert server["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert server["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    assert server["securityContext"]["allowPrivilegeEscalation"] is False
    assert server["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["automountServiceAccountToken"] is False
    assert {m["mountPath"] for m in server["volumeMounts"]} == {"/tmp", "/data"}
    # SIGTERM comes after the endpoints dropped the pod, and the grace period covers the drain deadline.
    assert server["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    shutdown = float(one(docs, "ConfigMap")["data"]["SAGEMCP_SHUTDOWN_TIMEOUT"])
    assert pod["terminationGracePeriodSeconds"] > 5 + shutdown
    anti = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["podAffinityTerm"]["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]


def test_secrets_reach_the_replicas_through_the_secret(chart: Any) -> None:
    docs = render(chart, BASE)
    secret = one(docs, "Secret")
    import base64

    stored = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert stored == {
        "database-url": SECRETS["databaseUrl"],
        "secret-keys": SECRETS["secretKeys"],
        "admin-key": SECRETS["adminKey"],
    }
    for kind in ("Deployment", "Job"):
        env = {e["name"]: e for e in container(docs, kind)["env"]}
        for name, key in (("SAGEMCP_DATABASE_URL", "database-url"), ("SAGEMCP_SECRET_KEYS", "secret-keys")):
            assert env[name]["valueFrom"]["secretKeyRef"] == {"name": secret["metadata"]["name"], "key": key}
        assert env["SAGEMCP_ADMIN_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "admin-key"
    for doc in docs:
        if doc["kind"] != "Secret":
            text = yaml.safe_dump(doc)
            assert not any(value in text for value in SECRETS.values()), f"a secret in the {doc['kind']}"


def test_redis_is_off_by_default_and_reaches_the_replicas_through_the_secret(chart: Any) -> None:
    import base64

    plain = container(render(chart, BASE))
    assert not {"SAGEMCP_REDIS_URL", "SAGEMCP_REPLICA_URL"} & {e["name"] for e in plain["env"]}
    docs = render(chart, EVERYTHING)
    secret = one(docs, "Secret")
    assert base64.b64decode(secret["data"]["redis-url"]).decode() == EVERYTHING["redis"]["url"]
    env = {e["name"]: e for e in container(docs)["env"]}
    assert env["SAGEMCP_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": secret["metadata"]["name"],
        "key": "redis-url",
    }
    # Other replicas forward a session's requests to the pod that holds it, at the pod's own address.
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["SAGEMCP_REPLICA_URL"]["value"] == "http://$(POD_IP):8000"
    names = [e["name"] for e in container(docs)["env"]]
    assert names.index("POD_IP") < names.index("SAGEMCP_REPLICA_URL")  # $(POD_IP) expands only if defined before
    assert one(docs, "ConfigMap")["data"]["SAGEMCP_REDIS_KEY_PREFIX"] == "prod:"
    assert "redis.cache.svc" not in yaml.safe_dump(one(docs, "Deployment"))
    with pytest.raises(Exception, match="redis"):
        render(chart, {**BASE, "redis": {"enabled": True, "url": "http://not-redis"}})
    with pytest.raises(Exception, match=r"redis\.url"):
        render(chart, {**BASE, "redis": {"enabled": True}})


def test_an_existing_secret_is_used_and_none_is_created(chart: Any) -> None:
    docs = render(chart, EXTERNAL)
    assert not [d for d in docs if d["kind"] == "Secret"]
    env = {e["name"]: e for e in container(docs)["env"]}
    assert env["SAGEMCP_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "sagemcp-credentials"
    assert container(docs)["image"] == "registry.example.com/sagemcp@sha256:" + "ab" * 32
    assert one(docs, "PodDisruptionBudget")["spec"] == {
        "minAvailable": "50%",
        "selector": one(docs, "Deployment")["spec"]["selector"],
    }
    affinity = one(docs, "Deployment")["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in affinity


@pytest.mark.parametrize("values", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_configmap_holds_settings_the_server_reads(
    chart: Any, values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagemcp_server.settings import Settings

    docs = render(chart, values)
    data = one(docs, "ConfigMap")["data"]
    fields = {f"SAGEMCP_{n.upper()}" for n in Settings.model_fields}
    assert set(data) <= fields, set(data) - fields
    for name in [n for n in os.environ if n.startswith("SAGEMCP_")]:
        monkeypatch.delenv(name)
    for name, value in data.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.host == "0.0.0.0" and settings.port == 8000
    config = values.get("config", {})
    assert settings.public_url == config.get("publicUrl")
    assert settings.cache_ttl == config.get("cacheTtl", 5)
    assert settings.database_schema == (config.get("databaseSchema") or None)
    assert settings.allowed_hosts == (config.get("allowedHosts") or None)
    assert settings.mcp_stateful is False and settings.log_format == "json"
    container_ports = {p["name"]: p["containerPort"] for p in container(docs)["ports"]}
    assert container_ports == {"http": settings.port}


def test_one_migration_job_per_release_revision(chart: Any) -> None:
    first = one(render(chart, BASE, revision=1), "Job")
    second = one(render(chart, BASE, revision=2), "Job")
    assert first["metadata"]["name"] == "prod-sagemcp-migrate-1"
    assert second["metadata"]["name"] == "prod-sagemcp-migrate-2"
    pod = first["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0]["args"] == ["db", "upgrade"]
    assert pod["containers"][0]["image"] == container(render(chart, BASE))["image"]
    assert "ttlSecondsAfterFinished" not in first["spec"]
    assert one(render(chart, EVERYTHING), "Job")["spec"]["ttlSecondsAfterFinished"] == 3600
    # Without the Job the replicas migrate at start (SQL advisory lock: one after the other).
    docs = render(chart, {**BASE, "migrations": {"enabled": False}})
    assert not [d for d in docs if d["kind"] == "Job"]
    assert container(docs)["args"] == ["serve"]


def test_autoscaling_owns_the_replica_count(chart: Any) -> None:
    docs = render(chart, EVERYTHING)
    assert "replicas" not in one(docs, "Deployment")["spec"]
    hpa = one(docs, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "prod-sagemcp"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu", "memory"]
    assert not [d for d in render(chart, BASE) if d["kind"] == "HorizontalPodAutoscaler"]


def test_service_ingress_and_monitor_reach_the_replicas(chart: Any) -> None:
    docs = render(chart, EVERYTHING)
    service = one(docs, "Service")
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    rule = one(docs, "Ingress")["spec"]["rules"][0]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
    monitor = one(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == "http" and monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    test_pod = [d for d in docs if d["kind"] == "Pod"]
    assert len(test_pod) == 1 and test_pod[0]["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert "/readyz" in " ".join(test_pod[0]["spec"]["containers"][0]["command"])


def test_a_changed_setting_or_secret_rolls_the_replicas(chart: Any) -> None:
    def checksums(values: dict[str, Any]) -> dict[str, str]:
        meta = one(render(chart, values), "Deployment")["spec"]["template"]["metadata"]["annotations"]
        return {k: v for k, v in meta.items() if k.startswith("checksum/")}

    base = checksums(BASE)
    assert checksums(BASE) == base
    changed_config = checksums({**BASE, "config": {**BASE["config"], "logLevel": "debug"}})
    assert changed_config["checksum/config"] != base["checksum/config"]
    assert changed_config["checksum/secret"] == base["checksum/secret"]
    rotated = checksums({**BASE, "secrets": {**SECRETS, "secretKeys": "bmV3,b2xk"}})
    assert rotated["checksum/secret"] != base["checksum/secret"]


def _leaves(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _documented(page: str) -> set[str]:
    """The keys named in the first column of the values table (`a.b`, `.c` meaning `a.c`)."""
    table = page[page.index("### Values") : page.index("## Scaling")]
    keys: set[str] = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        parent = ""
        for name in re.findall(r"`([^`]+)`", line.split("|")[1]):
            if name.startswith("."):
                name = parent + name
            else:
                parent = name.rpartition(".")[0]
            keys.add(name)
    return keys


def test_every_value_is_in_the_documented_reference() -> None:
    """docs/deployment.md's values table names each value of values.yaml (or a parent of it)."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = _documented((CHART.parents[2] / "docs" / "deployment.md").read_text())
    undocumented = []
    for leaf in _leaves(values):
        parts = leaf.split(".")
        if not any(".".join(parts[:n]) in documented for n in range(1, len(parts) + 1)):
            undocumented.append(leaf)
    assert undocumented == []
    unknown = {k for k in documented if not any(leaf == k or leaf.startswith(k + ".") for leaf in _leaves(values))}
    assert unknown == set(), "documented but not in values.yaml"
