"""Derive ``seodaemun_facilities.csv`` (one row per facility) from the shared reference files.

Run from the repository root: ``python data/derive_facilities.py``. The output is committed;
this script records how it was made.

- Community centres (주민센터) come from ``seodaemun_community_centers.csv`` (official MOIS
  names). The one centre without official coordinates (북가좌제2동) is left out.
- Senior centres (경로당 and the like) come from ``seodaemun_welfare_sites.csv``: each name in a
  site's ``names`` list that is not a 주민센터 becomes one facility at the site's coordinates
  (co-located facilities share a point).
"""

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Write ``seodaemun_facilities.csv`` beside this script from the two reference files."""
    rows = []
    with open(HERE / "seodaemun_community_centers.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if not r["lat"]:
                continue
            rows.append(
                {
                    "facility_id": f"CC-{r['adm_cd2']}",
                    "kind": "community_centre",
                    "name": r["name"],
                    "address": r["address"],
                    "lon": r["lon"],
                    "lat": r["lat"],
                    "adm_cd2": r["adm_cd2"],
                }
            )
    with open(HERE / "seodaemun_welfare_sites.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            names = [n.strip() for n in r["names"].split(";") if n.strip()]
            # every name at a senior-centre site that is not the community centre is a
            # senior facility (경로당, 시니어스클럽, 실버문화원, ...)
            seniors = [n for n in names if not n.endswith("주민센터")]
            for i, name in enumerate(seniors, start=1):
                rows.append(
                    {
                        "facility_id": f"SC-{r['site_id']}-{i}",
                        "kind": "senior_centre",
                        "name": name,
                        "address": r["address"],
                        "lon": r["lon"],
                        "lat": r["lat"],
                        "adm_cd2": r["adm_cd2"],
                    }
                )
    with open(HERE / "seodaemun_facilities.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} facilities")


if __name__ == "__main__":
    main()
