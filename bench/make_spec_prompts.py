"""Rebuild the speculative-benchmark prompt data under src/inferaudit/speculative/prompts/.

Run once by hand (Python 3.11 standard library as the source of real text and code):

    .venv/bin/python bench/make_spec_prompts.py /work/shared/data/prompts

Copies MT-Bench first turns and HumanEval prompts from the shared data folder, and takes
module docstrings (the "context" class) and function sources (the "edit" class) from this
interpreter's standard library, so every prompt is real public text; SOURCES.md says where
each file comes from. The package never reads the shared folder at run time.
"""

from __future__ import annotations

import ast
import importlib
import json
import platform
import sys
import sysconfig
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "inferaudit" / "speculative" / "prompts"

# (module, questions): two questions per document, answerable from the document alone.
CONTEXT = [
    ("json", ["Which keyword argument of json.dumps gives the most compact encoding, and what value does the example pass?",
              "How does the document turn a JSON object with a \"__complex__\" key into a Python complex number? Show the code."]),
    ("csv", ["List every setting of a CSV dialect that the document describes, with its default where one is given.",
             "What are the four quoting constants, and what does each one mean?"]),
    ("statistics", ["Which functions does the document list for calculating averages? Give each with its description.",
                    "What does the document say the output of median_grouped([2, 2, 3, 3, 3, 4]) means?"]),
    ("shelve", ["Why does d[key].append(anitem) have no effect on a shelf, and what code does the document give instead?",
                "What are the costs of opening a shelf with writeback=True, according to the document?"]),
    ("timeit", ["List the command-line options of timeit with what each one does.",
                "How does timeit choose the number of loops when -n is not given?"]),
    ("uuid", ["Which UUID functions does the document recommend if all you want is a unique ID, and what privacy caveat does it give?",
              "Show the document's example that builds a UUID from a string of hex digits and prints it in standard form."]),
    ("argparse", ["Describe each public class of the argparse module as the document lists it.",
                  "Reproduce the usage example that sums integers from the command line."]),
    ("copy", ["What two problems do deep copy operations have that shallow copies do not, and how does Python's deep copy avoid them?",
              "Which types does this version of the copy module not copy?"]),
    ("cmd", ["List the conventions that interpreters built with the cmd class obey.",
             "Which data members set the headers of the help listings, and what does each one set?"]),
    ("heapq", ["Write out the usage summary of the heap functions from the document, one line per function.",
               "How does this heap API differ from textbook heap algorithms?"]),
]

# (file in Lib/, function, instruction): edits whose answer mostly copies the function.
EDITS = [
    ("textwrap.py", "indent", "Rename the parameter `predicate` to `should_indent` everywhere."),
    ("shlex.py", "quote", "Add type hints: the argument is a str and the function returns a str."),
    ("shlex.py", "split", "Rename the variable `lex` to `lexer` everywhere."),
    ("string.py", "capwords", "Rename the parameter `sep` to `separator` everywhere, including the docstring."),
    ("statistics.py", "median", "Rename the parameter `data` to `values` everywhere, including the docstring."),
    ("statistics.py", "median_low", "Rename the variable `n` to `count` everywhere."),
    ("statistics.py", "mode", "Rename the variable `pairs` to `most_common` everywhere."),
    ("heapq.py", "_siftdown", "Add a short docstring that explains what the function does."),
    ("heapq.py", "_siftup", "Add a short docstring that explains what the function does."),
    ("heapq.py", "heapify", "Rename the parameter `x` to `items` everywhere."),
    ("bisect.py", "insort_right", "Rename the parameters `lo` to `low` and `hi` to `high` everywhere."),
    ("posixpath.py", "splitext", "Add a docstring saying that it splits a path into root and extension."),
    ("genericpath.py", "commonprefix", "Rename the parameter `m` to `paths` everywhere."),
    ("genericpath.py", "_splitext", "Rename the variable `sepIndex` to `sep_index` everywhere."),
    ("shutil.py", "copyfileobj", "Rename the variable `fsrc_read` to `read_chunk` and `fdst_write` to `write_chunk` everywhere."),
    ("calendar.py", "monthrange", "Add type hints: year and month are int, and it returns a tuple of two ints."),
    ("colorsys.py", "rgb_to_hls", "Add a docstring that says it converts RGB to HLS and that all values are between 0 and 1."),
    ("colorsys.py", "hls_to_rgb", "Add type hints: every argument is a float and it returns a tuple of three floats."),
    ("colorsys.py", "rgb_to_hsv", "Rename `maxc` to `max_component` and `minc` to `min_component` everywhere."),
    ("html/__init__.py", "escape", "Rename the parameter `s` to `text` everywhere, including the docstring."),
    ("glob.py", "has_magic", "Add a docstring saying that it tells whether a pattern contains glob wildcards."),
    ("base64.py", "b64encode", "Rename the variable `encoded` to `result` everywhere."),
    ("fnmatch.py", "filter", "Rename the variable `result` to `matches` everywhere."),
    ("functools.py", "cmp_to_key", "Rename the inner class `K` to `KeyWrapper` everywhere."),
]


def function_source(lib: Path, file: str, name: str) -> str:
    source = (lib / file).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node, padded=True)
    raise SystemExit(f"{file}: no module-level function {name}")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    print(f"{path}: {len(rows)} rows")


def main(shared: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    version = platform.python_version()
    mt = [json.loads(line) for line in (shared / "mt_bench_questions.jsonl").read_text().splitlines() if line.strip()]
    write_jsonl(OUT / "mt_bench.jsonl", [
        {"question_id": q["question_id"], "category": q["category"], "turn": q["turns"][0]} for q in mt])
    he = [json.loads(line) for line in (shared / "humaneval.jsonl").read_text().splitlines() if line.strip()]
    write_jsonl(OUT / "humaneval.jsonl", [
        {"task_id": t["task_id"], "entry_point": t["entry_point"], "prompt": t["prompt"]} for t in he])
    docs = []
    for module, questions in CONTEXT:
        text = importlib.import_module(module).__doc__.strip("\n")
        docs.append({"module": module, "source": f"CPython {version} Lib/{module} module docstring",
                     "document": text, "questions": questions})
    write_jsonl(OUT / "stdlib_docs.jsonl", docs)
    lib = Path(sysconfig.get_paths()["stdlib"])
    edits = []
    for file, name, instruction in EDITS:
        code = function_source(lib, file, name)
        for old in [w.strip("`") for w in instruction.split() if w.startswith("`")][::2]:
            assert old in code, f"{file}:{name} has no {old}"
        edits.append({"file": f"Lib/{file}", "function": name, "source": f"CPython {version} Lib/{file}",
                      "instruction": instruction, "code": code})
    write_jsonl(OUT / "stdlib_edits.jsonl", edits)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
