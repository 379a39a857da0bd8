"""Kubernetes manifests for the same processes ``make run`` starts, generated from ``common.config.SERVICES``.

    python -m cli.k8s                 # write deploy/kubernetes/baodao.yaml
    python -m cli.k8s --check         # exit 1 if the committed file is out of date (a test runs this)

What it makes: a ConfigMap of the non-secret settings; per process a Deployment (replicas,
readiness on the process's own ``/health`` — its database or broker answers —, liveness on its
``/metrics``, Prometheus scrape annotations) and, for the gateway, a Service; the migrations as a
Job run before the Deployments. Secrets are not in the file: every Deployment reads the Secret
``baodao-secrets`` (created by the operator, see docs/operations.md) and will not start without it.
"""

import sys

import yaml

from common import config
from common.generated import write_or_check

DOCUMENT = config.ROOT / "deploy" / "kubernetes" / "baodao.yaml"
IMAGE = "baodao:latest"
METRICS_PORT = 9300
GATEWAY_PORT = 8000
SECRET = "baodao-secrets"
# how many of each to run by default; raise with `kubectl scale deployment/baodao-dispatch --replicas=3`
REPLICAS = {"gateway": 2, "dispatch": 2}
SHARED_SECRETS = ("TOKEN_SECRET", "ACTOR_KEY", "ID_HASH_KEY")
RESOURCES = {"requests": {"cpu": "100m", "memory": "160Mi"}, "limits": {"memory": "256Mi"}}


def _secret(key: str, as_name: str | None = None) -> dict:
    return {"name": as_name or key, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key}}}


def _labels(process: str) -> dict:
    return {"app.kubernetes.io/name": "baodao", "app.kubernetes.io/component": process}


def _env(process: str) -> list[dict]:
    env = [_secret(k) for k in SHARED_SECRETS]
    env.append(_secret(f"{process.upper()}_AMQP_URI", as_name="AMQP_URI"))  # one broker account per process
    if process != "gateway":  # one database per service; the URL carries its password
        env.append(_secret(f"{process.upper()}_DATABASE_URL", as_name="DATABASE_URL"))
    env.append({"name": "BAODAO_INSTANCE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
    return env


def _container(process: str, command: list[str]) -> dict:
    container = {
        "name": process,
        "image": IMAGE,
        "command": command,
        "envFrom": [{"configMapRef": {"name": "baodao-config"}}],
        "env": _env(process),
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
        "readinessProbe": {"httpGet": {"path": "/health", "port": "metrics"}, "periodSeconds": 10,
                           "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/metrics", "port": "metrics"}, "initialDelaySeconds": 20,
                          "periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 3},
        "resources": RESOURCES,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True},
    }
    if process == "gateway":
        container["ports"].insert(0, {"name": "http", "containerPort": GATEWAY_PORT})
    return container


def deployment(process: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"baodao-{process}", "labels": _labels(process)},
        "spec": {
            "replicas": REPLICAS.get(process, 1),
            "selector": {"matchLabels": _labels(process)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": _labels(process),
                             "annotations": {"prometheus.io/scrape": "true",
                                             "prometheus.io/port": str(METRICS_PORT),
                                             "prometheus.io/path": "/metrics"}},
                "spec": {
                    # SIGTERM, then nameko's graceful stop (workers finish, messages acked after commit)
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_container(process, ["python", "-m", "cli.serve", process])],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def _with_tmp(doc: dict) -> dict:
    for container in doc["spec"]["template"]["spec"]["containers"]:
        container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    return doc


def migrate_job() -> dict:
    env = [_secret(k) for k in SHARED_SECRETS]
    env.append(_secret("ADMIN_AMQP_URI", as_name="AMQP_URI"))
    env += [_secret(f"{s.upper()}_DATABASE_URL") for s in config.SERVICES]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "baodao-migrate", "labels": _labels("migrate")},
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": _labels("migrate")},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [{
                        "name": "migrate",
                        "image": IMAGE,
                        # no demo data in production; queues declared before any process publishes
                        "command": ["sh", "-c", "python -m cli.main migrate && python -m cli.main declare-queues"],
                        "envFrom": [{"configMapRef": {"name": "baodao-config"}}],
                        "env": env,
                        "resources": RESOURCES,
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                            "allowPrivilegeEscalation": False},
                    }],
                },
            },
        },
    }


def documents() -> list[dict]:
    docs = [{
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "baodao-config", "labels": {"app.kubernetes.io/name": "baodao"}},
        "data": {"GATEWAY_HOST": "0.0.0.0", "GATEWAY_PORT": str(GATEWAY_PORT), "METRICS_PORT": str(METRICS_PORT),
                 "METRICS_HOST": "0.0.0.0", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
                 "BAODAO_DATA_DIR": "/tmp/baodao"},
    }, migrate_job()]
    for process in (*config.SERVICES, "gateway"):
        docs.append(_with_tmp(deployment(process)))
    docs.append({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "baodao-gateway", "labels": _labels("gateway")},
        "spec": {"selector": _labels("gateway"),
                 "ports": [{"name": "http", "port": GATEWAY_PORT, "targetPort": "http"}]},
    })
    return docs


def render() -> str:
    header = ("# Generated by `python -m cli.k8s` from common.config.SERVICES; do not edit by hand.\n"
              "# Apply: kubectl apply -f deploy/kubernetes/baodao.yaml (after creating the Secret "
              f"{SECRET}: docs/operations.md)\n")
    return header + yaml.safe_dump_all(documents(), sort_keys=False, allow_unicode=True, width=110)


def main(argv=None) -> int:
    return write_or_check(DOCUMENT, render(), "python -m cli.k8s", argv if argv is not None else sys.argv[1:])

if __name__ == "__main__":
    sys.exit(main())
