"""The log-privacy check itself: what it flags, and that it fails a leaking test."""

from __future__ import annotations

import log_privacy
import pytest
from log_privacy import PrivateData, Scan

DECOY = "+33939000001"  # a campaign's own number: public


@pytest.fixture
def private() -> PrivateData:
    data = PrivateData()
    data.remember({"From": "+33612345678", "Body": "on se voit ce soir ?"})
    return data


@pytest.mark.parametrize("text", [
    '{"sender":"+33612345678"}',
    "To=%2B33612345678&Body=x",
    "called by +14155550100",
    "key 33612345678 seen",  # a remembered sender, even without its '+'
    "body was: on se voit ce soir ?",
])
def test_clear_numbers_and_known_bodies_are_flagged(private, text):
    assert private.leaks(text)


@pytest.mark.parametrize("text", [
    '{"sender":"+33*******78"}',
    f"campaign fr answers on {DECOY}",
    '{"timestamp":1795424400,"correlation_id":"SM0000000000000000000000000000002a"}',
    "STOP",
])
def test_masked_numbers_public_decoys_and_plain_data_pass(private, text):
    assert private.leaks(text) == []


def test_report_never_repeats_the_clear_number(private):
    (hit,) = private.leaks("+33612345678")
    assert hit == "+33*******78"


def test_a_test_that_leaks_into_its_output_fails_and_a_clean_one_passes(pytester, monkeypatch,
                                                                        capsys):
    # A fresh registry for the inner run; it leaks digits and a body only the inner run knows.
    monkeypatch.setattr(log_privacy, "PRIVATE", PrivateData())
    monkeypatch.setattr(log_privacy, "SCAN", Scan())
    pytester.makeconftest(
        "from log_privacy import pytest_runtest_makereport, pytest_terminal_summary\n")
    pytester.makepyfile(test_inner="""
        import log_privacy

        def test_prints_a_body():
            log_privacy.remember({"From": "+33600000077", "Body": "un corps tres prive"})
            print("got: un corps tres prive")

        def test_prints_a_number_without_plus():
            print("sender 33600000077")

        def test_clean():
            print("nothing private here")
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*log privacy: captured output reveals private data*",
                                 "*message body 'un *",
                                 "*Captured stdout call: +33*******77*"])
    assert log_privacy.SCAN.failures == ["test_inner.py::test_prints_a_body",
                                         "test_inner.py::test_prints_a_number_without_plus"]
    capsys.readouterr()  # the inner run's deliberate leaks are not this test's output
