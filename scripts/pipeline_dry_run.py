"""A dry run of the whole delivery pipeline, here, with no cloud.

1. The workflow: the jobs a push to main and a pull request run, in the order their
   ``needs`` impose (tests -> images -> preview -> PR stack; tests -> images -> dev -> prod).
2. ``scripts/deploy.sh`` for real, with ``az``, ``pulumi`` and ``docker`` replaced by
   recorders (this file, run as ``--fake NAME``) and the deployed API played by an HTTP server
   on 127.0.0.1 that answers ``/readyz`` with the build the fake App Service runs on that slot.

Scenarios: dev; prod (promotion by digest, staging, swap); prod whose post-swap check fails
(swap back, production keeps the old release); prod whose migration fails (nothing rolled
out); a new PR stack (registry first). Each asserts the order of what happened.
Exit 0 when all hold, 1 otherwise. Run by scripts/check-delivery.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
NEW = "c0ffee0000000000000000000000000000000001"
OLD = "0ld0000000000000000000000000000000000000"


# --- the recorders (run as separate processes by deploy.sh) ---------------------------------


class Fake:
    def __init__(self) -> None:
        self.state_path = Path(os.environ["DRYRUN_STATE"])
        self.state: dict[str, Any] = json.loads(self.state_path.read_text())

    def save(self) -> None:
        self.state_path.write_text(json.dumps(self.state))

    def event(self, *what: str) -> None:
        self.state["events"].append(list(what))

    @staticmethod
    def opt(args: list[str], name: str) -> str | None:
        return args[args.index(name) + 1] if name in args else None


def fake_pulumi(args: list[str]) -> int:
    fake = Fake()
    stack = fake.opt(args, "--stack") or ""
    if args[:2] == ["stack", "output"]:
        key = args[-1]
        if key == "registry_login_server" and not fake.state["registry_exists"]:
            print("error: no output registry_login_server", file=sys.stderr)
            return 255
        print(fake.state["outputs"][key])
        return 0
    if args[:2] == ["config", "set"]:
        rest = args[2:]
        if "--stack" in rest:
            i = rest.index("--stack")
            del rest[i : i + 2]
        key, value = [a for a in rest if not a.startswith("--")]
        fake.state["config"][key] = value
        fake.event("config", key, value)
        fake.save()
        return 0
    if args[0] == "up":
        assert "--policy-pack" in args, "pulumi up without the policy pack"
        if "--target" in args:
            fake.state["registry_exists"] = True
            fake.event("up-registry", stack)
        else:
            assert fake.state["registry_exists"], "up before the stack has a registry"
            fake.event("up", stack, fake.state["config"].get("imageTag", ""))
        fake.save()
        return 0
    print(f"fake pulumi: unexpected {args}", file=sys.stderr)
    return 2


def fake_az(args: list[str]) -> int:
    fake = Fake()
    state = fake.state
    registry: dict[str, str] = state["registry"]
    if args[:3] == ["acr", "repository", "show"]:
        image = fake.opt(args, "--image") or ""
        source = fake.opt(args, "--name")
        repos = (
            state["source_registry"] if source == "logdawgdevacr" and state["promote"] else registry
        )
        if image not in repos:
            return 3
        print(repos[image] if "--query" in args else json.dumps({"digest": repos[image]}))
        return 0
    if args[:2] == ["acr", "import"]:
        source = fake.opt(args, "--source") or ""
        assert "@sha256:" in source, f"import not by digest: {source}"
        image = fake.opt(args, "--image") or ""
        registry[image] = source.split("@", 1)[1]
        fake.event("import", image)
    elif args[:2] == ["acr", "login"]:
        fake.event("acr-login")
    elif args[:3] == ["staticwebapp", "secrets", "list"]:
        print("swa-deployment-token")
    elif args[:2] == ["config", "set"]:
        assert args[2] == "extension.use_dynamic_install=yes_without_prompt", args
    elif args[:3] == ["containerapp", "job", "start"]:
        fake.event("migrate-start", state["config"].get("imageTag", ""))
        for repo in ("logdawg-migrator",):
            assert f"{repo}:{state['config'].get('imageTag')}" in registry, "job image missing"
        print("exec-1")
    elif args[:4] == ["containerapp", "job", "execution", "show"]:
        if state["migration_fails"]:
            print("Failed")
        else:
            state["schema"] = state["head"]
            fake.event("migrated")
            print("Succeeded")
    elif args[:3] == ["webapp", "config", "set"]:
        slot = fake.opt(args, "--slot") or "production"
        app = fake.opt(args, "--name") or ""
        image = (fake.opt(args, "--linux-fx-version") or "").rsplit("/", 1)[-1]
        assert image in registry, f"{image} is not in the registry"
        state["slots"][f"{app}/{slot}"] = {"image": image, "running": False}
        fake.event("roll-out", f"{app}/{slot}", image)
    elif args[:2] == ["webapp", "restart"]:
        slot = fake.opt(args, "--slot") or "production"
        state["slots"][f"{fake.opt(args, '--name')}/{slot}"]["running"] = True
    elif args[:3] == ["webapp", "config", "show"]:
        running = state["slots"].get(f"{fake.opt(args, '--name')}/production")
        registry_host = state["outputs"]["registry_login_server"]
        print(f"DOCKER|{registry_host}/{running['image']}" if running else "")
    elif args[:4] == ["webapp", "deployment", "slot", "swap"]:
        app = fake.opt(args, "--name")
        prod, staging = f"{app}/production", f"{app}/staging"
        state["slots"][prod], state["slots"][staging] = (
            state["slots"][staging],
            state["slots"][prod],
        )
        fake.event("swap", state["slots"][prod]["image"])
    else:
        print(f"fake az: unexpected {args}", file=sys.stderr)
        return 2
    fake.save()
    return 0


def fake_npm(args: list[str]) -> int:
    """npm: a deploy must never build the SPA (it is built once, by the pipeline's spa job)."""
    fake = Fake()
    fake.event("spa-build", " ".join(args))
    fake.save()
    return 0


def bundle_digest(site: Path) -> str:
    """The digest of a built SPA's files, without the two a deploy writes for its stack."""
    digest = hashlib.sha256()
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        name = path.relative_to(site).as_posix()
        if name in ("config.json", "staticwebapp.config.json"):
            continue
        digest.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def fake_npx(args: list[str]) -> int:
    """The Static Web Apps CLI's deploy, with the token read at deploy time: records the bundle
    it uploads (its digest), the API its /config.json names and the CSP's connect-src."""
    fake = Fake()
    if not any(a.startswith("@azure/static-web-apps-cli@") for a in args) or "deploy" not in args:
        return 2
    assert os.environ.get("SWA_CLI_DEPLOYMENT_TOKEN") == "swa-deployment-token", "no token"
    assert args[args.index("--env") + 1] == "production", "not deployed to production"
    site = Path(args[args.index("deploy") + 1])
    api_base = json.loads((site / "config.json").read_text())["apiBaseUrl"]
    csp = json.loads((site / "staticwebapp.config.json").read_text())["globalHeaders"][
        "Content-Security-Policy"
    ]
    connect = next(d.strip() for d in csp.split(";") if d.strip().startswith("connect-src"))
    fake.event("spa-deploy", bundle_digest(site), api_base, connect)
    fake.save()
    return 0


def fake_docker(args: list[str]) -> int:
    fake = Fake()
    if args[0] == "load":
        fake.event("docker-load")
    elif args[0] == "tag":
        pass
    elif args[0] == "push":
        image = args[1].rsplit("/", 1)[-1]
        fake.state["registry"][image] = f"sha256:{abs(hash(image)):064d}"[:71]
        fake.event("push", image)
    else:
        return 2
    fake.save()
    return 0


# --- the deployed apps ------------------------------------------------------------------------


def serve(state_path: Path) -> ThreadingHTTPServer:
    class App(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            state = json.loads(state_path.read_text())
            slot, _, path = self.path.strip("/").partition("/")
            current = state["slots"].get(f"api/{slot}", {})
            image = (
                current.get("image", f"logdawg-api:{OLD}") if current.get("running", True) else ""
            )
            sha = image.rsplit(":", 1)[-1] if image else ""
            broken = state["broken_in_production"] and slot == "production" and sha == NEW
            if not sha or broken:
                self._send(503, {"status": "unavailable"})
                return
            if path == "readyz":
                body = {"status": "ok", "build_sha": sha, "revision": state["schema"],
                        "head": state["head"]}  # fmt: skip
                if sha == NEW and state["schema"] == state["head"]:
                    state["events"].append(["ready", slot, sha])
                    state_path.write_text(json.dumps(state))
                self._send(200, body)
            elif path == "healthz":
                self._send(200, {"status": "ok"})
            elif path == "api/v1/auth/config":
                state["events"].append(["smoke", slot, sha])
                state_path.write_text(json.dumps(state))
                self._send(200, {"mode": "multi_tenant", "provider": "entra"})
            else:
                self._send(404, {"detail": "not found"})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaBuild:
    """The pipeline's one SPA build: the archive, its sha256, and its bundle's digest."""

    archive: Path
    sha256: str
    bundle: str


def build_spa(where: Path) -> SpaBuild:
    """What ``scripts/build-spa.sh`` makes, small: a built app with the repository's own
    Static Web Apps config, archived once for every environment of this dry run."""
    dist = where / "dist"
    (dist / "assets").mkdir(parents=True)
    script = '<script type="module" src="/assets/index-abc123.js"></script>'
    (dist / "index.html").write_text(f"<!doctype html>{script}<div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("await fetch('/config.json')")
    (dist / "staticwebapp.config.json").write_bytes(
        (ROOT / "frontend/public/staticwebapp.config.json").read_bytes()
    )
    archive = where / "spa.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(dist, arcname=".")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return SpaBuild(archive, digest, bundle_digest(dist))


@contextmanager
def world(
    stack: str, spa: SpaBuild, spa_digest: str | None = None, **overrides: Any
) -> Iterator[tuple[Path, dict[str, str]]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for name in ("pulumi", "az", "docker", "npm", "npx"):
            tool = bin_dir / name
            tool.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{__file__}" --fake {name} "$@"\n')
            tool.chmod(0o755)
        head = subprocess.run(
            [sys.executable, "-c", "from app.db.migrate import head_revision as h; print(h())"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        state_path = root / "state.json"
        old = {f"logdawg-{i}:{OLD}": f"sha256:{'1' * 64}" for i in ("api", "worker", "migrator")}
        new = {f"logdawg-{i}:{NEW}": f"sha256:{'2' * 64}" for i in ("api", "worker", "migrator")}
        state: dict[str, Any] = {
            "events": [], "config": {}, "registry_exists": True, "registry": dict(old),
            "source_registry": old | new, "promote": stack == "prod", "migration_fails": False,
            "broken_in_production": False, "schema": "0001", "head": head,
            "slots": {
                "api/production": {"image": f"logdawg-api:{OLD}", "running": True},
                "worker/production": {"image": f"logdawg-worker:{OLD}", "running": True},
            },
        } | overrides  # fmt: skip
        server = serve(state_path)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        state["outputs"] = {
            "registry_login_server": f"logdawg{stack.replace('-', '')}acr.azurecr.io",
            "resource_group": f"logdawg-{stack}", "api_app_name": "api",
            "worker_app_name": "worker", "migrate_job_name": "dbjob", "spa_name": "spa",
            "api_url": f"{base}/production",
            "api_staging_url": f"{base}/staging" if stack == "prod" else "",
        }  # fmt: skip
        state_path.write_text(json.dumps(state))
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "DRYRUN_STATE": str(state_path), "STACK": stack, "IMAGE_TAG": NEW,
            "READY_ATTEMPTS": "30", "READY_INTERVAL": "0.05", "PYTHON": sys.executable,
            "IMAGES_TAR": str(root / "images.tar"), "SPA_TAR": str(spa.archive),
            "SPA_DIGEST": spa_digest or spa.sha256,
        }  # fmt: skip
        if stack == "prod":
            env["PROMOTE_FROM"] = "logdawgdevacr"
        try:
            yield state_path, env
        finally:
            server.shutdown()


def deploy(
    stack: str, spa: SpaBuild, **overrides: Any
) -> tuple[int, list[list[str]], dict[str, Any]]:
    with world(stack, spa, **overrides) as (state_path, env):
        bash = "/bin/bash" if Path("/bin/bash").exists() else "bash"
        result = subprocess.run(  # noqa: S603 (our own script)
            [bash, "scripts/deploy.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        state = json.loads(state_path.read_text())
        if os.environ.get("DRYRUN_VERBOSE"):
            print(result.stderr)
        return result.returncode, state["events"], state


def kinds(events: list[list[str]]) -> list[str]:
    """The events as pipeline steps, consecutive repeats folded."""
    names = {"push": "images", "import": "images", "up-registry": "registry", "up": "up",
             "migrate-start": "migrate", "roll-out": "roll out", "ready": "ready on SHA",
             "smoke": "smoke", "swap": "swap", "spa-deploy": "spa"}  # fmt: skip
    steps: list[str] = []
    for event in events:
        step = names.get(event[0])
        if step == "roll out" and event[1].startswith("worker"):
            step = "roll out worker"
        if step and (not steps or steps[-1] != step):
            steps.append(step)
    return steps


def workflow_order(event: str) -> list[str]:
    workflow = yaml.safe_load((ROOT / ".github/workflows/pipeline.yml").read_text())
    jobs: dict[str, Any] = workflow["jobs"]
    other = "pull_request" if event == "push" else "push"

    def runs(job: dict[str, Any]) -> bool:
        condition = str(job.get("if", ""))
        return f"github.event_name == '{other}'" not in condition

    order: list[str] = []
    pending = {name for name, job in jobs.items() if runs(job)}
    while pending:
        ready = sorted(
            name for name in pending
            if all(n in order for n in ([jobs[name]["needs"]] if isinstance(
                jobs[name].get("needs", []), str) else jobs[name].get("needs", [])))
        )  # fmt: skip
        assert ready, f"cycle or missing job among {pending}"
        order += ready
        pending -= set(ready)
    return order


def expect(name: str, condition: bool, detail: object) -> bool:
    print(f"{'ok  ' if condition else 'FAIL'} {name}" + ("" if condition else f": {detail}"))
    return condition


def origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def main() -> int:
    results: list[bool] = []
    push, pr = workflow_order("push"), workflow_order("pull_request")
    results.append(expect(
        "main: test -> images + SPA (built once) -> dev -> prod",
        push == ["test", "images", "spa", "deploy-dev", "deploy-prod"],
        push,
    ))  # fmt: skip
    results.append(expect(
        "pull request: test -> images + SPA (built once) -> preview -> PR stack",
        pr == ["test", "images", "spa", "preview", "pr-stack"],
        pr,
    ))  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        spa = build_spa(Path(tmp))
        return run_scenarios(results, spa)


def run_scenarios(results: list[bool], spa: SpaBuild) -> int:
    deployed: dict[str, list[str]] = {}

    def spa_of(stack: str, events: list[list[str]], state: dict[str, Any]) -> bool:
        """The stack got the one build, its own API in /config.json and in the CSP, and
        nothing was built during its deploy."""
        uploads = [e for e in events if e[0] == "spa-deploy"]
        api = origin(state["outputs"]["api_url"])
        if len(uploads) != 1 or any(e[0] == "spa-build" for e in events):
            return False
        _, bundle, api_base, connect = uploads[0]
        deployed[stack] = [bundle, api_base]
        return bundle == spa.bundle and api_base == api and api in connect.split()

    code, events, state = deploy("dev", spa)
    results.append(expect(
        "dev: images -> up -> migrate -> roll out -> ready on SHA -> smoke -> SPA",
        code == 0
        and kinds(events) == ["images", "up", "migrate", "roll out worker", "roll out",
                              "ready on SHA", "smoke", "spa"]
        and spa_of("dev", events, state),
        (code, kinds(events), [e for e in events if e[0].startswith("spa")]),
    ))  # fmt: skip

    code, events, state = deploy("prod", spa)
    results.append(expect(
        "prod: by digest -> up -> migrate -> API staging -> ready on SHA -> worker -> swap -> SPA",
        code == 0
        and kinds(events) == ["images", "up", "migrate", "roll out", "ready on SHA", "smoke",
                              "roll out worker", "swap", "ready on SHA", "smoke", "spa"]
        and spa_of("prod", events, state)
        and not any(e[0] == "push" for e in events)
        and ["ready", "staging", NEW] in events
        and state["slots"]["api/production"]["image"] == f"logdawg-api:{NEW}"
        and state["slots"]["worker/production"]["image"] == f"logdawg-worker:{NEW}",
        (code, kinds(events), [e for e in events if e[0].startswith("spa")]),
    ))  # fmt: skip

    code, events, state = deploy("prod", spa, broken_in_production=True)
    swaps = [e for e in events if e[0] == "swap"]
    results.append(expect(
        "prod, post-swap check fails: swapped back, API and worker on the previous release, no SPA",
        code != 0 and len(swaps) == 2 and "spa" not in kinds(events)
        and swaps[-1] == ["swap", f"logdawg-api:{OLD}"]
        and state["slots"]["api/production"]["image"] == f"logdawg-api:{OLD}"
        and state["slots"]["worker/production"]["image"] == f"logdawg-worker:{OLD}",
        (code, swaps, state["slots"]),
    ))  # fmt: skip

    code, events, state = deploy("prod", spa, migration_fails=True)
    results.append(expect(
        "prod, migration fails: nothing rolled out",
        code != 0 and "roll out" not in " ".join(kinds(events)) and "migrate" in kinds(events),
        (code, kinds(events)),
    ))  # fmt: skip

    code, events, state = deploy("pr-42", spa, registry_exists=False, registry={})
    results.append(expect(
        "new PR stack: registry -> images -> up (never an app on a missing image) ... SPA",
        code == 0 and kinds(events)[:3] == ["registry", "images", "up"]
        and kinds(events)[-1] == "spa" and spa_of("pr-42", events, state),
        (code, kinds(events)),
    ))  # fmt: skip

    bundles = {bundle for bundle, _ in deployed.values()}
    results.append(expect(
        "one SPA build: the same bundle digest reached dev, prod and the PR stack",
        sorted(deployed) == ["dev", "pr-42", "prod"] and bundles == {spa.bundle},
        deployed,
    ))  # fmt: skip

    code, events, state = deploy("dev", spa, spa_digest="0" * 64)
    results.append(expect(
        "an SPA archive that is not the one built: refused, nothing uploaded",
        code != 0 and not any(e[0] == "spa-deploy" for e in events)
        and "smoke" in kinds(events),
        (code, kinds(events)),
    ))  # fmt: skip

    print(f"pipeline dry run: {sum(results)}/{len(results)} scenarios hold")
    return 0 if all(results) else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--fake":
        fakes = {
            "pulumi": fake_pulumi, "az": fake_az, "docker": fake_docker, "npm": fake_npm,
            "npx": fake_npx,
        }  # fmt: skip
        sys.exit(fakes[sys.argv[2]](sys.argv[3:]))
    sys.exit(main())
