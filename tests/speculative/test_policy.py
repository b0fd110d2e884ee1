"""Draft policies (fixed, adaptive, cost-aware) and the n-gram drafter's index and match lengths."""

from __future__ import annotations

import random

import pytest

from inferaudit.speculative.drafters import Draft, NGramDrafter
from inferaudit.speculative.policy import CostAwareK, KPolicy, VerifyCost


def lookup_by_scan(context: list[int], k: int, longest: int, shortest: int) -> tuple[list[int], int]:
    """The definition: the longest suffix n-gram (longest..shortest) seen earlier, its latest occurrence, what followed."""
    size = len(context)
    for n in range(min(longest, size - 1), shortest - 1, -1):
        for start in range(size - n - 1, -1, -1):
            if context[start:start + n] == context[size - n:]:
                return context[start + n:start + n + k], n
    return [], 0


def test_the_indexed_ngram_drafter_proposes_what_a_full_scan_finds():
    rng = random.Random(7)
    for _ in range(400):
        longest = rng.randint(1, 8)
        shortest = rng.randint(1, longest)
        vocab = rng.choice([2, 3, 5, 30])
        drafter = NGramDrafter(longest, shortest, max_candidates=10_000, anchor=rng.randint(1, 8))
        context = [rng.randrange(vocab) for _ in range(rng.randint(0, 6))]
        drafter.reset(list(context))
        for _ in range(25):
            k = rng.randint(1, 6)
            draft = drafter.propose(context, k, 0.0)
            tokens, match = lookup_by_scan(context, k, longest, shortest)
            assert (draft.tokens, draft.match if tokens else 0) == (tokens, match), (longest, shortest, drafter.anchor, context, k)
            context.extend(rng.randrange(vocab) for _ in range(rng.randint(1, 3)))  # the context only grows


def test_the_ngram_index_starts_over_for_another_sequence():
    drafter = NGramDrafter(4, 2)
    first = [1, 2, 3, 9, 1, 2]
    assert drafter.propose(first, 2, 0.0).tokens == [3, 9]
    other = [5, 6, 7, 5, 6]  # no reset between them: the drafter notices the context is not the one it indexed
    assert drafter.propose(other, 3, 0.0) == Draft([7, 5, 6], match=2)
    assert drafter.propose([8, 8, 8], 1, 0.0) == Draft([8], match=2)


def test_a_long_match_is_reported_up_to_max_ngram():
    text = list(range(40))
    context = text + [99] + text[:30]  # the last 30 tokens repeat the start
    assert NGramDrafter(32, 3).propose(context, 4, 0.0) == Draft([30, 31, 32, 33], match=30)
    assert NGramDrafter(8, 3).propose(context, 4, 0.0).match == 8


def test_only_the_latest_candidates_are_compared():
    # [1, 2] occurs often; the long match is the oldest occurrence, beyond a cap of 2 candidates
    context = [7, 7, 7, 1, 2, 50] + [3, 1, 2, 60] * 4 + [7, 7, 7, 1, 2]
    assert NGramDrafter(8, 2, anchor=2).propose(context, 1, 0.0) == Draft([50], match=5)
    assert NGramDrafter(8, 2, max_candidates=2, anchor=2).propose(context, 1, 0.0) == Draft([60], match=2)


def test_the_anchor_index_finds_a_long_match_behind_frequent_short_ones():
    # the same context: the suffix's 3-gram [7, 1, 2] is rare, so a 3-gram index reaches the old long match
    context = [7, 7, 7, 1, 2, 50] + [3, 1, 2, 60] * 4 + [7, 7, 7, 1, 2]
    assert NGramDrafter(8, 1, max_candidates=2).propose(context, 1, 0.0) == Draft([50], match=5)


