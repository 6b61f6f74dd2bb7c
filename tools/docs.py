"""Figures and transcripts in the docs come from the commands: `make docs` refreshes them.

A generated block in a Markdown file:

    <!-- generated: SOURCE -->
    ```
    ...what SOURCE gives...
    ```
    <!-- end -->

A block written without the ``` fence (e.g. a Markdown table a command prints) is kept raw.
SOURCE is `file PATH` (a results file a bench or `make docs` wrote: bench/results/*.txt,
docs/transcripts/*.txt; `file PATH | grep TEXT` keeps the lines holding TEXT),
`python -m MODULE ARGS` (a cheap command, run with this interpreter)
or `template NAME` (a fact read from template.yaml, see FACTS below).

    python tools/docs.py            # run `make run` + `make demo` for the transcripts, refresh
    python tools/docs.py --check    # exit 1 naming each block that differs from its source
    python tools/docs.py --blocks   # refresh the blocks only (no transcripts)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TRANSCRIPTS = ROOT / "docs" / "transcripts"
BLOCK = re.compile(r"(<!-- generated: (?P<source>.+?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)
TIMEOUT = 120


def _access_log_fields() -> str:
    """The fields of the HTTP API's access log, as template.yaml formats them."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    match = re.search(r"AccessLogSettings:.*?Format: >-\n(.*?)\n\s*DefaultRouteSettings", text,
                      re.S)
    if match is None:
        raise SystemExit("template.yaml: no AccessLogSettings Format")
    fields = json.loads(" ".join(match.group(1).split()))
    return "\n".join(f"{name}: {value}" for name, value in fields.items())


FACTS: dict[str, Callable[[], str]] = {"access-log-fields": _access_log_fields}


def produce(source: str) -> str:
    """What a block's SOURCE gives now."""
    source, _, wanted = source.partition(" | grep ")
    kind, _, rest = source.partition(" ")
    if kind == "file":
        path = ROOT / rest.strip()
        if not path.exists():
            raise SystemExit(f"{rest}: no such results file (run the bench or `make docs`)")
        text = path.read_text(encoding="utf-8")
        if wanted:  # only the lines holding that text
            text = "".join(line for line in text.splitlines(True) if wanted in line)
        return text
    if kind == "template":
        return FACTS[rest.strip()]() + "\n"
    if kind == "python":
        argv = shlex.split(rest)
        # PYTHONPATH: the functions' shared package (python -m decoy.campaigns) and the tools.
        path = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
        out = subprocess.run([sys.executable, *argv], cwd=ROOT,  # noqa: S603
                             capture_output=True, text=True, timeout=TIMEOUT, check=False,
                             env={**os.environ, "PYTHONPATH": path})
        if out.returncode:
            raise SystemExit(f"{source}: exit {out.returncode}\n{out.stderr}")
        return out.stdout
    raise SystemExit(f"generated block with an unknown source: {source!r}")


def render(source: str, fence: str) -> str:
    return f"{fence}\n{produce(source).rstrip()}\n```\n"


def refresh(text: str) -> tuple[str, list[str]]:
    """The text with every block refreshed, and the sources whose block changed."""
    changed: list[str] = []

    def one(match: re.Match[str]) -> str:
        body = match.group("body")
        if body.startswith("```"):
            fresh = render(match.group("source"), body.split("\n", 1)[0])
        else:  # raw: a Markdown table or text, shown as the page's own
            fresh = produce(match.group("source")).rstrip() + "\n"
        if fresh != body:
            changed.append(match.group("source"))
        return match.group(1) + fresh + match.group(4)

    return BLOCK.sub(one, text), changed


def blocks(text: str) -> list[tuple[str, str]]:
    """(source, body) of every generated block."""
    return [(m.group("source"), m.group("body")) for m in BLOCK.finditer(text)]


# -- transcripts: a real `make run` and `make demo` -------------------------------------

def _abridge_console(lines: list[str]) -> list[str]:
    """The banner, the first webhooks, the first reply's outbox/sender/status, the stop."""
    banner = [line for line in lines if not re.match(r"\d\d:\d\d:\d\d  ", line)
              and not line.startswith(("stopping", "stopped"))]
    events = [line for line in lines if re.match(r"\d\d:\d\d:\d\d  ", line)]
    first_reply = next((i for i, line in enumerate(events) if " outbox " in line), len(events))
    shown = events[:4]
    if first_reply > 4:
        shown.append(f"  ... ({first_reply - 4} more webhooks)")
    shown += events[first_reply:first_reply + 3]
    if len(events) > first_reply + 3:
        shown.append(f"  ... ({len(events) - first_reply - 3} more lines)")
    tail = [line for line in lines if line.startswith(("stopping", "stopped"))]
    return banner + shown + [f"^C{tail[0]}" if tail else "^C", *tail[1:]]


def _normalized(text: str, urls: dict[str, str]) -> str:
    for real, shown in urls.items():
        text = text.replace(real, shown)
    return text


