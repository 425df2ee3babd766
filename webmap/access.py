"""Who may use which page and API call: one declaration per endpoint, deny by default.

Every endpoint of the app (``app.url_map``) must appear in :data:`ACCESS`; an endpoint missing
from it is refused to everyone (403) and fails ``tests/webmap/test_access.py``. The value is
either :data:`PUBLIC` (no sign-in) or the roles that may call it. Which *residents* a caller
sees within an endpoint is the scope (``geo.accounts.scope_for``); docs/accounts.md has both.
"""

from __future__ import annotations

from types import MappingProxyType

PUBLIC = "public"

ALL = frozenset({"admin", "leader", "visitor", "agency", "analyst"})
#: roles that see individual residents (names, addresses, visits) in their scope
CASEWORK = frozenset({"leader", "visitor", "agency"})
FIELD = frozenset({"leader", "visitor"})
LEADER = frozenset({"leader"})
OVERSIGHT = frozenset({"leader", "admin"})
TEAMS_ADMIN = frozenset({"admin", "leader"})
#: the map page carries per-dong counts and facilities only; the tiles' individual points
#: are kept from analysts and admins by their scope and by the tile view
MAP = frozenset({"leader", "visitor", "agency", "analyst", "admin"})
ANALYSIS = frozenset({"analyst", "leader"})
#: may look at any stored score run (``?run=``, a draft too) and list runs; others see the
#: published run only (docs/publishing.md)
RUN_VIEWERS = frozenset({"leader", "analyst", "admin"})
#: may read the support overview (issue 13): leaders, agency staff and admins
SUPPORT_READERS = frozenset({"leader", "agency", "admin"})
#: may publish a score run
PUBLISHERS = frozenset({"leader", "admin"})
#: records (issue 13): may record support and needs (a visitor only as community-centre staff,
#: checked by ``visitmap.usecases.support.writer_for``)
SUPPORT_WRITERS = frozenset({"agency", "leader", "visitor", "admin"})
#: records (issue 13): may set a resident's consent to sharing (same check for visitors)
CONSENT_WRITERS = frozenset({"leader", "visitor", "admin"})
#: issue 13 (helper S): resources of the community centres (docs/resources.md)
RESOURCES_READ = frozenset({"leader", "visitor", "agency", "admin"})
RESOURCES_WRITE = frozenset({"leader", "visitor", "admin"})
#: issue 14: benefit pre-screening and blind spots: the public office's casework (leaders and
#: visitors, in their dongs); analysts read the per-dong counts
BLIND_SPOT_CASEWORK = FIELD

