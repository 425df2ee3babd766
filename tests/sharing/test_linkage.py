"""Record linkage on hand-built pairs: one person under two resident ids."""

from __future__ import annotations

import pandas as pd

from sharing.linkage import MATCH_THRESHOLD, link_residents, person_of


def frame(rows):
    return pd.DataFrame(rows, columns=["resident_id", "name", "birth_year", "address", "rrn_hmac"])


ADDRESS = "서울특별시 서대문구 연희로 12 101호"


def test_same_name_year_and_address_one_hmac_is_one_person():
    links = link_residents(
        frame(
            [
                (5, "김순자", 1941, ADDRESS, b"\x01" * 32),
                (9, "김순자", 1941, "서울특별시  서대문구 연희로 12 101호", None),  # spaces differ
                (7, "김순자", 1941, "서울특별시 서대문구 통일로 400", None),  # elsewhere
                (8, "이영희", 1941, ADDRESS, None),  # another name
            ]
        )
    )
    assert links["resident_id"].tolist() == [5, 9]
    assert links["person_id"].tolist() == [5, 5]
    assert links["method"].tolist() == ["probabilistic"] * 2
    assert (links["match_probability"] >= MATCH_THRESHOLD).all()
    assert person_of(pd.Series([5, 7, 9]), links).tolist() == [5, 7, 5]


def test_two_different_hmacs_are_two_people_and_equal_hmacs_one():
    links = link_residents(
        frame(
            [
                (1, "박철수", 1950, ADDRESS, b"\x01" * 32),
                (2, "박철수", 1950, ADDRESS, b"\x02" * 32),
            ]
        )
    )
    assert links.empty
    links = link_residents(
        frame(
            [
                (1, "박철수", 1950, ADDRESS, b"\x01" * 32),
                (3, "박철수", 1951, "다른 주소", b"\x01" * 32),
            ]
        )
    )
    assert links["resident_id"].tolist() == [1, 3]
    assert links["method"].tolist() == ["rrn_hmac"] * 2


def test_other_birth_year_or_close_address_is_not_linked():
    links = link_residents(
        frame(
            [
                (1, "최말순", 1938, ADDRESS, None),
                (2, "최말순", 1939, ADDRESS, None),  # birth year differs
                (3, "최말순", 1938, "서울특별시 서대문구 연희로 12 102호", None),  # close only
            ]
        )
    )
    assert links.empty


def test_empty_hmac_text_is_no_hmac():
    links = link_residents(
        frame(
            [(1, "정옥자", 1940, "가", ""), (2, "정옥자", 1940, "나", ""), (3, "강", 1, "다", "")]
        )
    )
    assert links.empty
