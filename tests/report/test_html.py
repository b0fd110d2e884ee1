"""The HTML report's structure: sections, escaping, offline-only, the Pareto chart, robustness."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from html.parser import HTMLParser

import pytest

from inferaudit.report import htmlfmt as fmt
from inferaudit.report.html import render_html

SECTION_IDS = ("summary", "pareto", "buckets", "triples", "sessions", "issues")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SVG_LEAVES = {"circle", "line", "rect", "polyline", "polygon", "path"}


class Doc(HTMLParser):
    """Every element with its attributes and ancestors; fails on badly nested markup."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.stack: list[dict] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.feed(html)
        self.close()
        assert [e["tag"] for e in self.stack] == [], f"unclosed: {[e['tag'] for e in self.stack]}"

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "parents": list(self.stack), "text": []}
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "parents": list(self.stack), "text": []})

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1]["tag"] == tag, f"</{tag}> closes {self.stack[-1]['tag'] if self.stack else None}"
        self.stack.pop()

    def handle_data(self, data):
        if not any(e["tag"] in ("script", "style") for e in self.stack):
            self.text.append(data)
        for el in self.stack:
            el["text"].append(data)
        if self.stack and self.stack[-1]["tag"] == "script":
            self.scripts.append(data)

    def find(self, tag: str | None = None, cls: str | None = None, inside: dict | None = None) -> list[dict]:
        return [
            e for e in self.elements
            if (tag is None or e["tag"] == tag)
            and (cls is None or cls in e["attrs"].get("class", "").split())
            and (inside is None or any(p is inside for p in e["parents"]))
        ]

    def points(self, inside: dict | None = None) -> list[dict]:
        """The plotted points (the legend's sample dots carry no data-key)."""
        return [e for e in self.find("circle", "pt", inside) if "data-key" in e["attrs"]]

    def by_id(self, id_: str) -> dict:
        found = [e for e in self.elements if e["attrs"].get("id") == id_]
        assert len(found) == 1, id_
        return found[0]


def text_of(el: dict) -> str:
    return "".join(el["text"])


def names(t: dict) -> str:
    name = f"{t['model']} \u00b7 {t['harness']} \u00b7 {t['cache_policy']}"
    return f"{name} ({t['benchmark']})" if t.get("benchmark") else name


@pytest.fixture
def page(report):
    html = render_html(report)
    return html, Doc(html)


def test_every_section_is_there(page, report):
    html, doc = page
    assert html.startswith("<!DOCTYPE html>")
    for sid in SECTION_IDS:
        assert doc.by_id(sid)["tag"] == "section"
        assert any(a.get("href") == f"#{sid}" for a in (e["attrs"] for e in doc.find("a"))), sid
    summary = text_of(doc.by_id("summary"))
    assert fmt.usd(report["totals"]["cost_usd"]) in summary
    for label in ("Total cost", "Cache hit rate", "Calls", "Runs", "Unpriced tokens", "Cache write 1h", "Reasoning"):
        assert label in summary
    assert len(doc.find("div", "headline")) == len(report["headline"]) == 5
    assert report["headline"][0]["text"] in summary
    assert "Cost by bucket per triple" in text_of(doc.by_id("buckets"))
    for name in ("Input", "Cache read", "Cache write 5m", "Cache write 1h", "Output"):
        assert name in text_of(doc.find("div", "legend", inside=doc.by_id("buckets"))[0])


def test_strings_from_data_are_escaped(page):
    html, doc = page
    assert html.lower().count("<script") == 1  # ours only
    assert "<img" not in html.lower()
    assert "alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # the text survives, as text
    body = "".join(doc.text)
    assert "<script>alert('x')</script>" in body
    assert '<script src="https://evil.example/x.js"></script>' in body
    assert not [e for e in doc.elements if any(k.startswith("on") for k in e["attrs"])]


