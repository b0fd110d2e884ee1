"""The section "Where the money went, and what would change it" in terminal, HTML and JSON."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from inferaudit.audit import run_audit
from inferaudit.ledger import Ledger, ingest
from inferaudit.report.html import render_html
from inferaudit.report.json_report import render_json
from inferaudit.report.terminal import render_terminal

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
TITLE = "Where the money went, and what would change it"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    with Ledger(tmp_path_factory.mktemp("ledger") / "l.duckdb") as ledger:
        ingest(ledger, [SAMPLES / "claude-code", SAMPLES / "swebench-leaderboard"])
        return run_audit(ledger)


def test_terminal_lists_levers_cache_behaviour_and_the_ttl_what_if(report):
    console = Console(record=True, width=220)
    render_terminal(report, console)
    text = console.export_text()
    assert TITLE in text
    for lv in report["levers"]:
        assert lv["name"] in text
    assert "hit rate 97.4% over 530 calls; 7 misses" in text
    assert "TTL what-if (530 calls with cache writes, actual 5m+1h $27.95)" in text
    assert "4d5611e5-241a-462a-8d15-5122611a9569.jsonl:1254: ttl_expiry" in text
    assert "Loop-cap what-if" in text and "successes lost" in text
    assert "upper bound" in text and "estimate" in text


def test_html_section_has_one_row_per_lever_and_the_what_ifs(report):
    html = render_html(report)
    section = html[html.index('<section id="levers">'):]
    section = section[:section.index("</section>")]
    assert TITLE in section and 'href="#levers"' in html
    body = section[section.index("<tbody>"):section.index("</tbody>")]
    assert body.count("<tr>") == len(report["levers"])
    for heading in ("Prompt cache", "What if: cache TTL", "What if: another model's prices",
                    "What if: a cap on turns per run", "Context and compactions"):
        assert heading in section
    assert "4d5611e5-241a-462a-8d15-5122611a9569.jsonl:1254" in section


def test_json_carries_the_levers_shape(report):
    doc = orjson.loads(render_json(report))
    assert doc["levers"] and all(set(lv) >= {"name", "usd", "share", "evidence", "confidence"} for lv in doc["levers"])
    assert set(doc["waste"]) == {"cache", "what_if", "retries", "loop_caps", "context"}


@pytest.mark.parametrize("waste", [None, "x", {"cache": "x", "what_if": None, "loop_caps": [None, {"caps": [None]}],
                                               "context": {"sessions": [{"compactions": [None]}]}, "retries": []}])
def test_html_section_survives_missing_and_junk_values(waste):
    evil = "<script>alert(1)</script>"
    html = render_html({"waste": waste, "levers": [None, "x", {"name": evil, "evidence": "no", "usd": "many"}]})
    section = html[html.index('<section id="levers">'):]
    assert evil not in section and "&lt;script&gt;" in section
    text = re.sub(r"<[^>]+>", "", section[:section.index("</section>")])
    assert "None" not in text and "nan" not in text.lower()