class _Stack:
    """`make run` on free ports, for the transcripts; stopped with Ctrl-C (SIGINT)."""

    def __init__(self, scratch: Path):
        self.python = str(ROOT / ".venv" / "bin" / "python")
        self.state = scratch / "state"
        self.console = scratch / "console.txt"

    def __enter__(self) -> _Stack:
        with self.console.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [self.python, "-m", "decoy_local.stack", "--port", "0", "--twilio-port", "0",
                 "--state-dir", str(self.state)], cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + TIMEOUT
        while "ready:" not in self.console.read_text() and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("make run exited:\n" + self.console.read_text())
            time.sleep(0.2)
        running = json.loads((self.state / "stack.json").read_text())
        # Shown as a newcomer sees them: the default ports and state directory.
        self.urls = {running["api_url"]: "http://127.0.0.1:3000",
                     running["twilio_url"]: "http://127.0.0.1:3001", str(self.state): ".local"}
        return self

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGINT)  # our own stack
        self.process.wait(timeout=30)

    def run(self, shown: str, *, ok: tuple[int, ...] = (0,)) -> str:
        """`$ shown` and what it printed; run with this stack's state file."""
        argv = shlex.split(shown)
        module = argv[2]
        state = ["--state", str(self.state / "stack.json")]
        if module == "decoy_local.simulator":
            argv = [self.python, "-m", module, *state, *argv[3:]]
        else:  # decoy_ops: --local STATE_FILE
            argv = [self.python, "-m", module, *argv[3:], str(self.state / "stack.json")]
        env = {**os.environ, "LC_ALL": "C.UTF-8"}  # English unless --lang: the same on any machine
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                             timeout=TIMEOUT, check=False, env=env)
        if out.returncode not in ok:
            raise SystemExit(f"{shown}: exit {out.returncode}\n{out.stdout}{out.stderr}")
        return f"$ {shown}\n" + _normalized(out.stdout + out.stderr, self.urls)


# Plain words by default (English, `--lang fr`); `--codes` is the engineer's view.
SIMULATOR = [".venv/bin/python -m decoy_local.simulator sms +33612345678 --count 7",
             ".venv/bin/python -m decoy_local.simulator sms 0612345678",
             ".venv/bin/python -m decoy_local.simulator call +33612345699 --lang fr",
             ".venv/bin/python -m decoy_local.simulator sms +33612345678 --forged",
             ".venv/bin/python -m decoy_local.simulator sms +33612345677 --body STOP",
             ".venv/bin/python -m decoy_local.simulator sms +33612345676 --count 7 --codes"]
OPS = [".venv/bin/python -m decoy_ops connect +33939000001 --apply --local",
       ".venv/bin/python -m decoy_ops stats --local",
       ".venv/bin/python -m decoy_ops stats --lang fr --local",
       ".venv/bin/python -m decoy_ops kill-switch on --local",
       ".venv/bin/python -m decoy_ops kill-switch status --lang fr --local"]

# A fresh local stack is "broken" as a first deploy is before `connect --apply`: preflight
# says what is left (exit 1), in English then French (`--lang fr`), then passes.
PREFLIGHT = [".venv/bin/python -m decoy_ops preflight --local",
             ".venv/bin/python -m decoy_ops preflight --lang fr --local",
             ".venv/bin/python -m decoy_ops connect --apply --local",
             ".venv/bin/python -m decoy_ops preflight --local"]


def transcripts() -> None:
    """Run the stack and the demo (then, on a fresh stack, the simulator's and the ops
    command's examples); write docs/transcripts/*.txt."""
    TRANSCRIPTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docs-") as scratch:
        with _Stack(Path(scratch)) as stack:
            demo = stack.run(".venv/bin/python -m decoy_local.simulator demo")
        lines = _normalized(stack.console.read_text(), stack.urls).splitlines()
        (TRANSCRIPTS / "make-run.txt").write_text(
            "\n".join(["$ make run", ".venv/bin/python -m decoy_local.stack",
                       *_abridge_console(lines)]) + "\n", encoding="utf-8")
        (TRANSCRIPTS / "make-demo.txt").write_text(
            demo.replace("$ .venv/bin/python -m decoy_local.simulator demo",
                         "$ make demo\n.venv/bin/python -m decoy_local.simulator demo", 1),
            encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="docs-") as scratch, _Stack(Path(scratch)) as stack:
        (TRANSCRIPTS / "simulator.txt").write_text(
            "".join(stack.run(command) for command in SIMULATOR), encoding="utf-8")
        (TRANSCRIPTS / "ops-local.txt").write_text(
            "".join(stack.run(command) for command in OPS), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="docs-") as scratch, _Stack(Path(scratch)) as stack:
        (TRANSCRIPTS / "preflight-local.txt").write_text("".join(
            stack.run(command, ok=(0, 1)) for command in PREFLIGHT), encoding="utf-8")
    print(f"wrote {TRANSCRIPTS.relative_to(ROOT)}/*.txt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    parser.add_argument("--blocks", action="store_true", help="refresh blocks only")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    if not args.check and not args.blocks:
        transcripts()
    if not args.check:
        sys.path.insert(0, str(ROOT))
        from decoy_ops.kit import render_docs_pages

        pngs = render_docs_pages()
        print(f"wrote {len(pngs)} kit pages in docs/kit/")
    drifted = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        fresh, changed = refresh(text)
        name = path.relative_to(ROOT)
        drifted += [f"{name}: {source}" for source in changed]
        if changed and not args.check:
            path.write_text(fresh, encoding="utf-8")
            print(f"{name}: refreshed {', '.join(changed)}")
    if args.check and drifted:
        print("\n".join(["generated blocks that differ from their source (`make docs`):",
                         *drifted]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
