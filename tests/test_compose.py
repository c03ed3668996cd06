"""docker-compose.yml, deploy/nginx.conf and the Dockerfile describe the replica deployment (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_VARIABLES = [
    "WECOM_CORP_ID",
    "WECOM_AGENT_ID",
    "WECOM_SECRET",
    "WECOM_TOKEN",
    "WECOM_AES_KEY",
    "WECOM_API_BASE",
    "DATABASE_URL",
    "REDIS_URL",
    "SALESBOT_CONFIG",
]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_has_app_postgres_redis_and_nginx_with_healthchecks() -> None:
    services = _compose()["services"]
    assert {"app", "postgres", "redis", "nginx"} <= set(services)
    for name in ("app", "postgres", "redis", "nginx"):
        assert "test" in services[name].get("healthcheck", {}), name


def test_the_database_keeps_its_data_in_a_named_volume() -> None:
    compose = _compose()
    mounts = compose["services"]["postgres"].get("volumes", [])
    named = [m.split(":", 1)[0] for m in mounts if isinstance(m, str) and ":/var/lib/postgresql/data" in m]
    assert named and named[0] in (compose.get("volumes") or {})


def test_app_environment_names_every_variable_of_the_product_spec() -> None:
    app = _compose()["services"]["app"]
    env = _environment(app)
    missing = [name for name in PRODUCT_VARIABLES if name not in env]
    assert missing == []
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")


def test_app_waits_for_healthy_postgres_and_redis_and_can_be_scaled() -> None:
    app = _compose()["services"]["app"]
    depends = app.get("depends_on", {})
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert (
        "container_name" not in app and "ports" not in app
    )  # replicas must not fight over a name or host port
    assert int(app.get("deploy", {}).get("replicas", 1)) >= 2


def test_nginx_proxies_to_the_app_and_limits_the_body() -> None:
    nginx = _compose()["services"]["nginx"]
    assert any("nginx.conf" in str(v) for v in nginx.get("volumes", []))
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    assert upstream and re.search(r"server\s+app:8000", upstream.group(2))
    assert re.search(rf"proxy_pass\s+http://{upstream.group(1)}\s*;", conf)
    assert re.search(r"client_max_body_size\s+256k", conf)


def test_dockerfile_installs_cjk_fonts_and_runs_salesbot_serve() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "fonts-noto-cjk" in dockerfile
    assert re.search(r'CMD \[.*"salesbot", "serve"', dockerfile)


def test_workers_are_a_tier_of_their_own_and_the_web_replicas_only_acknowledge() -> None:
    services = _compose()["services"]
    worker, app = services["worker"], services["app"]
    assert worker["command"][:2] == ["salesbot", "worker"]
    assert "--no-worker" in app["command"] and app["command"][:2] == ["salesbot", "serve"]
    assert int(worker.get("deploy", {}).get("replicas", 1)) >= 2  # its own replica count
    assert "ports" not in worker and "container_name" not in worker
    env = _environment(worker)
    assert [name for name in PRODUCT_VARIABLES if name not in env] == []
    assert env["DATABASE_URL"] == _environment(app)["DATABASE_URL"]  # one PostgreSQL is the queue
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "salesbot-worker.alive" in " ".join(worker["healthcheck"]["test"])
    assert "--heartbeat" in worker["command"] and "/tmp/salesbot-worker.alive" in worker["command"]
    assert any(
        ":/data/media" in str(v) for v in worker.get("volumes", [])
    )  # visit photos are saved by workers
