"""Import of the shared-support kinds (issue 13) and the new support and provider columns.

Good files load with their values and a second import changes nothing; each malformed file is
refused with a problem naming its file, row and column, and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from geo.importers import ImportValidationError, import_file
from tests.conftest import TEST_RRN_KEY, count
from tests.geo.import_helpers import RES_COLUMNS, table

pytestmark = pytest.mark.db

YEONHUI = ("126.94", "37.57")


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _resident(rid: str, hid: str) -> dict[str, object]:
    return {
        "resident_id": rid,
        "household_id": hid,
        "name": "홍길순",
        "birth_year": 1950,
        "sex": "F",
        "lives_alone": "true",
        "disability": "false",
        "registered_on": "2020-03-01",
        "household_size": 1,
        "monthly_income_krw": 500000,
        "lon": YEONHUI[0],
        "lat": YEONHUI[1],
    }


PROVIDERS = table(
    ["provider_id", "name", "sector", "kind", "area", "facility_id"],
    [
        {
            "provider_id": "P-CC-1141061500",
            "name": "연희동 주민센터",
            "sector": "public",
            "kind": "community_centre",
            "area": "1141061500",
            "facility_id": "CC-1141061500",
        },
        {
            "provider_id": "P-CC-1141052000",
            "name": "천연동 주민센터",
            "sector": "public",
            "kind": "community_centre",
            "area": "1141052000",
        },
        {"provider_id": "P-FOOD", "name": "푸드뱅크", "sector": "private", "kind": "food_bank"},
    ],
)
SUPPORT_COLUMNS = [
    "support_id",
    "resident_id",
    "provider_id",
    "category",
    "item",
    "quantity",
    "unit",
    "provided_on",
    "minor_category",
    "recurring_period",
    "funding",
    "expires_on",
    "need_id",
    "entered_by",
]
DONORS = table(
    ["donor_id", "name", "kind", "area"],
    [
        {"donor_id": "D1", "name": "새빛교회", "kind": "religious", "area": "1141061500"},
        {"donor_id": "D2", "name": "김후원", "kind": "individual"},
    ],
)
DONATIONS = table(
    [
        "donation_id",
        "donor_id",
        "centre_id",
        "received_on",
        "minor_category",
        "item",
        "quantity",
        "unit",
        "amount_krw",
        "expires_on",
    ],
    [
        {
            "donation_id": "DN1",
            "donor_id": "D1",
            "centre_id": "P-CC-1141061500",
            "received_on": "2024-03-02",
            "minor_category": "rice",
            "item": "쌀 10kg",
            "quantity": 20,
            "unit": "포",
            "expires_on": "2024-09-01",
        },
        {
            "donation_id": "DN2",
            "donor_id": "D2",
            "centre_id": "P-CC-1141061500",
            "received_on": "2024-03-05",
            "minor_category": "livelihood_cash",
            "item": "후원금",
            "amount_krw": 300000,
        },
    ],
)
STOCK = table(
    [
        "movement_id",
        "centre_id",
        "kind",
        "moved_on",
        "minor_category",
        "item",
        "unit",
        "quantity",
        "expires_on",
        "donation_id",
        "counterpart_centre_id",
    ],
    [
        {
            "movement_id": "M1",
            "centre_id": "P-CC-1141061500",
            "kind": "transferred_out",
            "moved_on": "2024-03-10",
            "minor_category": "rice",
            "item": "쌀 10kg",
            "unit": "포",
            "quantity": 5,
            "expires_on": "2024-09-01",
            "counterpart_centre_id": "P-CC-1141052000",
        },
        {
            "movement_id": "M2",
            "centre_id": "P-CC-1141052000",
            "kind": "transferred_in",
            "moved_on": "2024-03-10",
            "minor_category": "rice",
            "item": "쌀 10kg",
            "unit": "포",
            "quantity": 5,
            "expires_on": "2024-09-01",
            "counterpart_centre_id": "P-CC-1141061500",
        },
        {
            "movement_id": "M3",
            "centre_id": "P-CC-1141061500",
            "kind": "issued",
            "moved_on": "2024-03-12",
            "minor_category": "rice",
            "item": "쌀 10kg",
            "unit": "포",
            "quantity": 2,
            "expires_on": "2024-09-01",
            "donation_id": "DN1",
        },
    ],
)
SPONSORSHIPS = table(
    [
        "sponsorship_id",
        "donor_id",
        "household_id",
        "centre_id",
        "programme",
        "starts_on",
        "ends_on",
        "monthly_amount_krw",
        "successor_id",
    ],
    [
        {
            "sponsorship_id": "S1",
            "donor_id": "D1",
            "household_id": "H1",
            "centre_id": "P-CC-1141061500",
            "programme": "100가정 보듬기",
            "starts_on": "2023-04-01",
            "ends_on": "2024-03-31",
            "monthly_amount_krw": 100000,
            "successor_id": "S2",
        },
        {
            "sponsorship_id": "S2",
            "donor_id": "D2",
            "household_id": "H1",
            "centre_id": "P-CC-1141061500",
            "programme": "100가정 보듬기",
            "starts_on": "2024-04-01",
            "ends_on": "2025-03-31",
            "monthly_amount_krw": 100000,
        },
    ],
)
PAYMENTS = table(
    ["sponsorship_id", "month", "amount_krw", "received_on"],
    [
        {
            "sponsorship_id": "S1",
            "month": "2024-01",
            "amount_krw": 100000,
            "received_on": "2024-01-05",
        },
        {
            "sponsorship_id": "S1",
            "month": "2024-02",
            "amount_krw": 100000,
            "received_on": "2024-02-05",
        },
    ],
)
CONSENTS = table(
    ["resident_id", "consented", "decided_on", "recorded_by"],
    [
        {
            "resident_id": "R1",
            "consented": "true",
            "decided_on": "2024-01-10",
            "recorded_by": "김이음",
        },
        {"resident_id": "R2", "consented": "false", "decided_on": "2024-01-11"},
    ],
)


@pytest.fixture
def base(db, tmp_path):
    """Two residents, three providers (two community centres) and one need."""
    residents = table(RES_COLUMNS, [_resident("R1", "H1"), _resident("R2", "H2")])
    import_file(db, "residents", write(tmp_path, "r.csv", residents), rrn_key=TEST_RRN_KEY)
    import_file(db, "providers", write(tmp_path, "providers.csv", PROVIDERS))
    needs = table(
        ["need_id", "resident_id", "category", "status", "identified_on"],
        [
            {"need_id": "N1", "resident_id": "R1", "category": "daily_living",
             "status": "open", "identified_on": "2024-01-02"},
        ],
    )  # fmt: skip
    import_file(db, "needs", write(tmp_path, "n.csv", needs))
    return db


def _all_sharing(db, tmp_path) -> list:
    results = []
    for kind, name, content in (
        ("donors", "donors.csv", DONORS),
        ("donations", "donations.csv", DONATIONS),
        ("stock-movements", "stock.csv", STOCK),
        ("sponsorships", "sponsorships.csv", SPONSORSHIPS),
        ("sponsorship-payments", "payments.csv", PAYMENTS),
        ("consents", "consents.csv", CONSENTS),
    ):
        results.append(import_file(db, kind, write(tmp_path, name, content), label=name))
    return results


def test_providers_get_their_dong_and_site(base):
    rows = base.execute(
        text("""SELECT p.external_id, a.code, f.external_id FROM providers p
                LEFT JOIN areas a ON a.id = p.area_id LEFT JOIN facilities f ON f.id = p.facility_id
                ORDER BY 1""")
    ).all()
    assert rows == [
        ("P-CC-1141052000", "1141052000", None),
        ("P-CC-1141061500", "1141061500", "CC-1141061500"),
        ("P-FOOD", None, None),
    ]


def test_support_new_columns_and_default_entered_by(base, tmp_path):
    rows = [
        {"support_id": "S-1", "resident_id": "R1", "provider_id": "P-FOOD",
         "category": "daily_living", "item": "도시락", "quantity": 5, "unit": "식",
         "provided_on": "2024-01-05", "minor_category": "meal_delivery",
         "recurring_period": "weekly", "funding": "budget", "expires_on": "2024-01-06",
         "need_id": "N1", "entered_by": "박나눔"},
        {"support_id": "S-2", "resident_id": "R2", "provider_id": "P-FOOD",
         "category": "daily_living", "item": "라면 1박스", "quantity": 1, "unit": "박스",
         "provided_on": "2024-01-05"},
    ]  # fmt: skip
    path = write(tmp_path, "support.csv", table(SUPPORT_COLUMNS, rows))
    assert import_file(base, "support", path, label="agency/support.csv").inserted == 2
    got = base.execute(
        text("""SELECT s.external_id, minor_category, recurring_period, funding, expires_on,
                       n.external_id, s.entered_by
                FROM support_records s LEFT JOIN needs n ON n.id = s.need_id ORDER BY 1""")
    ).all()
    assert [tuple(map(str, r)) for r in got] == [
        ("S-1", "meal_delivery", "weekly", "budget", "2024-01-06", "N1", "박나눔"),
        # derived: minor from the item, funding from the private sector, who from the file
        ("S-2", "instant_food", "None", "donation", "None", "None", "import support.csv"),
    ]
    again = import_file(base, "support", path, label="agency/support.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_sharing_kinds_load_with_their_values_and_twice_changes_nothing(base, tmp_path):
    first = _all_sharing(base, tmp_path)
    assert [r.inserted for r in first] == [2, 2, 3, 2, 2, 2]
    assert first[1].extra == {"stock received": 1}
    assert first[5].extra == {"consent events": 2}
    # the stock of the rice lot per centre: 20 received - 5 out - 2 issued; 5 in
    stock = base.execute(
        text("""SELECT p.external_id, sum(CASE WHEN m.kind IN ('received', 'transferred_in',
                       'adjusted') THEN quantity ELSE -quantity END)
                FROM stock_movements m JOIN providers p ON p.id = m.centre_id
                GROUP BY 1 ORDER BY 1""")
    ).all()
    assert stock == [("P-CC-1141052000", 5.0), ("P-CC-1141061500", 13.0)]
    successor = base.execute(
        text("""SELECT n.external_id FROM sponsorships s JOIN sponsorships n
                ON n.id = s.successor_id WHERE s.external_id = 'S1'""")
    ).scalar_one()
    assert successor == "S2"
    assert base.execute(
        text("SELECT recorded_by FROM sharing_consents ORDER BY resident_id")
    ).scalars().all() == ["김이음", "import consents.csv"]
    before = {t: count(base, t) for t in ("consent_events", "stock_movements")}
    second = _all_sharing(base, tmp_path)
    assert [(r.inserted, r.updated) for r in second] == [(0, 0)] * 6
    assert second[5].extra == {"consent events": 0}
    assert {t: count(base, t) for t in before} == before


def test_a_changed_consent_is_logged_once(base, tmp_path):
    _all_sharing(base, tmp_path)
    changed = CONSENTS.replace("R2,false,2024-01-11", "R2,true,2024-02-01")
    result = import_file(base, "consents", write(tmp_path, "c2.csv", changed))
    assert (result.inserted, result.updated, result.extra) == (0, 1, {"consent events": 1})
    log = base.execute(
        text("""SELECT consented, decided_on::text FROM consent_events e
                JOIN residents r ON r.id = e.resident_id WHERE r.external_id = 'R2'
                ORDER BY e.id""")
    ).all()
    assert log == [(False, "2024-01-11"), (True, "2024-02-01")]


MALFORMED = [
    # (kind, content, row, column, reason keyword)
    ("providers", PROVIDERS.replace("1141052000,\n", "1141099999,\n"), 3, "area", "unknown area"),
    ("donors", DONORS.replace("religious", "church"), 2, "kind", "must be one of"),
    ("donors", DONORS.replace(",1141061500", ",11410"), 2, "area", "pattern"),
    ("donations", DONATIONS.replace("D2,", "D9,"), 3, "donor_id", "unknown donor"),
    ("donations", DONATIONS.replace("2024-09-01", "2024-02-01"), 2, "expires_on", "before"),
    ("donations", DONATIONS.replace(",20,포,", ",20,,"), 2, "unit", "unit"),
    ("donations", DONATIONS.replace(",300000,", ",,"), 3, "amount_krw", "amount_krw or quantity"),
    ("donations", DONATIONS.replace(",rice,", ",noodles,"), 2, "minor_category", "one of"),
    ("stock-movements", STOCK.replace("issued,2024-03-12", "issued,2024-13-12"), 4, "moved_on",
     "not a date"),
    ("stock-movements", STOCK.replace(",2,2024-09-01,DN1", ",-2,2024-09-01,DN1"), 4, "quantity",
     "more than 0"),
    ("stock-movements", STOCK.replace(",5,2024-09-01,,P-CC-1141052000", ",5,2024-09-01,,"), 2,
     "counterpart_centre_id", "required"),
    ("stock-movements", STOCK.replace(",DN1", ",DN7"), 4, "donation_id", "unknown donation"),
    ("sponsorships", SPONSORSHIPS.replace(",S2\n", ",S3\n"), 2, "successor_id",
     "unknown sponsorship"),
    ("sponsorships", SPONSORSHIPS.replace("2025-03-31", "2024-03-01"), 3, "ends_on", "before"),
    ("sponsorships", SPONSORSHIPS.replace(",H1,P-CC-1141061500,100가정 보듬기,2024", ",H9,"
     "P-CC-1141061500,100가정 보듬기,2024"), 3, "household_id", "unknown household"),
    ("sponsorship-payments", PAYMENTS.replace("2024-02,", "2024-01,"), 3, "month", "twice"),
    ("sponsorship-payments", PAYMENTS.replace("2024-02,", "2024-2,"), 3, "month", "YYYY-MM"),
    ("sponsorship-payments", PAYMENTS.replace("2024-02,", "2024-05,"), 3, "month", "outside"),
    ("consents", CONSENTS.replace("R2,false", "R2,maybe"), 3, "consented", "yes/no"),
    ("consents", CONSENTS.replace("R2,", "R7,"), 3, "resident_id", "unknown resident"),
]  # fmt: skip

TABLES = (
    "providers",
    "donors",
    "donations",
    "stock_movements",
    "sponsorships",
    "sponsorship_payments",
    "sharing_consents",
    "consent_events",
)


@pytest.mark.parametrize(
    "kind, content, row, column, keyword",
    MALFORMED,
    ids=[f"{m[0]}-{m[3]}-{i}" for i, m in enumerate(MALFORMED)],
)
def test_malformed_file_names_file_row_column_and_writes_nothing(
    base, tmp_path, kind, content, row, column, keyword
):
    order = ["donors", "donations", "stock-movements", "sponsorships", "sponsorship-payments"]
    prior = {
        "donations": ["donors"],
        "stock-movements": ["donors", "donations"],
        "sponsorships": ["donors"],
        "sponsorship-payments": ["donors", "sponsorships"],
    }.get(kind, [])
    good = dict(zip(order, [DONORS, DONATIONS, STOCK, SPONSORSHIPS, PAYMENTS], strict=True))
    for name in prior:
        import_file(base, name, write(tmp_path, f"{name}.csv", good[name]))
    before = {t: count(base, t) for t in TABLES}
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(ImportValidationError) as caught:
        import_file(base, kind, path, label="bad.csv")
    problems = caught.value.problems
    assert [(p.file, p.row, p.column) for p in problems] == [("bad.csv", row, column)], problems
    assert keyword in problems[0].reason
    assert {t: count(base, t) for t in TABLES} == before
