"""The deployment files agree with the code: every PRESSGATE_ name they set is a setting,
secrets come only from secret stores, probes hit routes the app serves, every service runs
the same image, and the Dockerfile installs the wheel with the scripts the wheel test runs.
Nothing is built or started: the files are parsed (PyYAML, configparser, text)."""

import configparser
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from approvals.config import load_config
from bot.settings import Settings
from bot.web.app import create_app
from tests.deploy import test_wheel
from tests.factories import REPO

DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
FIELDS = {f"PRESSGATE_{name.upper()}": field for name, field in Settings.model_fields.items()}
# Settings that carry a secret: SecretStr fields, and the database URL (its password).
SECRETS = {
    name
    for name, field in FIELDS.items()
    if "SecretStr" in str(field.annotation) or name == "PRESSGATE_DATABASE_URL"
}
IMAGE = "pressgate:0.1.0"


def _routes() -> set[str]:
    app = create_app(Settings(database_url="sqlite://"))
    return {getattr(route, "path", "") for route in app.routes}


def _assert_settings(names: list[str], where: str) -> None:
    unknown = [n for n in names if n.startswith("PRESSGATE_") and n not in FIELDS]
    assert not unknown, f"{where}: not settings of bot/settings.py: {unknown}"


# --- compose -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_compose_runs_migrations_then_web_and_worker_as_separate_services(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert {"db", "migrate", "grants", "web", "worker"} <= set(services)
    assert services["migrate"]["command"] == ["init"]
    assert services["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["web"]["command"] == ["run", "--web-only"]
    assert services["worker"]["command"] == ["run", "--worker-only"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "grants": {"condition": "service_completed_successfully"}
        }
        assert services[name]["image"] == IMAGE
        assert "//pressgate_app:" in services[name]["environment"]["PRESSGATE_DATABASE_URL"]
    grants = services["grants"]
    assert grants["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert grants["volumes"] == ["./postgres-app-role.sql:/grants/postgres-app-role.sql:ro"]
    assert (DEPLOY / "postgres-app-role.sql").is_file()
    owner = services["migrate"]["environment"]["PRESSGATE_DATABASE_URL"]
    assert "//pressgate:" in owner and grants["environment"]["PGUSER"] == "pressgate"
    assert services["migrate"]["image"] == IMAGE
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "pgdata" in compose["volumes"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "/readyz" in _routes()
    grace = float(services["worker"]["environment"]["PRESSGATE_SHUTDOWN_GRACE"])
    assert grace < float(services["worker"]["stop_grace_period"].rstrip("s"))


def test_compose_sets_only_settings_and_takes_secrets_from_the_environment(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        _assert_settings(list(environment), f"compose service {name}")
        for key, value in environment.items():
            if key in SECRETS:
                assert "${" in str(value), f"{name}: {key} written into the file"
        if name not in ("db", "grants"):
            assert service["volumes"][0].endswith(":/etc/pressgate/pressgate.toml:ro")
            assert environment["PRESSGATE_CONFIG"] == "/etc/pressgate/pressgate.toml"


# --- Kubernetes ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def _pods(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    }


def _pressgate_containers(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The containers that run pressgate's image, by workload name."""
    found = {}
    for name, pod in _pods(docs).items():
        for container in pod.get("initContainers", []) + pod["containers"]:
            if container["image"].startswith("pressgate"):
                found[name] = container
    return found


def test_the_manifests_hold_web_replicas_a_worker_a_service_and_a_migration_job(
    manifests: list[dict[str, Any]],
) -> None:
    web = _one(manifests, "Deployment", "pressgate-web")
    worker = _one(manifests, "Deployment", "pressgate-worker")
    job = _one(manifests, "Job", "pressgate-migrate")
    service = _one(manifests, "Service", "pressgate")
    assert web["spec"]["replicas"] > 1
    assert service["spec"]["selector"] == web["spec"]["template"]["metadata"]["labels"]
    containers = _pressgate_containers(manifests)
    assert set(containers) == {"pressgate-web", "pressgate-worker", "pressgate-migrate"}
    assert {c["image"] for c in containers.values()} == {IMAGE}
    assert containers["pressgate-web"]["args"] == ["run", "--web-only"]
    assert containers["pressgate-worker"]["args"] == ["run", "--worker-only"]
    assert containers["pressgate-migrate"]["args"] == ["init"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for pod in _pods(manifests).values():
        assert pod["securityContext"]["runAsNonRoot"] is True
    assert "initContainers" in job["spec"]["template"]["spec"], "migrate, then grant"
    kustomized = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = {p.name for p in KUBERNETES.glob("*.yaml")} - {
        "kustomization.yaml",
        "secret.example.yaml",
    }
    assert set(kustomized["resources"]) == listed
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > float(
        _settings_map(manifests)["PRESSGATE_SHUTDOWN_GRACE"]
    )


def test_probes_hit_routes_the_app_serves_on_the_port_it_listens_on(
    manifests: list[dict[str, Any]],
) -> None:
    web = _pressgate_containers(manifests)["pressgate-web"]
    ports = {p["name"]: p["containerPort"] for p in web["ports"]}
    routes = _routes()
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in (web["readinessProbe"], web["livenessProbe"]):
        assert probe["httpGet"]["path"] in routes
        assert ports[probe["httpGet"]["port"]] == int(_settings_map(manifests)["PRESSGATE_PORT"])


def _settings_map(docs: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = _one(docs, "ConfigMap", "pressgate-settings")["data"]
    return data


def test_env_names_and_secret_references_agree_with_the_settings_class(
    manifests: list[dict[str, Any]],
) -> None:
    plain = _settings_map(manifests)
    _assert_settings(list(plain), "ConfigMap pressgate-settings")
    assert not SECRETS & set(plain), "a secret in a ConfigMap"
    secret = _one(manifests, "Secret", "pressgate-secrets")
    keys = list(secret["stringData"])
    _assert_settings(keys, "Secret pressgate-secrets")
    assert set(keys) <= SECRETS, "a Secret holding what is no secret setting"
    assert {"PRESSGATE_DATABASE_URL", "PRESSGATE_SECRET_KEY", "PRESSGATE_AUDIT_KEY"} <= set(keys)
    refs = [
        {"configMapRef": {"name": "pressgate-settings"}},
        {"secretRef": {"name": "pressgate-secrets"}},
    ]
    owner = _one(manifests, "Secret", "pressgate-owner")["stringData"]
    _assert_settings(list(owner), "Secret pressgate-owner")
    assert [k for k in owner if k.startswith("PRESSGATE_")] == ["PRESSGATE_DATABASE_URL"]
    pods = _pods(manifests)
    for name, container in _pressgate_containers(manifests).items():
        owners = [{"secretRef": {"name": "pressgate-owner"}}] if name.endswith("migrate") else []
        assert container["envFrom"] == refs + owners, name
        assert "env" not in container, f"{name}: settings belong in the ConfigMap or Secret"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["map"] == str(Path(plain["PRESSGATE_CONFIG"]).parent)
        volumes = {v["name"]: v for v in pods[name]["volumes"]}
        assert volumes["map"]["configMap"]["name"] == "pressgate-map"
    [grants] = pods["pressgate-migrate"]["containers"]
    assert grants["envFrom"] == [{"secretRef": {"name": "pressgate-owner"}}]
    sql = _one(manifests, "ConfigMap", "pressgate-grants")["data"]["postgres-app-role.sql"]
    assert sql == (DEPLOY / "postgres-app-role.sql").read_text()


def test_the_configmap_map_loads_and_its_people_can_run_the_office(
    manifests: list[dict[str, Any]], tmp_path: Path
) -> None:
    text = _one(manifests, "ConfigMap", "pressgate-map")["data"]["pressgate.toml"]
    path = tmp_path / "pressgate.toml"
    path.write_text(text)
    config = load_config(path)  # raises with the problems if the map does not hold
    actions = {a for role in config.roles.values() for a in role.actions}
    assert {"draft", "submit", "approve", "manage"} <= {str(a) for a in actions}


# --- Dockerfile ----------------------------------------------------------------------------
def _stages(dockerfile: str) -> list[list[str]]:
    logical = re.sub(r"\\\n\s*", " ", dockerfile)
    stages: list[list[str]] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_dockerfile_installs_the_wheel_by_the_wheel_tests_steps() -> None:
    build, _ = _stages((DEPLOY / "Dockerfile").read_text())
    runs = [line for line in build if line.startswith("RUN ")]
    [install] = runs
    build_wheel = test_wheel.BUILD.relative_to(REPO)
    install_wheel = test_wheel.INSTALL.relative_to(REPO)
    assert f"sh {build_wheel} /src /dist" in install
    assert f"sh {install_wheel} /opt/pressgate /dist" in install
    copied = " ".join(line for line in build if line.startswith("COPY "))
    for needed in ("setup.py", "pyproject.toml", "approvals", "bot", "templates"):
        assert needed in copied
        assert (REPO / needed).exists()
    for path in (test_wheel.BUILD, test_wheel.INSTALL, DEPLOY / "pressgate.example.toml"):
        assert str(path.relative_to(REPO)) in copied


def test_the_final_image_is_slim_non_root_without_build_tools_and_checks_health() -> None:
    build, final = _stages((DEPLOY / "Dockerfile").read_text())
    assert final[0] == "FROM python:3.11-slim" and build[0].startswith("FROM python:3.11-slim")
    text = "\n".join(final)
    assert "COPY --from=build /opt/pressgate /opt/pressgate" in text
    assert not re.search(r"apt-get|apk |gcc|build-essential|pip install", text)
    [user] = [line for line in final if line.startswith("USER ")]
    assert not user.split()[1].startswith(("0", "root"))
    [health] = [line for line in final if line.startswith("HEALTHCHECK ")]
    assert "/healthz" in health and "/healthz" in _routes()
    env = " ".join(line for line in final if line.startswith("ENV "))
    _assert_settings(re.findall(r"(PRESSGATE_[A-Z_]+)=", env), "Dockerfile ENV")
    assert 'ENTRYPOINT ["pressgate"]' in text


# --- systemd -------------------------------------------------------------------------------
def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def test_the_systemd_units_run_pressgate_as_its_own_user_with_a_grace_period() -> None:
    env = (DEPLOY / "systemd" / "pressgate.env.example").read_text()
    names = re.findall(r"^#?\s*(PRESSGATE_[A-Z_]+)=", env, flags=re.M)
    _assert_settings(names, "pressgate.env.example")
    grace = float(re.search(r"^PRESSGATE_SHUTDOWN_GRACE=(\S+)", env, flags=re.M)[1])  # type: ignore[index]
    for name, command in {
        "pressgate-web.service": "run --web-only",
        "pressgate-worker.service": "run --worker-only",
    }.items():
        service = _unit(name)["Service"]
        assert service["ExecStart"] == f"/opt/pressgate/bin/pressgate {command}"
        assert service["User"] == "pressgate" and service["UMask"] == "0077"
        assert service["EnvironmentFile"] == "/etc/pressgate/pressgate.env"
        assert float(service["TimeoutStopSec"]) > grace
    assert "pressgate backup" in _unit("pressgate-backup.service")["Service"]["ExecStart"]
    assert _unit("pressgate-backup.timer")["Timer"]["OnCalendar"]


def test_secret_settings_are_the_ones_the_deployment_files_treat_as_secret() -> None:
    """If a secret setting is added, this list (and the files) must learn of it."""
    assert isinstance(Settings().secret_key, SecretStr)
    assert {"PRESSGATE_SECRET_KEY", "PRESSGATE_AUDIT_KEY", "PRESSGATE_METRICS_TOKEN"} <= SECRETS
    assert "PRESSGATE_CONFIG" not in SECRETS
