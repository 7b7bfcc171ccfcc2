"""``guidepath paths import|export|list`` in process, on an embedded data folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidepath.core.cli import cli

from fixtures_api import demo, document



@pytest.fixture
def gp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key in list(os.environ):
        if key.startswith("GUIDEPATH_"):
            monkeypatch.delenv(key)
    runner = CliRunner()
    data_dir = tmp_path / "data"

    def invoke(*args: str):
        return runner.invoke(cli, ["--data-dir", str(data_dir), *args])

    result = invoke("tenants", "create", "acme")
    assert result.exit_code == 0, result.output
    return invoke


def write(tmp_path: Path, name: str, content) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def test_import_publish_list_export(gp, tmp_path):
    source = write(tmp_path, "phone.json", demo("phone-wont-charge"))
    imported = gp("paths", "import", source, "--tenant", "acme", "--publish")
    assert imported.exit_code == 0, imported.output
    assert "created phone-wont-charge (gp_" in imported.stdout and "published version 1" in imported.stdout

    listed = gp("paths", "list", "--tenant", "acme")
    assert listed.exit_code == 0
    header, row = listed.stdout.splitlines()
    assert header.split()[:4] == ["KEY", "ID", "STATUS", "VERSION"]
    assert row.split()[0] == "phone-wont-charge" and row.split()[2:4] == ["active", "1"]

    exported = gp("paths", "export", "phone-wont-charge", "--tenant", "acme")
    assert exported.exit_code == 0 and json.loads(exported.stdout) == demo("phone-wont-charge")
    target = tmp_path / "out.json"
    to_file = gp("paths", "export", "phone-wont-charge", "--tenant", "acme", "--version", "1", "-o", str(target))
    assert to_file.exit_code == 0 and json.loads(target.read_text("utf-8")) == demo("phone-wont-charge")

    # The same file again: the draft is unchanged, no new version.
    again = gp("paths", "import", source, "--tenant", "acme", "--publish")
    assert "updated the draft of phone-wont-charge" in again.stdout and "published version 1" in again.stdout


def test_import_reports_every_problem_and_stores_nothing(gp, tmp_path):
    broken = document()
    broken["steps"]["ask"]["kind"] = "essay"
    broken["steps"]["decide"]["default"] = 7
    result = gp("paths", "import", write(tmp_path, "broken.json", broken), "--tenant", "acme")
    assert result.exit_code == 1
    assert "/steps/ask/kind" in result.stderr and "/steps/decide/default" in result.stderr
    assert "Traceback" not in result.output
    assert gp("paths", "list", "--tenant", "acme").stdout.strip() == "no guided paths"

    unpublishable = document()
    unpublishable["steps"]["decide"]["default"] = "nowhere"
    refused = gp("paths", "import", write(tmp_path, "draft.json", unpublishable), "--tenant", "acme", "--publish")
    assert refused.exit_code == 1 and "graph.unknown_target" in refused.stderr
    assert gp("paths", "list", "--tenant", "acme").stdout.strip() == "no guided paths"
    draft = gp("paths", "import", write(tmp_path, "draft.json", unpublishable), "--tenant", "acme")
    assert draft.exit_code == 0 and "1 problem(s) to fix before publishing" in draft.stderr


def test_clear_errors(gp, tmp_path):
    not_json = gp("paths", "import", write(tmp_path, "x.json", "{nope"), "--tenant", "acme")
    assert not_json.exit_code == 1 and "is not a JSON document" in not_json.stderr
    unknown_tenant = gp("paths", "list", "--tenant", "nobody")
    assert unknown_tenant.exit_code == 1 and "Error: " in unknown_tenant.stderr
    missing = gp("paths", "export", "nothing-here", "--tenant", "acme")
    assert missing.exit_code == 1 and "guided path 'nothing-here' not found" in missing.stderr
    bad_version = gp("paths", "export", "nothing-here", "--tenant", "acme", "--version", "zero")
    assert bad_version.exit_code == 2 and "--version" in bad_version.stderr
