"""Each function's artifact, assembled from its own requirements file over the Lambda runtime's
libraries and pruned by functions/Makefile, still imports its handler and runs its twilio path."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

FUNCTIONS = ROOT / "functions"
# What the Lambda python3.13 runtime provides: never shipped, always importable there.
LAMBDA_RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six",
                  "urllib3")
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)")

RECEIVER_CHECK = """
from receiver import app  # the receiver's handler module, as Lambda imports it
from twilio.request_validator import RequestValidator
assert app.lambda_handler
params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
          "From": "+14158675309", "To": "+18005551212"}
assert RequestValidator("12345").validate("https://mycompany.com/myapp.php?foo=1&bar=2", params,
                                          "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
try:
    import twilio.rest
except ImportError:
    print("ok")
"""

SENDER_CHECK = """
from sender import app  # the sender's handler module, as Lambda imports it
from decoy.outbound import twilio_client
from twilio.base.exceptions import TwilioRestException  # what outbound catches
client = twilio_client("AC" + "0" * 32, "token", "http://127.0.0.1:PORT")
try:
    client.messages.create(to="+33612345678", from_="+33939000001", body="test")
except OSError:  # requests reached the socket: the whole HTTP stack is in the artifact
    print("ok")
"""


def pins(function: str) -> dict[str, str]:
    lines = (FUNCTIONS / function / "requirements.txt").read_text().splitlines()
    return dict(m.groups() for line in lines if (m := PIN.match(line.strip())))


def link_distribution(name: str, site: Path) -> None:
    """Mirror an installed distribution into `site`: real directories, symlinked files."""
    for file in metadata.distribution(name).files or []:
        if file.parts[0] == ".." or file.suffix == ".pyc":
            continue
        dest = site / file
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(Path(file.locate()).resolve())


def run_in_artifact(function: str, site: Path, code: str) -> str:
    """Run `code` in an interpreter that sees only the stdlib, the artifact and the runtime."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = os.pathsep.join([str(FUNCTIONS), str(site)])  # the task root's layout
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=FUNCTIONS,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip()


@pytest.mark.parametrize(("function", "check"), [("receiver", RECEIVER_CHECK),
                                                 ("sender", SENDER_CHECK)])
def test_function_artifact_holds_exactly_what_its_handler_needs(function, check, tmp_path):
    site = tmp_path / "site"
    for name, version in pins(function).items():
        assert metadata.version(name) == version, f"dev venv has another {name} than shipped"
        link_distribution(name, site)
    for name in LAMBDA_RUNTIME:
        link_distribution(name, site)
    prune = ["make", "--no-print-directory", "-C", str(FUNCTIONS), f"prune-twilio-{function}",
             f"DIR={site}"]
    subprocess.run(prune, check=True, capture_output=True)

    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = str(closed.getsockname()[1])
        assert run_in_artifact(function, site, check.replace("PORT", port)) == "ok"


def test_shipped_bytecode_checks_our_sources_and_trusts_the_pinned_libraries(tmp_path):
    # PEP 552 flags: 3 = checked hash (an edited .py in the Lambda console still wins),
    # 1 = unchecked hash (the import skips reading and hashing the library's source).
    for name in ("decoy/campaigns.py", "receiver/app.py", "somelib/core.py", "single.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("X = 1\n")
    (tmp_path / "bin").mkdir()
    subprocess.run(["make", "--no-print-directory", "-C", str(FUNCTIONS), "finish",  # noqa: S607
                    f"DIR={tmp_path}", f"PYTHON_LAMBDA={sys.executable}"],
                   check=True, capture_output=True)
    tag = sys.implementation.cache_tag

    def flags(module: str) -> int:
        folder, _, stem = module.rpartition("/")
        pyc = tmp_path / folder / "__pycache__" / f"{stem}.{tag}.pyc"
        return int.from_bytes(pyc.read_bytes()[4:8], "little")

    assert [flags(m) for m in ("decoy/campaigns", "receiver/app")] == [3, 3]
    assert [flags(m) for m in ("somelib/core", "single")] == [1, 1]
    assert not (tmp_path / "bin").exists()
