"""Explanations: per-feature contributions that add up, and the top reasons in plain words.

:func:`explain` returns one row per resident with

* ``score`` and ``tier``;
* the contribution columns ``contrib_<feature>`` (and, for the learned scorer, ``baseline``;
  for the rule scorer, ``rule``, ``rules_fired``, ``contrib_tier`` and ``contrib_tie_break``);
* ``reasons_ko`` and ``reasons_en``: lists of up to ``top`` phrases rendered from the raw
  feature values, most important first, e.g. ``"혼자 사는 84세"`` / ``"lives alone, 84"``.

What adds up to what (``frame.attrs["adds_up_to"]``):

* weighted index, ``"score"``: the ``contrib_*`` columns sum to ``score``;
* rules, ``"score"``: ``contrib_tier + contrib_tie_break == score``; ``rule`` is the rule
  that set the tier and the reasons are that rule's conditions;
* learned scorer, ``"log-odds"``: ``baseline + sum(contrib_*) == logit(score)``, where
  ``baseline`` is the calibrated log-odds of a resident at the training means; a positive
  contribution raises the risk above that resident's.

Reasons come from the features with the largest positive contributions; related features
are said once (lives alone with the age, the 6- and 12-month counts of a signal kind).
Signal kinds use the labels of :data:`visitmap.vocab.CRISIS_SIGNAL_KINDS`.

A reason never states more days than the records behind it. The days since the last met
visit (or contact) of a resident with none on record count from the registration, which may
be decades old: such a reason reads "방문 기록 없음" / "no visit on record" ("연락 기록
없음" / "no contact on record"), when the caller says so (``never_met``,
``never_contacted``) or when the number is longer than the visit records' span
(``records_days``: no recorded visit can be older). Days overdue read in the bands of
:func:`visitmap.vocab.overdue_words` past two weeks ("방문 예정일 3개월 이상 지남").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from visitmap.vocab import CRISIS_SIGNAL_KINDS, overdue_words

_WINDOWS = ("12m", "6m")  # preferred first


def explain(
    scorer, X, *, top: int = 3, never_met=None, records_days: float | None = None
) -> pd.DataFrame:
    """Contributions and the top reasons for each row of X under a fitted scorer.

    Parameters
    ----------
    scorer : WeightedIndexScorer, RuleScorer or LearnedScorer
        Fitted.
    X : DataFrame or array of shape (n_residents, n_features)
        The feature table.
    top : int, default=3
        Most reasons per resident.
    never_met : array-like of bool, optional
        Per row: no met visit on record (its days since the last met visit say "방문 기록
        없음").
    records_days : float, optional
        Days the visit records span up to the features' day: longer day counts cannot come
        from a recorded visit and say "no ... on record" too.

    Returns
    -------
    DataFrame
        Indexed like X (a RangeIndex for arrays); see the module doc for the columns.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ValueError(f"top must be a non-negative integer, got {top!r}")
    parts = scorer._explanation_parts(X)
    names = list(parts.raw.columns)
    position = {name: j for j, name in enumerate(names)}
    values = parts.raw.to_numpy(dtype=float)
    unmet = np.zeros(len(values), dtype=bool) if never_met is None else np.asarray(never_met)
    reasons_ko, reasons_en = [], []
    for i, features in enumerate(parts.reason_features):
        row = values[i]

        def value_of(name: str, row=row) -> float | None:
            j = position.get(name)
            return None if j is None else float(row[j])

        records = _Records(bool(unmet[i]), False, records_days)
        ko, en = _reasons(features, value_of, top=top, records=records)
        reasons_ko.append(ko)
        reasons_en.append(en)
    frame = pd.DataFrame(
        {"score": parts.score, "tier": parts.tier, **parts.columns}, index=parts.index
    )
    frame["reasons_ko"] = reasons_ko
    frame["reasons_en"] = reasons_en
    frame.attrs["adds_up_to"] = parts.adds_up_to
    return frame


class _Records(NamedTuple):
    """What the records behind a resident's reasons hold (see the module doc)."""

    never_met: bool = False
    never_contacted: bool = False
    days: float | None = None

    def none_since(self, value: float, never: bool) -> bool:
        """Whether a count of days since a visit means there is no such visit on record."""
        return never or (self.days is not None and value > self.days)


#: Nothing said about the records: every count of days is worded as it is.
_NO_RECORDS_GIVEN = _Records()


def reasons(
    features: Sequence[str],
    row: Mapping[str, float],
    *,
    top: int = 3,
    never_met: bool = False,
    never_contacted: bool = False,
    records_days: float | None = None,
) -> tuple[list[str], list[str]]:
    """Korean and English phrases for ``features`` (most important first), from raw values.

    Parameters
    ----------
    features : sequence of str
        Feature names in order of importance.
    row : mapping
        Raw feature values by name (units of :mod:`scoring.features`).
    top : int, default=3
        Most phrases returned.
    never_met, never_contacted : bool, default=False
        The resident has no met visit (no visit that reached them) on record: the days
        since then read "방문 기록 없음" ("연락 기록 없음") instead of a number.
    records_days : float, optional
        Days the visit records span: a longer count of days since a visit cannot come from
        a recorded visit and reads the same way.

    Examples
    --------
    >>> reasons(["signals_electricity_arrears_12m"], {"signals_electricity_arrears_12m": 2})
    (['전기요금 2회 체납'], ['electricity arrears twice'])
    """

    def value_of(name: str) -> float | None:
        value = row.get(name)
        return None if value is None else float(value)

    records = _Records(bool(never_met), bool(never_contacted), records_days)
    return _reasons(features, value_of, top=top, records=records)


def _reasons(
    features,
    value_of: Callable[[str], float | None],
    *,
    top: int,
    records: _Records = _NO_RECORDS_GIVEN,
):
    seen, ko, en = set(), [], []
    for feature in features:
        if len(ko) >= top:
            break
        group = _group(feature)
        if group in seen:
            continue
        seen.add(group)
        phrase = _phrase(group, feature, value_of, records)
        if phrase is not None and phrase[0] not in ko:  # e.g. "방문 기록 없음" said once
            ko.append(phrase[0])
            en.append(phrase[1])
    return ko, en


def _group(feature: str) -> str:
    if feature in ("lives_alone", "age_years"):
        return "person"
    if feature in ("crisis_signals_6m", "crisis_signals_12m"):
        return "signals:all"
    for kind in CRISIS_SIGNAL_KINDS:
        if feature in (f"signals_{kind}_6m", f"signals_{kind}_12m"):
            return f"signals:{kind}"
    return feature


def _whole(value: float) -> int:
    return int(round(value))


def _times_en(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _days_en(days: int) -> str:
    return f"{days:,} day" if days == 1 else f"{days:,} days"


def _distance(metres: float) -> tuple[str, str]:
    if metres >= 1000:
        return f"{metres / 1000:.1f}km", f"{metres / 1000:.1f} km"
    return f"{_whole(metres)}m", f"{_whole(metres)} m"


def _signal_phrase(kind: str, value_of) -> tuple[str, str] | None:
    label_ko, label_en = CRISIS_SIGNAL_KINDS[kind]
    label_en = label_en[0].lower() + label_en[1:]
    for window in _WINDOWS:
        value = value_of(f"signals_{kind}_{window}")
        if value is None:
            continue
        count = _whole(value)
        prefix_ko = "" if window == "12m" else "최근 6개월 "
        suffix_en = "" if window == "12m" else " in 6 months"
        if count <= 0:
            return f"{prefix_ko}{label_ko} 없음", f"no {label_en}{suffix_en}"
        head, _, tail = label_ko.rpartition(" ")
        ko = f"{head} {count}회 {tail}" if head else f"{label_ko} {count}회"
        return f"{prefix_ko}{ko}", f"{label_en} {_times_en(count)}{suffix_en}"
    return None


def _phrase(
    group: str, feature: str, value_of, records: _Records = _NO_RECORDS_GIVEN
) -> tuple[str, str] | None:
    """(Korean, English) for a group of features, or None when its values are missing."""
    if group.startswith("signals:") and group != "signals:all":
        return _signal_phrase(group.removeprefix("signals:"), value_of)
    if group == "signals:all":
        for window, months in (("12m", 12), ("6m", 6)):
            value = value_of(f"crisis_signals_{window}")
            if value is not None:
                count = _whole(value)
                if count <= 0:
                    return (
                        f"최근 {months}개월 위기 신호 없음",
                        f"no crisis signals in {months} months",
                    )
                plural = "signal" if count == 1 else "signals"
                return (
                    f"최근 {months}개월 위기 신호 {count}건",
                    f"{count} crisis {plural} in {months} months",
                )
        return None

    value = value_of(feature)
    if value is None or not math.isfinite(value):
        return None
    if group == "person":
        alone, age = value_of("lives_alone"), value_of("age_years")
        if alone is not None and alone >= 1:
            if age is None:
                return "혼자 삶", "lives alone"
            return f"혼자 사는 {_whole(age)}세", f"lives alone, {_whole(age)}"
        if feature == "age_years":
            return f"{_whole(value)}세", f"aged {_whole(value)}"
        return "혼자 살지 않음", "does not live alone"
    if feature in ("days_since_met_visit", "days_overdue"):
        since_met = value_of("days_since_met_visit")
        if since_met is not None and records.none_since(since_met, records.never_met):
            return "방문 기록 없음", "no visit on record"
    if feature == "days_since_met_visit":
        days = _whole(value)
        return f"{days:,}일 동안 방문 없음", f"not visited for {_days_en(days)}"
    if feature == "days_since_last_contact":
        if records.none_since(value, records.never_contacted):
            return "연락 기록 없음", "no contact on record"
        days = _whole(value)
        return f"{days:,}일 동안 연락 안 됨", f"not reached for {_days_en(days)}"
    if feature == "days_overdue":
        days = _whole(value)
        if days <= 0:
            return "방문 예정일 전", "visit not yet due"
        ko, en = overdue_words(days)
        return f"방문 예정일 {ko}", f"visit {en}"
    if feature == "income_to_median_ratio":
        percent = _whole(100 * value)
        return f"기준 중위소득의 {percent}%", f"income {percent}% of the median"
    if feature == "assets_million_krw":
        if value <= 0:
            return "재산 없음", "no recorded assets"
        return f"재산 {value * 100:,.0f}만 원", f"assets {value:,.1f} million KRW"
    if feature == "household_size":
        return f"{_whole(value)}인 가구", f"household of {_whole(value)}"
    if feature == "has_disability":
        if value >= 1:
            return "등록 장애", "registered disability"
        return "등록 장애 없음", "no registered disability"
    if feature == "nearest_community_centre_m":
        ko, en = _distance(value)
        return f"주민센터까지 {ko}", f"{en} to the community centre"
    if feature == "nearest_senior_or_welfare_m":
        ko, en = _distance(value)
        return f"경로당·복지관까지 {ko}", f"{en} to a senior or welfare centre"
    text = f"{feature} = {np.format_float_positional(value, precision=4, trim='-')}"
    return text, text


def contribution_matrix(scorer, X: pd.DataFrame, feature_names, *, frame=None) -> np.ndarray:
    """Per-feature contributions of a fitted scorer as a matrix aligned with ``feature_names``.

    Features the scorer does not use (or, for the rule baseline, every feature: its parts are
    the tier and a tie-break) get 0. Vectorised: no reasons are rendered. ``frame``: the
    weighted index's contributions when already computed (e.g. by
    ``scores_and_contributions``).
    """
    out = np.zeros((len(X), len(feature_names)), dtype=float)
    if frame is not None or hasattr(scorer, "contributions"):  # vectorised, no reasons
        frame = scorer.contributions(X) if frame is None else frame
        columns = {f"contrib_{name}": frame[name].to_numpy() for name in frame.columns}
    else:
        columns = scorer._explanation_parts(X).columns
    for j, name in enumerate(feature_names):
        column = columns.get(f"contrib_{name}")
        if column is not None:
            out[:, j] = np.asarray(column, dtype=float)
    return out