def test_short_matches_are_drafted_only_when_no_long_one_exists():
    drafter = NGramDrafter(8, 1)
    assert drafter.propose([5, 9, 6, 9], 2, 0.0) == Draft([6, 9], match=1)  # only the 1-token match [9]
    assert drafter.propose([5, 9, 6, 9, 4, 2, 6, 9], 1, 0.0) == Draft([4], match=2)  # [6, 9] beats [9]
    assert NGramDrafter(8, 3).propose([5, 9, 6, 9], 2, 0.0) == Draft([])  # nothing reaches 3 tokens


def test_ngram_sizes_are_checked():
    with pytest.raises(ValueError, match="min_ngram <= max_ngram"):
        NGramDrafter(2, 3)


def test_kpolicy_keeps_the_whole_draft_within_budget():
    draft = Draft([1, 2, 3, 4, 5])
    assert KPolicy(k=3).keep(draft, 3) == 3
    assert KPolicy(k=8).keep(draft, 8) == 5
    assert KPolicy(k=2, adaptive=True).next(2, 2, 2, draft) == 3
    assert KPolicy(k=4, adaptive=True).next(4, 4, 1, draft) == 2


CHEAP = [1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4]  # an extra verified token costs 0.05 of a step
DEAR = [1.0, 1.85, 2.45, 3.11, 3.71, 4.39, 4.96, 5.63, 6.31]  # Q4_1 on 2 CPU cores (bench/spec_verify_cost.py)


def test_cheap_verification_keeps_whole_drafts():
    policy = CostAwareK(CHEAP)
    assert policy.k == 8
    assert policy.keep(Draft(list(range(8)), match=3), 8) == 8
    assert policy.keep(Draft(list(range(3)), match=3), 8) == 3
    assert policy.keep(Draft([]), 8) == 0


def test_dear_verification_learns_which_matches_pay():
    policy = CostAwareK(DEAR, explore_every=10)
    short, long = Draft(list(range(8)), match=3), Draft(list(range(8)), match=40)
    # the optimistic prior tries both at first (the cost curve makes 4 the best length to try)
    assert policy.keep(short, 8) == 4 and policy.keep(long, 8) == 4
    for _ in range(20):
        policy.next(8, 8, 0, short)  # short matches: the first token rejected
        policy.next(8, 8, 8, long)  # long matches: all kept
    assert policy.keep(long, 8) == 8
    decisions = [policy.keep(short, 8) for _ in range(30)]
    assert decisions.count(0) == 27  # declined: a plain step is cheaper per token ...
    assert all(d > 0 for i, d in enumerate(decisions, start=1) if i % 10 == 0)  # ... but retried every 10th time
    assert policy.acceptance(policy.bucket(3))[:2] == pytest.approx([0.95 * 2 / 22, 0.95])  # position 2: never tested
    rows = {row["match"]: row for row in policy.summary()}
    assert rows["3"]["verified"] == 20 and rows["3"]["declined"] == 27 and rows["32+"]["verified"] == 20


def test_the_policy_keeps_the_prefix_with_most_tokens_per_cost():
    policy = CostAwareK([1.0, 1.3, 1.6, 1.9, 2.2])
    for _ in range(50):
        policy.next(4, 4, 4, Draft([0] * 4, match=8))
    assert policy.keep(Draft([0] * 4, match=8), 4) == 4  # all kept: 5 tokens for 2.2 beats 3 for 1.6
    for _ in range(200):
        policy.next(4, 4, 2, Draft([0] * 4, match=5))  # the third token rejected every time
    assert policy.keep(Draft([0] * 4, match=5), 4) == 2  # positions 3 and 4 never survive: 3 tokens for 1.6


