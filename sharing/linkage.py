"""Which resident rows are one person: record linkage with splink (pure, in-process DuckDB).

Two agencies may each register the same elder, with different external ids, so that her
records never meet. Two rows are one person when

1. both carry a registration-number HMAC (``rrn_hmac``) and the HMACs are equal (exact), or
2. at most one of them carries an HMAC (two different HMACs are two different people), they
   have the same name and birth year, and splink's match probability from the address
   comparison is at least :data:`MATCH_THRESHOLD`.

The splink model is not trained on the data: its m and u probabilities are set here (see
:data:`ADDRESS_LEVELS`), so the same pair always gets the same probability and a district's
linkage takes a second, not an EM run. With the prior of :data:`PRIOR` (one pair of the same
name and birth year in 50 is one person), a pair at the same address (after normalising
spaces) scores 0.989, a close address (Jaro-Winkler at least 0.92: a typo, another flat
of the same building) 0.31, a different address 0.001; the threshold 0.9 therefore links exact
addresses only, and the close ones are left to a person (docs/support_warnings.md).
Linked rows form persons by transitive closure; a person's id is its smallest resident id.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

#: The match probability from which two rows are linked (docs/support_warnings.md).
MATCH_THRESHOLD = 0.9
#: The prior: the chance that two rows of the same name and birth year are one person.
PRIOR = 0.02
#: The address comparison's levels: (name, m probability, u probability), first to last.
ADDRESS_LEVELS = (
    ("exact", 0.85, 0.0002),
    ("jaro_winkler>=0.92", 0.10, 0.0045),
    ("else", 0.05, 0.9953),
)
#: The frame :func:`link_residents` returns.
LINK_COLUMNS = ("resident_id", "person_id", "method", "match_probability")


def _normalise(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.replace(r"\s+", " ", regex=True).str.strip()


def _probabilistic_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the candidate pairs' match probabilities from splink (``id_l``, ``id_r``, ``p``)."""
    import splink.comparison_library as cl  # heavy: only when there are candidates
    from splink import DuckDBAPI, Linker, SettingsCreator

    logging.getLogger("splink").setLevel(logging.ERROR)
    (_, m_exact, u_exact), (_, m_close, u_close), (_, m_else, u_else) = ADDRESS_LEVELS
    address = cl.JaroWinklerAtThresholds("address", [0.92]).configure(
        m_probabilities=[m_exact, m_close, m_else],
        u_probabilities=[u_exact, u_close, u_else],
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="resident_id",
        probability_two_random_records_match=PRIOR,
        blocking_rules_to_generate_predictions=[
            "l.name = r.name AND l.birth_year = r.birth_year AND (l.has_rrn = 0 OR r.has_rrn = 0)"
        ],
        comparisons=[address],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.ERROR)
    pairs = linker.inference.predict().as_pandas_dataframe()
    return pd.DataFrame(
        {
            "id_l": pairs["resident_id_l"].astype("int64"),
            "id_r": pairs["resident_id_r"].astype("int64"),
            "p": pairs["match_probability"].astype(float),
        }
    )


def _persons(pairs: pd.DataFrame) -> pd.Series:
    """Return the person (smallest id of its connected rows) of every id in ``pairs``."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs["id_l"], pairs["id_r"], strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return pd.Series({x: find(x) for x in list(parent)}, dtype="int64")


def link_residents(residents: pd.DataFrame, threshold: float = MATCH_THRESHOLD) -> pd.DataFrame:
    """Find resident rows that are one person.

    Parameters
    ----------
    residents : DataFrame
        ``resident_id``, ``name``, ``birth_year``, ``address`` (the household's), and
        ``rrn_hmac`` (bytes, its hex text, or None or empty: no HMAC).
    threshold : float
        The match probability from which a name-and-address pair is linked.

    Returns
    -------
    DataFrame
        :data:`LINK_COLUMNS`, one row per resident row linked to another (the person's own
        smallest row included). ``method`` is ``rrn_hmac`` when every link of the person is
        an equal HMAC, else ``probabilistic`` with the lowest match probability of its links.
    """
    frame = residents.loc[:, ["resident_id", "name", "birth_year", "address", "rrn_hmac"]]
    hmacs = frame["rrn_hmac"]
    given = hmacs.notna() & hmacs.ne("") & hmacs.ne(b"")
    frame["rrn_hmac"] = hmacs.where(given, None)
    frame = frame.assign(
        resident_id=frame["resident_id"].astype("int64"),
        name=frame["name"].fillna("").astype(str).str.strip(),
        has_rrn=given.astype("int64"),
    )
    frame = frame[frame["name"] != ""]
    # 1. equal HMACs
    hashed = frame[frame["has_rrn"] == 1]
    key = hashed["rrn_hmac"].map(lambda v: v if isinstance(v, str) else bytes(v).hex())
    first = hashed.groupby(key)["resident_id"].transform("min")
    exact = pd.DataFrame({"id_l": first, "id_r": hashed["resident_id"], "p": 1.0})
    exact = exact[exact["id_l"] != exact["id_r"]].assign(method="rrn_hmac")
    # 2. same name and birth year, at most one HMAC: only groups that can hold a pair
    group = frame.groupby(["name", "birth_year"])
    candidates = frame[
        (group["resident_id"].transform("size") >= 2)
        & (group["has_rrn"].transform("sum") < group["resident_id"].transform("size"))
    ]
    probable = pd.DataFrame(columns=["id_l", "id_r", "p"])
    if not candidates.empty:
        candidates = candidates.assign(
            name=_normalise(candidates["name"]), address=_normalise(candidates["address"])
        )
        probable = _probabilistic_pairs(candidates.drop(columns="rrn_hmac"))
        probable = probable[probable["p"] >= threshold]
    probable = probable.assign(method="probabilistic")
    pairs = pd.concat([exact, probable], ignore_index=True)
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
    person = _persons(pairs)
    pairs["person_id"] = pairs["id_l"].map(person)
    per_person = pairs.groupby("person_id").agg(
        p=("p", "min"), method=("method", lambda s: "rrn_hmac" if set(s) == {"rrn_hmac"} else "")
    )
    out = pd.DataFrame({"resident_id": person.index.astype("int64"), "person_id": person.values})
    out = out.join(per_person, on="person_id")
    out["method"] = np.where(out["method"] == "rrn_hmac", "rrn_hmac", "probabilistic")
    out["match_probability"] = np.where(out["method"] == "rrn_hmac", np.nan, out["p"])
    return out.loc[:, list(LINK_COLUMNS)].sort_values("resident_id").reset_index(drop=True)


def person_of(residents: pd.Series, links: pd.DataFrame) -> pd.Series:
    """Return the person id of each resident id in ``residents`` (itself when not linked)."""
    mapping = links.set_index("resident_id")["person_id"] if len(links) else pd.Series()
    return residents.map(mapping).fillna(residents).astype("int64")
