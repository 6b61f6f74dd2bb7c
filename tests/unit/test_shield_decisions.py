"""The shield's pure decisions: what a refused write means, and when a reply is due."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoy.settings import Limits
from decoy.shield import Decision, Verdict, classify

NOW = 1_795_424_400
SID = "SM" + "a" * 32


def limits(replies: int = 1, max_messages: int = 5) -> Limits:
    return Limits(max_messages_per_sender=max_messages, replies_per_sender=replies,
                  sender_window_seconds=86_400, daily_reply_budget=500,
                  reply_delay_seconds=3_600, opt_out_seconds=31_536_000)


def item(sids: list[str], window_ends: int = NOW + 60, reply_sids: list[str] = (),
         optout_until: int | None = None) -> dict:
    out = {"pk": {"S": "sender#k"}, "sids": {"L": [{"S": s} for s in sids]},
           "window_ends": {"N": str(window_ends)}}
    if reply_sids:
        out["reply_sids"] = {"SS": list(reply_sids)}
    if optout_until is not None:
        out["optout_until"] = {"N": str(optout_until)}
    return out


def other(n: int) -> str:
    return f"SM{n:032x}"


@pytest.mark.parametrize("old", [None, {}])
def test_no_item_seen_means_undecided(old):
    assert classify(old, SID, NOW) is None


def test_expired_window_counts_as_absent_even_before_ttl_deletes_it():
    assert classify(item([other(i) for i in range(5)], window_ends=NOW), SID, NOW) is None


def test_opted_out_sender_is_refused_until_the_opt_out_ends():
    decision = classify(item([], optout_until=NOW + 10), SID, NOW)
    assert decision == Decision(Verdict.OPTED_OUT, window_ends=NOW + 10)


def test_expired_opt_out_no_longer_refuses():
    assert classify(item([other(1)], window_ends=NOW - 1, optout_until=NOW), SID, NOW) is None


def test_known_sid_is_a_duplicate_at_its_original_position():
    decision = classify(item([other(1), SID, other(2)]), SID, NOW)
    assert decision == Decision(Verdict.DUPLICATE, position=2, window_ends=NOW + 60)


def test_duplicate_knows_whether_its_reply_was_already_reserved():
    assert classify(item([SID], reply_sids=[SID]), SID, NOW).reply_reserved
    assert not classify(item([SID], reply_sids=[other(9)]), SID, NOW).reply_reserved


def test_new_sid_refused_by_a_live_window_is_over_quota():
    decision = classify(item([other(i) for i in range(5)]), SID, NOW)
    assert decision.verdict is Verdict.OVER_QUOTA
    assert decision.position == 5


@given(st.lists(st.integers(0, 50), max_size=10, unique=True), st.integers(0, 50))
def test_a_live_window_classifies_every_sid_as_duplicate_or_over_quota(numbers, n):
    sids = [other(i) for i in numbers]
    decision = classify(item(sids), other(n), NOW)
    expected = Verdict.DUPLICATE if other(n) in sids else Verdict.OVER_QUOTA
    assert decision.verdict is expected


@pytest.mark.parametrize(("decision", "replies", "due"), [
    (Decision(Verdict.ACCEPTED, 1), 1, True),
    (Decision(Verdict.ACCEPTED, 2), 1, False),
    (Decision(Verdict.ACCEPTED, 2), 2, True),
    (Decision(Verdict.ACCEPTED, 1), 0, False),  # RepliesPerSenderPerWindow=0: count only
    (Decision(Verdict.DUPLICATE, 1), 1, True),  # a retry may still need its schedule
    (Decision(Verdict.DUPLICATE, 3), 1, False),
    (Decision(Verdict.OVER_QUOTA, 1), 1, False),
    (Decision(Verdict.OPTED_OUT, 1), 1, False),
    (Decision(Verdict.ACCEPTED, 0), 1, False),  # undecided position never replies
])
def test_reply_is_due_only_for_the_first_messages_of_a_window(decision, replies, due):
    assert decision.reply_due(limits(replies=replies)) is due