def test_a_request_whose_drafts_fail_stops_verifying_them_until_the_next_request():
    long = Draft(list(range(8)), match=40)
    policies = {"per request": CostAwareK(DEAR), "traffic only": CostAwareK(DEAR, request_weight=None)}
    for policy in policies.values():
        for _ in range(100):  # earlier requests: drafts after long matches always right
            policy.begin()
            policy.next(8, 8, 8, long)
        policy.begin()  # this request copies nothing
        assert policy.keep(long, 8) == 8
        for _ in range(6):
            policy.next(8, 8, 0, long)
    per_request, traffic_only = policies.values()
    assert per_request.request_factor() == pytest.approx(0.46, abs=0.01) and traffic_only.request_factor() == 1.0
    assert per_request.keep(long, 8) == 0  # this request's record outweighs the traffic's
    assert traffic_only.keep(long, 8) == 8  # the traffic's estimate alone (0.94) still says verify all 8
    per_request.begin()
    assert per_request.keep(long, 8) == 8  # the next request starts from the traffic's estimate again


def test_declined_drafts_are_judged_by_the_plain_step_so_a_request_that_starts_copying_drafts_again():
    policy = CostAwareK(DEAR)
    long = Draft(list(range(8)), match=40)
    for _ in range(100):
        policy.begin()
        policy.next(8, 8, 8, long)
    policy.begin()
    for _ in range(6):
        policy.next(8, 8, 0, long)
    assert policy.keep(long, 8) == 0
    policy.next(8, 0, 0, long, [99])  # declined, and the plain step gave another token: it would have failed
    assert policy.keep(long, 8) == 0
    for _ in range(3):  # declined, but the plain step gave the draft's first token: it would have been right
        policy.next(8, 0, 0, long, [0])
    assert policy.keep(long, 8) > 0
    assert policy.summary()[-1]["verified"] == 106  # the declined drafts were not verified, and not counted so


@pytest.mark.parametrize("bad", [{"verify_cost": [1.0]}, {"verify_cost": [0.0, 1.0]}, {"verify_cost": CHEAP, "k_max": 0},
                                 {"verify_cost": CHEAP, "prior": 1.0}, {"verify_cost": CHEAP, "explore_every": 0},
                                 {"verify_cost": CHEAP, "request_weight": 0.0}, {"verify_cost": CHEAP, "request_decay": 0.0}])
def test_cost_aware_arguments_are_checked(bad):
    with pytest.raises(ValueError):
        CostAwareK(**bad)


def test_verify_costs_are_relative_to_one_token_and_cap_k():
    policy = CostAwareK([7.0, 14.0, 21.0], k_max=8)
    assert policy.verify_cost.at(0) == [1.0, 2.0, 3.0] and policy.k == 2
    assert policy.verify_cost.at(5000) == [1.0, 2.0, 3.0]  # one curve: the same after any context


def test_a_noisy_verify_cost_that_dips_is_read_as_never_falling():
    policy = CostAwareK([10.0, 17.5, 7.0, 6.5, 18.0], k_max=8)  # v(3) < v(2), even < 1: timing noise, not a discount
    assert policy.verify_cost.at(0) == [1.0, 1.75, 1.75, 1.75, 1.8]


