"""``inferaudit drift check`` on OpenAI's real spec snapshots (2026-05-13 pinned, 2026-08-21 newer) and on edits."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from inferaudit.cli import app
from inferaudit.drift import check
from inferaudit.drift.catalog import OPENAI
from inferaudit.drift.spec import Spec, read_document

NEWER = Path(__file__).parent / "data" / "openapi-2026-08-21.yaml.gz"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return check("openai", NEWER, cache_dir=tmp_path_factory.mktemp("cache"))


def by_key(report):
    return {(f.obj, f.path): f for f in report.findings}


def test_finds_obfuscation_added_to_chat_chunks(real):
    found = by_key(real)[("chat.chunk", "obfuscation")]
    assert (found.status, found.schema, found.touches) == ("new field", "CreateChatCompletionStreamResponse", False)
    assert found.detail.startswith("string, optional")


def test_lists_exactly_the_real_changes_that_touch_the_gateway(real):
    touching = {(f.obj, f.path): f.status for f in real.touching}
    assert touching == {
        ("chat.request", "safety_identifier"): "changed",  # now nullable
        ("chat.request", "reasoning_effort"): "changed",  # enum value "max" added: the Gemini translator maps it
        ("chat.usage", "prompt_tokens_details.cache_write_tokens"): "added",  # read by the translators, now documented
        ("chat.usage", "prompt_tokens_details.image_tokens"): "added",
        ("chat.usage", "prompt_tokens_details.text_tokens"): "added",
        ("chat.usage", "completion_tokens_details.text_tokens"): "added",
        ("responses.usage", "input_tokens_details.cache_write_tokens"): "added",  # required, and no bucket takes it
        ("responses.event", "*:type"): "changed",  # five shell_call stream events
        ("responses.event", "response.output_item.added:item.type"): "changed",
        ("responses.event", "response.output_item.done:item.type"): "changed",
        ("responses.response", "output[].type"): "changed",  # program, program_output, additional_tools items
        # read or written by the Responses -> Chat translator (translate/responses_api.py, responses_events.py)
        ("responses.request", "input[].name"): "changed",  # now nullable
        ("responses.request", "input[].type"): "changed",  # compaction_trigger, program, ... items
        ("responses.request", "tools[].type"): "changed",  # programmatic_tool_calling
        ("responses.response", "output[].call_id"): "changed",  # no longer required
        ("responses.response", "output[].name"): "changed",
        ("responses.response", "output[].role"): "changed",
        ("responses.response", "output[].fingerprint"): "new field",  # required in items the translator writes
        # read or written by the Chat -> Responses translator (translate/chat_to_responses_*.py)
        ("chat.request", "prompt_cache_key"): "changed",  # now nullable: passed on only when set
        ("chat.request", "service_tier"): "changed",  # enum value "fast" added: passed on as given
        ("chat.response", "service_tier"): "changed",  # "fast" added; the upstream's value is written as given
        ("responses.event", "response.output_item.added:item.call_id"): "changed",  # no longer required: an id is
        ("responses.event", "response.output_item.done:item.call_id"): "changed",  # minted when a call has none
        ("responses.event", "response.output_item.added:item.name"): "changed",  # no longer required: "" then
        ("responses.event", "response.output_item.done:item.name"): "changed",
        ("responses.request", "prompt_cache_key"): "changed",  # now nullable
        ("responses.request", "reasoning.effort"): "changed",  # "max" added, as in chat's reasoning_effort: passed on
        ("responses.request", "safety_identifier"): "changed",  # now nullable
        ("responses.request", "service_tier"): "changed",  # "fast", "ultrafast" added
        ("responses.request", "tool_choice.type"): "changed",  # programmatic_tool_calling (never written)
        ("responses.request", "input[].fingerprint"): "new field",  # required only in `program` items (never written)
        ("responses.response", "service_tier"): "changed",  # "fast", "ultrafast" added
    }
    assert real.exit_code == 1
    assert "enum values added: additional_tools, program, program_output" in by_key(real)[("responses.response", "output[].type")].detail
    assert "required" in by_key(real)[("responses.usage", "input_tokens_details.cache_write_tokens")].detail


def test_every_declared_field_gets_a_verdict(real):
    concrete = {(u.obj, u.path) for u in __import__("inferaudit.drift.fields", fromlist=["x"]).gateway_fields()
                if not u.path.endswith("*")}
    verdicts = by_key(real)
    assert concrete <= set(verdicts)
    assert {verdicts[k].status for k in concrete} <= {"unchanged", "changed", "added", "removed", "missing"}
    missing = [verdicts[k] for k in concrete if verdicts[k].status == "missing"]
    assert missing and all(f.detail for f in missing)  # never a silent pass: each says why
    assert verdicts[("chat.chunk", "choices[].delta.tool_calls[].index")].status == "unchanged"


def test_same_file_twice_reports_no_change(tmp_path):
    report = check("openai", OPENAI.pinned_path(), cache_dir=tmp_path)
    assert report.exit_code == 0
    assert {f.status for f in report.findings} == {"unchanged", "missing"}


def edited_spec(tmp_path: Path, edit) -> Path:
    document = read_document(OPENAI.pinned_path())
    edit(document["components"]["schemas"])
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(document, default=str))  # JSON is YAML: the check reads either
    return out


def test_synthetic_edits_are_reported_with_exit_1(tmp_path):
    def edit(schemas):
        del schemas["CompletionUsage"]["properties"]["prompt_tokens_details"]["properties"]["cached_tokens"]
        schemas["CompletionUsage"]["properties"]["completion_tokens"]["type"] = "string"

    report = check("openai", edited_spec(tmp_path, edit), cache_dir=tmp_path)
    found = by_key(report)
    assert found[("chat.usage", "prompt_tokens_details.cached_tokens")].status == "removed"
    changed = found[("chat.usage", "completion_tokens")]
    assert (changed.status, changed.detail) == ("changed", "type integer -> string")
    assert report.exit_code == 1

    result = CliRunner().invoke(app, ["drift", "check", "--spec", str(tmp_path / "edited.json"), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["exit_code"] == 1 and data["touching"] == 2


def test_cli_on_the_real_snapshots():
    runner = CliRunner()
    result = runner.invoke(app, ["drift", "check", "--spec", str(NEWER)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "obfuscation" in result.output and "cache_write_tokens" in result.output
    same = runner.invoke(app, ["drift", "check"], env={"COLUMNS": "200"})
    assert same.exit_code == 0
    assert "No change touches" in same.output


def test_cli_names_a_file_that_is_not_a_spec(tmp_path):
    bad = tmp_path / "notes.yaml"
    bad.write_text("just: text\n")
    result = CliRunner().invoke(app, ["drift", "check", "--spec", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "notes.yaml" in result.output and "not an OpenAPI document" in result.output


def test_union_ref_and_allof_lookup():
    spec = Spec({"components": {"schemas": {
        "Base": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        "Obj": {"allOf": [{"$ref": "#/components/schemas/Base"},
                          {"properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                                          "kind": {"type": "string", "enum": ["a", "b"]}}}]},
        "Ev": {"oneOf": [{"type": "object", "properties": {"type": {"enum": ["x"]}, "o": {"$ref": "#/components/schemas/Obj"}}},
                         {"type": "object", "properties": {"type": {"enum": ["y"]}}}]},
    }}}, "inline")
    assert spec.lookup("Obj", "id").required and spec.lookup("Obj", "n").types == {"integer", "null"}
    assert spec.lookup("Obj", "kind").enum == {"a", "b"}
    assert spec.lookup("Ev", "x:o.id").types == {"string"}
    assert spec.lookup("Ev", "y:o") is None
    assert spec.lookup("Ev", "*:type").enum == {"x", "y"} and spec.lookup("Ev", "*:o").carriers == {"x"}


def test_pinned_snapshot_is_vendored_compressed():
    path = OPENAI.pinned_path()
    assert path.name == "openapi-2026-05-13.yaml.gz"
    assert yaml.safe_load(gzip.decompress(path.read_bytes())[:200])["openapi"].startswith("3.")