def _remote_loads(html: str) -> list[str]:
    attr = re.findall(r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]*)""", html, re.I)
    css = re.findall(r"""url\(\s*["']?\s*((?:https?:)?//[^)"']*)""", html, re.I)
    imports = re.findall(r"@import", html, re.I)
    return attr + css + imports


def test_no_remote_resources(page):
    html, doc = page
    assert _remote_loads(html) == []
    for el in doc.elements:
        for key in ("src", "href"):
            value = el["attrs"].get(key)
            if value is not None:
                assert value.startswith(("#", "data:")), (el["tag"], key, value)
    # the page itself, without data, names no web address at all (no xmlns, no CDN)
    assert not re.search(r"https?:|//[a-z]", render_html({}).lower())


def test_remote_load_check_catches_one():
    assert _remote_loads('<img src="https://cdn.example/x.png">')
    assert _remote_loads("<link href=//cdn.example/x.css>")
    assert _remote_loads("<style>a{background:url('http://x/y.png')}</style>")


def test_csp_forbids_network_and_allows_only_our_script(page):
    html, doc = page
    meta = [e for e in doc.find("meta") if e["attrs"].get("http-equiv") == "Content-Security-Policy"]
    assert len(meta) == 1
    csp = meta[0]["attrs"]["content"]
    assert "default-src 'none'" in csp
    (script,) = doc.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_one_point_per_triple_with_success(page, report):
    _, doc = page
    plotted = [t for t in report["triples"] if t["success_rate"] is not None and (t["cost_per_run"] or 0) > 0]
    points = [p for p in doc.points() if any("scatter" in a["attrs"].get("class", "").split()
                                                          and "wall" not in a["attrs"]["class"] for a in p["parents"])]
    assert len(points) == len(plotted) > 30
    assert sorted(p["attrs"]["data-key"] for p in points) == sorted(names(t) for t in plotted)
    # per benchmark: a chart per benchmark, each with its own triples only
    benches = doc.find("div", "bench")
    assert sorted(b["attrs"]["data-benchmark"] for b in benches) == sorted({t["benchmark"] for t in report["triples"]})
    for b in benches:
        keys = [p["attrs"]["data-key"] for p in doc.points(inside=b)]
        assert all(k.endswith(f"({b['attrs']['data-benchmark']})") for k in keys)
    # frontier points are exactly the triples flagged by the audit
    frontier = sorted(p["attrs"]["data-key"] for p in points if "frontier" in p["attrs"]["class"].split())
    assert frontier == sorted(names(t) for t in plotted if t["pareto"]["cost"])
    # the wall-time charts exist and plot the triples that have a wall time
    walls = [p for p in doc.points() if any("wall" in a["attrs"].get("class", "") for a in p["parents"])]
    assert len(walls) == sum(1 for t in report["triples"] if t["success_rate"] is not None and t["wall_time_s"])


def _small(pareto: bool = True) -> dict:
    def t(model, cost, success, frontier):
        row = {"model": model, "harness": "openhands", "cache_policy": "default", "benchmark": "swe-bench",
               "runs": 100, "resolved": None if success is None else round(success * 100), "success_rate": success,
               "cost_per_run": cost, "wall_time_s": None, "dominated_by": []}
        if pareto:
            row["pareto"] = {"cost": frontier, "wall_time": False}
        return row

    return {"triples": [
        t("cheap-low", 0.10, 0.40, True),
        t("mid", 0.50, 0.60, True),
        t("dear-high", 3.00, 0.70, True),
        t("dominated", 1.00, 0.55, False),  # dearer than "mid" and less successful
        t("unknown", 0.20, None, False),  # outcome unknown: not plotted
    ]}


@pytest.mark.parametrize("given", [True, False], ids=["audit-flags", "computed-when-missing"])
def test_frontier_on_a_small_hand_made_input(given):
    doc = Doc(render_html(_small(pareto=given)))
    points = {p["attrs"]["data-key"].split(" \u00b7 ")[0]: p for p in doc.points()}
    assert set(points) == {"cheap-low", "mid", "dear-high", "dominated"}
    assert {k for k, p in points.items() if "frontier" in p["attrs"]["class"]} == {"cheap-low", "mid", "dear-high"}
    assert "dominated" in points["dominated"]["attrs"]["class"]
    # the frontier line joins the frontier points from cheapest to dearest
    (line,) = doc.find("polyline", "frontier-line")
    xs = [float(xy.split(",")[0]) for xy in line["attrs"]["points"].split()]
    cx = {k: float(p["attrs"]["cx"]) for k, p in points.items()}
    assert xs == [cx["cheap-low"], cx["mid"], cx["dear-high"]]
    # log scale: equal ratios, equal distances; higher success is higher up (smaller y)
    assert cx["cheap-low"] < cx["mid"] < cx["dominated"] < cx["dear-high"]
    cy = {k: float(p["attrs"]["cy"]) for k, p in points.items()}
    assert cy["dear-high"] < cy["mid"] < cy["dominated"] < cy["cheap-low"]
    assert "4 triple(s), 3 on the frontier" in text_of(doc.find("div", "bench")[0])


def test_triple_table(page, report):
    _, doc = page
    rows = doc.find("tr", inside=doc.find("tbody", inside=doc.by_id("triples"))[0])
    assert len(rows) == len(report["triples"]) == 40
    heads = [text_of(th) for th in doc.find("th", inside=doc.by_id("triples"))]
    for h in ("Model", "Harness", "Cache policy", "Benchmark", "Runs", "Resolved", "Success", "95% CI", "Cost/run",
              "Median/run", "Cost/success", "Total cost", "Cache hit", "Wall/run", "Calls/run", "Input", "Cache read",
              "Cache write 5m", "Cache write 1h", "Output", "Reasoning", "Unpriced tok.", "Pareto", "Dominated by"):
        assert h in heads
    table = text_of(doc.by_id("triples"))
    t = next(t for t in report["triples"] if t["success_ci"] and t["cost_per_run"] and t["dominated_by"])
    lo, hi = t["success_ci"]
    assert f"[{lo * 100:.1f}\u2013{hi * 100:.1f}]" in table
    assert fmt.usd(t["cost_per_run"]) in table
    assert f"{t['success_rate'] * 100:.1f}%" in table
    assert t["dominated_by"][0]["text"] in table
    marks = doc.find("span", "pareto-mark", inside=doc.by_id("triples"))
    assert sum("C" in text_of(m) for m in marks) == sum(t["pareto"]["cost"] for t in report["triples"])
    # numeric columns carry their sort value
    assert all("data-v" in td["attrs"] for r in rows[:5] for td in doc.find("td", inside=r)[4:6])


def test_cost_by_bucket(page, report, make_report):
    _, doc = page
    sec = doc.by_id("buckets")
    split = [t for t in report["triples"] if t["cost_by_bucket"]]
    labels = [text_of(e) for e in doc.find("text", "bar-label", inside=sec)]
    assert len(labels) == len(split) == 38
    dearest = max(split, key=lambda t: sum(t["cost_by_bucket"].values()))
    assert labels[0].endswith(names(dearest))  # most expensive first (after its <title>)
    segs = doc.find("rect", "seg", inside=sec)
    assert {c for s in segs for c in s["attrs"]["class"].split() if c.startswith("s-")} == {
        "s-input", "s-cache_read", "s-cache_write_5m", "s-cache_write_1h", "s-output"}
    assert "2 triple(s) have no cost split by bucket" in text_of(sec)

    many = make_report()
    many["triples"] = [dict(t, model=f"{t['model']}-{i}") for i in range(2) for t in many["triples"]]
    sec = Doc(render_html(many)).by_id("buckets")
    assert "Showing the 40 most expensive of 76 triples" in text_of(sec)


def test_sessions_and_truncation(make_report):
    doc = Doc(render_html(make_report(n_sessions=6)))
    sec = doc.by_id("sessions")
    assert len(doc.find("div", "session", inside=sec)) == 6
    assert len(doc.find("svg", "spark", inside=sec)) == 5  # one session has an empty timeline
    assert "No timeline." in text_of(sec)
    assert "Showing the" not in text_of(sec)

    many = make_report(n_sessions=41)
    doc = Doc(render_html(many))
    sec = doc.by_id("sessions")
    cards = doc.find("div", "session", inside=sec)
    assert len(cards) == 30
    assert "Showing the 30 most expensive of 41 sessions." in text_of(sec)
    costs = sorted((s["cost_usd"] for s in many["sessions"] if s["cost_usd"] is not None), reverse=True)
    assert fmt.usd(costs[0]) in text_of(cards[0]) and fmt.usd(costs[29]) in text_of(cards[29])


def test_unpriced_warnings_problems(page, report):
    _, doc = page
    sec = text_of(doc.by_id("issues"))
    (u,) = report["unpriced"]
    assert u["model"] in sec and f"{u['tokens']['cache_read']:,}" in sec
    assert "never counted as $0" in sec
    for w in report["warnings"]:
        assert w["kind"] in sec and w["message"] in sec
    items = doc.find("li", inside=doc.find("ol", "problems")[0])
    assert len(items) == 50
    assert text_of(items[2]) == "/logs/claude-code/spotter/002.jsonl:34: unparseable JSON"
    assert text_of(items[0]) == "/logs/claude-code/spotter/000.jsonl: usage without a model"  # line None
    assert "Showing the first 50 of 73 problems." in sec


EMPTYISH = {
    "empty dict": {},
    "all None": {k: None for k in ("generated_at", "ledger", "inferaudit_version", "totals", "headline", "triples",
                                   "sessions", "unpriced", "warnings", "problems", "problem_count")},
    "empty lists": {"totals": {}, "headline": [], "triples": [], "sessions": [], "unpriced": [], "warnings": [],
                    "problems": [], "problem_count": 0},
    "None fields": {
        "totals": {k: None for k in ("input", "output", "cost_usd", "unpriced_tokens", "calls", "runs", "cache_hit_rate")},
        "headline": [{"benchmark": None, "within_points": None, "ratio": None, "cheap": None, "expensive": None,
                      "text": None}],
        "triples": [{k: None for k in ("model", "harness", "cache_policy", "benchmark", "runs", "resolved",
                                       "success_rate", "success_ci", "cost_per_run", "cost_per_run_median",
                                       "cost_per_success", "cost_usd", "tokens", "cost_by_bucket", "cache_hit_rate",
                                       "wall_time_s", "calls_per_run", "unpriced_tokens", "pareto", "dominated_by")}],
        "sessions": [{"id": None, "model": None, "harness": None, "tokens": None, "cost_usd": None, "start": None,
                      "end": None, "timeline": None}],
        "unpriced": [{"provider": None, "model": None, "calls": None, "tokens": None}],
        "warnings": [{"kind": None, "group": None, "message": None}],
        "problems": [{"file": None, "line": None, "reason": None}],
        "problem_count": None,
    },
    "junk": {
        "totals": {"cost_usd": "a lot", "runs": float("nan"), "calls": True, "cache_hit_rate": float("inf")},
        "headline": ["x", None],
        "triples": [None, "x", {"model": "m", "success_rate": 0.5, "cost_per_run": 0.0, "success_ci": [0.1],
                                "tokens": {"input": "many"}, "cost_by_bucket": {"input": None},
                                "dominated_by": [None, {"axis": "cost"}], "pareto": "yes"},
                    {"model": "n", "success_rate": 0.4, "cost_per_run": -1, "wall_time_s": 0}],
        "sessions": [{"id": 7, "timeline": [["not a time", 1], [None, None], ["2026-11-27T12:00:00Z", "x"],
                                            ["2026-11-27T12:00:00", 0.5]]}, "x"],
        "problems": [{"file": "f", "line": "12", "reason": 3}],
        "problem_count": "many",
    },
}


@pytest.mark.parametrize("data", list(EMPTYISH.values()), ids=list(EMPTYISH))
def test_renders_with_missing_values(data):
    html = render_html(copy.deepcopy(data))
    doc = Doc(html)
    for sid in SECTION_IDS:
        assert doc.by_id(sid)
    assert "None" not in "".join(doc.text)
    assert "nan" not in "".join(doc.text).lower().replace("nanos", "")


def test_single_point_and_equal_costs_plot():
    one = {"triples": [{"model": "a", "harness": "h", "cache_policy": "p", "benchmark": "b", "success_rate": 0.5,
                        "cost_per_run": 1.0, "wall_time_s": 60.0, "pareto": {"cost": True, "wall_time": True}}]}
    doc = Doc(render_html(one))
    assert len([p for p in doc.points() if "frontier" in p["attrs"]["class"]]) == 2  # cost and wall-time charts
    two = copy.deepcopy(one)
    two["triples"].append({**one["triples"][0], "model": "b", "success_rate": 0.5})
    doc = Doc(render_html(two))
    assert len(doc.points()) == 4


@pytest.mark.parametrize("value, text", [
    (None, "\u2014"), (0, "$0.00"), (1234.5, "$1,234.50"), (4.997, "$5.00"), (0.5312, "$0.531"),
    (0.05312, "$0.0531"), (0.001234, "$0.0012"), (0.00001, "<$0.0001"), (-2.5, "-$2.50"), (float("nan"), "\u2014"),
])
def test_usd(value, text):
    assert fmt.usd(value) == text


def test_other_formats():
    assert fmt.pct(0.724) == "72.4%" and fmt.pct(None) == "\u2014"
    assert fmt.ci([0.681, 0.763]) == "[68.1\u201376.3]" and fmt.ci(None) == "\u2014" and fmt.ci([0.1]) == "\u2014"
    assert fmt.compact(1_234_567) == "1.23M" and fmt.compact(950) == "950" and fmt.compact(12_300) == "12.3k"
    assert fmt.duration(42) == "42s" and fmt.duration(252) == "4m 12s" and fmt.duration(7500) == "2h 05m"
    assert fmt.duration_short(300) == "5m" and fmt.duration_short(5400) == "1h30m"
    assert fmt.when("2026-11-27T12:00:00+00:00") == "2026-11-27 12:00 UTC" and fmt.when("garbage") == "garbage"