ACCESS: MappingProxyType[str, str | frozenset[str]] = MappingProxyType(
    {
        "static": PUBLIC,
        "auth.login": PUBLIC,
        "auth.login_post": PUBLIC,
        "auth.logout": ALL,
        "pages.healthz": PUBLIC,
        "pages.favicon": PUBLIC,
        "map.map_page": MAP,
        "pages.overview": MAP,
        # JSON API
        "api.openapi": ALL,
        "api.residents": CASEWORK,
        "api.resident": CASEWORK,
        "api.areas": MAP,
        "api.score_runs": RUN_VIEWERS,
        "api.publish_run": PUBLISHERS,
        "tiles.resident_tile": MAP,
        # teams and day plans
        "teams_api.teams": TEAMS_ADMIN | {"visitor"},
        "teams_api.teams_create": TEAMS_ADMIN,
        "teams_api.team": TEAMS_ADMIN | {"visitor"},
        "teams_api.team_add_member": TEAMS_ADMIN,
        "teams_api.team_member_update": TEAMS_ADMIN,
        "teams_api.team_areas": TEAMS_ADMIN,
        "teams_api.routes_latest": FIELD,
        "teams_api.routes_one": FIELD,
        "teams_api.routes_plan": FIELD,
        "routes.route_page": FIELD,
        "routes.plan_from_page": FIELD,
        "routes.route_csv": FIELD,
        "routes.route_gpx": FIELD,
        "routes.my_day": FIELD,
        "routes.my_day_pick": FIELD,
        # issue 15: the whole district's day (plans every team: leaders)
        "district_day.district_page": LEADER,
        "district_day.plan_district": LEADER,
        # visits
        "visits.new_visit": FIELD,
        "visits.submit_visit": FIELD,
        "visits.visit_done": FIELD,
        "visits.unreachable_page": LEADER,
        "visits.unreachable_api": LEADER,
        "visits.api_record_visit": FIELD,
        # the access audit (a dong official sees it only when district-wide: audit_page)
        "audit.audit_page": OVERSIGHT,
        "audit.audit_csv_download": OVERSIGHT,
        "audit.audit_api": OVERSIGHT,
        # analysts: pseudonymised rows and suppressed counts (leaders: of their dongs)
        "analyst_api.residents": ANALYSIS,
        "analyst_api.aggregates": ANALYSIS,
        # records (issue 13): support and needs: agency staff (their organisation), leaders
        # and community-centre visitors (their dongs; writer_for checks the centre), admins;
        # consent: community-centre staff, leaders, admins (writer_for decides per account)
        "support.new_record": SUPPORT_WRITERS,
        "support.submit_record": SUPPORT_WRITERS,
        "support.new_need": SUPPORT_WRITERS,
        "support.submit_need": SUPPORT_WRITERS,
        "support.consent_page": CONSENT_WRITERS,
        "support.submit_consent": CONSENT_WRITERS,
        "support.api_record_support": SUPPORT_WRITERS,
        "support.api_record_need": SUPPORT_WRITERS,
        "support.api_set_consent": CONSENT_WRITERS,
        "support.api_lookup": SUPPORT_WRITERS,
        # issue 13, helper "dashboard": the support overview (종합현황판) and its API; records
        # are shaped per role and consent by geo.support_visibility
        "support_dashboard.dashboard_page": SUPPORT_READERS,
        "support_dashboard.summary_api": SUPPORT_READERS,
        "support_dashboard.warnings_api": SUPPORT_READERS,
        "support_dashboard.areas_api": SUPPORT_READERS,
        "support_dashboard.resident_support": SUPPORT_READERS,
        # issue 13, resources (helper S): stock and report also for agency staff (their own
        # provider, read only); forms, sponsorships, suggestions: centre staff, leaders, admin.
        # Which centres within: geo.resources.centre_scope.
        "resources.stock_page": RESOURCES_READ,
        "resources.report_page": RESOURCES_READ,
        "resources.report_csv_download": RESOURCES_READ,
        "resources.new_form": RESOURCES_WRITE,
        "resources.submit": RESOURCES_WRITE,
        "resources.sponsorships_page": RESOURCES_WRITE,
        "resources.suggestions_page": RESOURCES_WRITE,
        "resources.suggestions_api": RESOURCES_WRITE,
        # issue 14: benefit pre-screening
        "eligibility.summary_api": BLIND_SPOT_CASEWORK | {"analyst"},
        "eligibility.people_api": BLIND_SPOT_CASEWORK,
        "eligibility.resident_api": BLIND_SPOT_CASEWORK,
        "eligibility.eligibility_page": BLIND_SPOT_CASEWORK,
        # issue 14: hot spots (aggregates) and the blind-spot list
        "blind_spots.hotspots_api": BLIND_SPOT_CASEWORK | {"analyst"},
        "blind_spots.areas_api": BLIND_SPOT_CASEWORK | {"analyst"},
        "blind_spots.people_api": BLIND_SPOT_CASEWORK,
        "blind_spots.blind_spots_page": BLIND_SPOT_CASEWORK,
    }
)


def allowed(endpoint: str | None, roles) -> bool | None:
    """Decide whether a caller with ``roles`` may use ``endpoint``.

    Parameters
    ----------
    endpoint : str or None
        The Flask endpoint (``request.endpoint``); None for a URL that matched no endpoint.
    roles : iterable of str
        The caller's roles; empty for a caller who is not signed in.

    Returns
    -------
    bool or None
        None if the endpoint is public; True if one of ``roles`` may use it; False if it is
        not declared in :data:`ACCESS` (deny by default) or none of ``roles`` may use it.
    """
    rule = ACCESS.get(endpoint or "")
    if rule is None:
        return False
    if rule == PUBLIC:
        return None
    return any(r in rule for r in roles)