class _ClockedBackend:
    """A backend double on a fake clock: a feed of n tokens after ``cached`` ones takes ``seconds(n, cached)``."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds, self.cached = clock, seconds, 0

    def reset(self):
        self.cached = 0

    def feed(self, tokens, logits_from=0):
        self.clock[0] += self.seconds(len(tokens), self.cached)
        self.cached += len(tokens)

    def trim(self, keep):
        self.cached = keep


def _load_tripling_at_each_repetition():
    """n units times a load that triples at every one-token feed (the start of each repetition), as when
    other processes start beside a server."""
    load = [1.0]

    def seconds(n, cached):
        if n == 1:
            load[0] *= 3
        return n * load[0]
    return seconds


def test_the_verify_cost_is_measured_so_that_a_load_change_falls_on_every_n_alike(monkeypatch):
    import inferaudit.speculative.policy as policy

    clock = [0.0]
    monkeypatch.setattr(policy.time, "perf_counter", lambda: clock[0])
    v = policy.measure_verify_cost(_ClockedBackend(clock, _load_tripling_at_each_repetition()), list(range(20)),
                                   n_max=5, reps=5)
    assert v.lengths == (20,) and v.at(20) == [1.0, 2.0, 3.0, 4.0, 5.0]


# after 128 tokens a pass over 3 tokens costs 1.4 steps of 10 ms; after 1,152 tokens 2.0 steps of 20 ms
TWO_LENGTHS = VerifyCost((128, 1152), (0.010, 0.020), ((1.0, 1.2, 1.4), (1.0, 1.5, 2.0)))


def test_the_verify_cost_between_and_beyond_measured_contexts_is_linear_in_seconds():
    assert TWO_LENGTHS.at(128) == [1.0, 1.2, 1.4] and TWO_LENGTHS.at(1152) == pytest.approx([1.0, 1.5, 2.0])
    assert TWO_LENGTHS.at(0) == TWO_LENGTHS.at(128)  # below the shortest measured context: that one's costs
    # halfway (640 tokens): T(1) = 15 ms, T(2) = (12 + 30) / 2 = 21 ms, T(3) = (14 + 40) / 2 = 27 ms
    assert TWO_LENGTHS.at(640) == pytest.approx([1.0, 1.4, 1.8])
    assert TWO_LENGTHS.at(650) == TWO_LENGTHS.at(640)  # positions within one grain of 32 share their costs
    # one span further (2,176 tokens): T(1) = 30 ms, T(2) = 48 ms, T(3) = 66 ms
    assert TWO_LENGTHS.at(2176) == pytest.approx([1.0, 1.6, 2.2])
    assert TWO_LENGTHS.describe().startswith("after 128 tokens (10.0 ms a step): 1:1.00 2:1.20 3:1.40; after 1152")


def test_a_pass_never_gets_cheaper_in_seconds_after_a_longer_context():
    # a noisy far timing: T(3) after 1,152 tokens (20 ms) below T(3) after 128 (28 ms)
    noisy = VerifyCost((128, 1152), (0.010, 0.010), ((1.0, 2.0, 2.8), (1.0, 1.5, 2.0)))
    assert noisy.at(5000) == pytest.approx([1.0, 2.0, 2.8])


@pytest.mark.parametrize("bad", [((), (), ()), ((1, 2), (0.1,), ((1.0, 2.0),)), ((2, 1), (0.1, 0.1), ((1.0, 2.0),) * 2),
                                 ((1,), (0.0,), ((1.0, 2.0),)), ((1,), (0.1,), ((1.0,),)),
                                 ((1, 2), (0.1, 0.1), ((1.0, 2.0), (1.0, 2.0, 3.0)))])
def test_verify_cost_arguments_are_checked(bad):
    with pytest.raises(ValueError):
        VerifyCost(*bad)


def test_a_draft_worth_verifying_early_in_a_sequence_is_declined_after_a_long_context():
    policy = CostAwareK(VerifyCost((100, 1100), (0.010, 0.020), ((1.0, 1.05, 1.1), (1.0, 2.5, 3.5))))
    draft = Draft([1, 2], match=8)
    assert policy.keep(draft, 2, position=100) == 2  # prior acceptance 0.95: 2.9 tokens for 1.1 steps
    assert policy.keep(draft, 2, position=1100) == 0  # 2.9 tokens for 3.5 steps: a plain step is cheaper
    assert policy.keep(draft, 2) == 2  # no position given: the start of a sequence


def test_the_verify_cost_is_measured_after_the_prompt_and_after_the_prompt_repeated_to_a_long_context(monkeypatch):
    from inferaudit.speculative import policy

    clock = [0.0]
    monkeypatch.setattr(policy.time, "perf_counter", lambda: clock[0])
    attending = _ClockedBackend(clock, lambda n, cached: n * (1 + cached / 100))  # attention: n x context
    v = policy.measure_verify_cost(attending, list(range(20)), n_max=4, reps=3, long=120)
    assert v.lengths == (20, 120) and v.steps == pytest.approx((1.2, 2.2))
    assert v.ratios == (pytest.approx((1.0, 2.0, 3.0, 4.0)),) * 2
