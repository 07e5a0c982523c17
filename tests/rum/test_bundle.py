"""The committed browser-telemetry bundle is what frontend/ builds: `npm ci` + esbuild, byte for byte.

static/js/rum.min.js is committed so that `make run`, `make test` and the image need no Node; this
test is what keeps it honest. It rebuilds from the lockfile in a temporary copy of frontend/ and
compares both files. In CI (CI=true) a missing node or npm fails the test instead of skipping it.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
STATIC_JS = ROOT / "static" / "js"
BUILT = ("rum.min.js", "rum.min.js.LICENSES.txt")
SOURCES = ("package.json", "package-lock.json", "rum.js", "build.mjs")


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    message = f"{tool} is not installed: the bundle check needs Node.js and npm"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    node, npm = require("node"), require("npm")
    workdir = tmp_path_factory.mktemp("frontend")
    for name in SOURCES:
        shutil.copy2(FRONTEND / name, workdir / name)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=workdir, check=True, capture_output=True
    )
    subprocess.run([node, "build.mjs", str(workdir / "out")], cwd=workdir, check=True, capture_output=True)
    return workdir / "out"


@pytest.mark.e2e
@pytest.mark.parametrize("name", BUILT)
def test_committed_bundle_is_the_rebuild(rebuilt, name):
    committed = (STATIC_JS / name).read_bytes()
    assert (rebuilt / name).read_bytes() == committed, f"static/js/{name} is stale: run `make rum` and commit it"


def test_one_consistent_opentelemetry_set_is_pinned():
    """Exact pins, one @opentelemetry/core in the lockfile, and the overrides entry that keeps it so."""
    manifest = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())

    pins = manifest["devDependencies"]
    assert all(version[0].isdigit() for version in pins.values()), pins
    assert manifest["overrides"]["@opentelemetry/core"] == pins["@opentelemetry/core"]
    packages = lock["packages"]
    cores = {path: entry["version"] for path, entry in packages.items() if path.endswith("/@opentelemetry/core")}
    assert cores == {"node_modules/@opentelemetry/core": pins["@opentelemetry/core"]}
    apis = {entry["version"] for path, entry in lock["packages"].items() if path.endswith("/@opentelemetry/api")}
    assert apis == {pins["@opentelemetry/api"]}


def test_bundle_licences_name_every_bundled_package():
    licences = (STATIC_JS / "rum.min.js.LICENSES.txt").read_text()
    manifest = json.loads((FRONTEND / "package.json").read_text())
    for name, version in manifest["devDependencies"].items():
        if name.startswith("@opentelemetry/"):
            assert f"{name}@{version} (Apache-2.0)" in licences
    assert "Apache License" in licences
