"""The GitHub configuration: workflows linted by actionlint and audited by zizmor, the hardening rules
they follow checked one by one, and the issue forms and pull-request template in shape."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from evidence_map.paths import ROOT

GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")


def tool(name: str, required_env: str, required_value: str | None = None) -> str:
    """The path of a command-line tool: beside this Python first, then on PATH.

    Missing, the test skips, unless `required_env` is set (to `required_value`, when given): then it fails.
    """
    here = Path(sys.executable).parent
    found = shutil.which(name, path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))
    if found:
        return found
    value = os.environ.get(required_env)
    if value and (required_value is None or value == required_value):
        pytest.fail(f"{name} is not installed, and {required_env}={value} requires it")
    pytest.skip(f"{name} is not installed")


def load(path: Path) -> dict[Any, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), path
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the bare key `on` as true
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict[Any, Any]]:
    return {p.name: load(p) for p in WORKFLOW_FILES}


def test_the_workflows_exist(workflows: dict[str, dict[Any, Any]]) -> None:
    assert {"ci.yml", "pages.yml"} <= set(workflows)


def test_actionlint_finds_nothing() -> None:
    # The test extra does not carry actionlint; CI on GitHub installs it, so there it must run.
    actionlint = tool("actionlint", "GITHUB_ACTIONS", "true")
    proc = subprocess.run(
        [actionlint, "-no-color", *(str(p.relative_to(ROOT)) for p in WORKFLOW_FILES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = tool("zizmor", "CI")
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    proc = subprocess.run(
        # The auditor persona: every finding, including the pedantic ones; those that remain are
        # justified beside an inline ignore in the workflow itself.
        [
            *(zizmor, "--offline", "--persona", "auditor", "--format", "json", "--no-progress"),
            str(WORKFLOWS.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    findings = json.loads(proc.stdout or "[]")
    summary = [f"{f.get('ident')}: {f.get('desc')}" for f in findings]
    assert findings == [], "\n".join(summary)
    assert proc.returncode == 0, proc.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    seen = 0
    for path in WORKFLOW_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = USES.match(line)
            if not m:
                continue
            seen += 1
            ref, rest = m.groups()
            assert SHA_PIN.match(ref), f"{path.name}:{number}: {ref} is not pinned to a full commit SHA"
            assert re.search(r"#\s*v\d+(\.\d+)*\b", rest), f"{path.name}:{number}: no '# vX.Y.Z' comment"
    assert seen >= 5


# The only jobs that may write, and exactly what: the Pages deployment; the weekly search's propose
# job, which moves one branch forward and opens one pull request (the search itself runs read-only,
# in its own job); and the report of a failed scheduled search, which opens or comments on an issue.
WRITERS = {
    ("pages.yml", "deploy"): {"pages", "id-token"},
    ("surveil.yml", "propose"): {"contents", "pull-requests"},
    ("surveil.yml", "report"): {"issues"},
}


def test_least_privilege(workflows: dict[str, dict[Any, Any]]) -> None:
    for name, wf in workflows.items():
        assert wf.get("permissions") in ({}, {"contents": "read"}), f"{name}: top-level permissions"
        assert "pull_request_target" not in triggers(wf), name
        assert "workflow_run" not in triggers(wf), name
        assert "concurrency" in wf, f"{name}: no concurrency group"
        for job_name, job in wf["jobs"].items():
            where = f"{name}:{job_name}"
            assert "permissions" in job, f"{where}: no job permissions"
            assert isinstance(job.get("timeout-minutes"), int), f"{where}: no timeout"
            writes = {k for k, v in (job["permissions"] or {}).items() if v == "write"}
            if writes:
                assert WRITERS.get((name, job_name)) == writes, f"{where}: writes {writes}"
            for step in job.get("steps", []):
                uses = str(step.get("uses", ""))
                if uses.startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, f"{where}: persist-credentials"
                # Expressions never reach a shell script, where untrusted text could become code.
                assert "${{" not in str(step.get("run", "")), f"{where}: expression in run"


def stages(commands: list[str]) -> list[str]:
    """The .ci/steps stages that a list of shell scripts runs, in order."""
    return [m for c in commands for m in re.findall(r"\.ci/steps (\w+)", c)]


def test_ci_on_pull_requests(workflows: dict[str, dict[Any, Any]]) -> None:
    ci = workflows["ci.yml"]
    on = triggers(ci)
    assert "pull_request" in on
    assert "main" in (on.get("push") or {}).get("branches-ignore", [])
    [job] = ci["jobs"].values()
    steps = job["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    # Record errors first, before the browser and the project are installed.
    assert stages(runs) == ["validate", "install", "lint", "test", "contribution", "build", "diff"]
    first_install = next(i for i, r in enumerate(runs) if "apt-get install" in r or "steps install" in r)
    assert next(i for i, r in enumerate(runs) if "steps validate" in r) < first_install
    # Every later step runs even when an earlier check failed (not when the run is cancelled).
    after_validate = [s for s in steps if "steps validate" not in str(s.get("run", "")) and "run" in s]
    assert all("!cancelled()" in str(s.get("if", "")) for s in after_validate[2:]), after_validate
    diff = next(s for s in steps if "steps diff" in str(s.get("run", "")))
    assert "github.event_name == 'pull_request'" in diff["if"] and "BASE_REF" in diff["env"]
    uploads = [s for s in steps if "upload-artifact@" in str(s.get("uses"))]
    preview = [s for s in uploads if s["with"]["path"].rstrip("/") == "site"]
    assert len(preview) == 1 and "!cancelled()" in preview[0]["if"] and "steps.build.outcome" in preview[0]["if"]


def test_ci_run_and_the_workflow_run_the_same_stages(workflows: dict[str, dict[Any, Any]]) -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    workflow = stages([str(s.get("run", "")) for job in workflows["ci.yml"]["jobs"].values() for s in job["steps"]])
    local = [s for s in stages(script.splitlines()) if s != "test"]
    assert local == [s for s in workflow if s != "test"]
    # .ci/run runs the README's test command itself; the workflow's test stage is the same pytest.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    test_command = re.findall(r"(?m)^python3 -m venv .*pytest$", readme)
    assert test_command and test_command[0] in script
    steps = (ROOT / ".ci" / "steps").read_text(encoding="utf-8")
    for stage in workflow:
        assert re.search(rf"(?m)^  {stage}\)$", steps), stage


def test_pages_deploys_main(workflows: dict[str, dict[Any, Any]]) -> None:
    pages = workflows["pages.yml"]
    assert triggers(pages)["push"]["branches"] == ["main"]
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    assert any("python build.py build --strict" in str(s.get("run", "")) for s in build["steps"])
    upload = next(s for s in build["steps"] if "upload-pages-artifact@" in str(s.get("uses")))
    assert upload["with"]["path"].rstrip("/") == "site"
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert pages["concurrency"].get("cancel-in-progress") is False


# --- Issue forms and the pull-request template --------------------------------------------------

ISSUE_FORMS = GITHUB / "ISSUE_TEMPLATE"


def form_fields(name: str) -> dict[str, dict[str, Any]]:
    form = load(ISSUE_FORMS / name)
    for key in ("name", "description", "body"):
        assert form.get(key), f"{name}: no {key}"
    fields = {}
    for item in form["body"]:
        assert item["type"] in {"markdown", "input", "textarea", "dropdown", "checkboxes"}, item
        if item["type"] == "markdown":
            assert item["attributes"]["value"].strip()
            continue
        assert item["attributes"]["label"].strip()
        if "id" in item:
            assert re.fullmatch(r"[a-z][a-z0-9_-]*", item["id"]), item["id"]
            assert item["id"] not in fields, f"{name}: duplicate id {item['id']}"
            fields[item["id"]] = item
    return fields


def required(item: dict[str, Any]) -> bool:
    return bool((item.get("validations") or {}).get("required"))


def test_suggest_review_form_matches_the_sites_links() -> None:
    fields = form_fields("suggest-review.yml")
    # The site's new-issue links pre-fill these by id (?condition=...&source=...).
    assert {"citation", "condition", "source", "link"} <= set(fields)
    for field_id in ("citation", "condition", "source", "link"):
        assert fields[field_id]["type"] in {"input", "textarea"}, field_id
    assert required(fields["citation"]) and required(fields["link"])
    scope = [f for f in fields.values() if f["type"] == "checkboxes"]
    assert scope and all(option.get("required") for option in scope[0]["attributes"]["options"])


def test_report_wrong_value_form() -> None:
    fields = form_fields("report-wrong-value.yml")
    assert sum(required(f) for f in fields.values()) >= 3


def test_issue_config_and_pull_request_template() -> None:
    config = load(ISSUE_FORMS / "config.yml")
    assert isinstance(config["blank_issues_enabled"], bool)
    for link in config.get("contact_links", []):
        assert link["url"].startswith("https://") and link["name"] and link["about"]
    template = (GITHUB / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    boxes = re.findall(r"(?m)^\s*- \[ \] ", template)
    assert len(boxes) >= 6
    for phrase in ("python build.py new", "python build.py validate", "own words", "discrepancies", "provenance"):
        assert phrase in template, phrase
