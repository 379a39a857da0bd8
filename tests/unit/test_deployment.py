"""The deployment files run the same processes as ``make run`` and are valid: Kubernetes manifests
against the Kubernetes schemas (kubernetes-validate ships them: no network), compose by reading."""

import copy
import re

import kubernetes_validate
import pytest
import yaml

from cli import k8s
from cli.run import PROCESSES
from common.config import ROOT, SERVICES

K8S_VERSION = "1.30.0"


def _manifests() -> list[dict]:
    return list(yaml.safe_load_all(k8s.DOCUMENT.read_text(encoding="utf-8")))


def test_manifests_are_generated_from_the_services():
    assert k8s.main(["--check"]) == 0, "run python -m cli.k8s"


@pytest.mark.parametrize("doc", _manifests(), ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_each_manifest_is_valid_against_the_kubernetes_schema(doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_does_catch_a_broken_manifest():
    broken = copy.deepcopy(next(d for d in _manifests() if d["kind"] == "Deployment"))
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_a_deployment_per_process_with_probes_secrets_and_a_migration_job():
    docs = _manifests()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(f"baodao-{p}" for p in PROCESSES)
    for name, doc in deployments.items():
        container = doc["spec"]["template"]["spec"]["containers"][0]
        process = name.removeprefix("baodao-")
        assert container["command"] == ["python", "-m", "cli.serve", process]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"
        secret_keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]
                       if "secretKeyRef" in e.get("valueFrom", {})}
        assert {"TOKEN_SECRET", "ID_HASH_KEY", f"{process.upper()}_AMQP_URI"} <= secret_keys
        if process != "gateway":
            assert f"{process.upper()}_DATABASE_URL" in secret_keys
    assert deployments["baodao-gateway"]["spec"]["replicas"] >= 2
    job = next(d for d in docs if d["kind"] == "Job")
    command = " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])
    assert "cli.main migrate" in command and "seed-demo" not in command
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are the operator's, never in the repository"


def _compose(name="docker-compose.yml") -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_compose_runs_the_same_processes_as_make_run():
    services = _compose()["services"]
    served = sorted(s["command"][-1] for s in services.values()
                    if s.get("command", [])[:3] == ["python", "-m", "cli.serve"])
    assert served == sorted(PROCESSES) == sorted((*SERVICES, "gateway"))
    # every service's database is created by the PostgreSQL init script
    init = (ROOT / "docker" / "postgres-init.sql").read_text(encoding="utf-8")
    assert all(f"CREATE DATABASE {name};" in init for name in SERVICES)


def test_compose_production_profile_requires_secrets_and_loads_no_demo():
    base, production = _compose()["services"], _compose("docker-compose.production.yml")["services"]
    assert set(PROCESSES) <= set(production) <= set(base)
    for name, override in production.items():
        env = {**base[name].get("environment", {}), **override.get("environment", {})}
        secrets = {k: v for k, v in env.items() if re.search(r"SECRET|KEY|PASSWORD", k)}
        assert {"TOKEN_SECRET", "ID_HASH_KEY"} <= set(secrets), name
        for key, value in secrets.items():
            assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", str(value)), f"{name}: {key} has a default or no check"
        if name in PROCESSES:
            assert "9300/health" in " ".join(override["healthcheck"]["test"])
    assert "seed-demo" not in " ".join(production["migrate"]["command"])
    assert "seed-demo" in " ".join(base["migrate"]["command"])  # the plain file is the demo
