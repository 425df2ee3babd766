"""Controlled vocabularies: codes stored in the database, with Korean and English labels.

Codes are stable identifiers (lower-case English); labels are chosen at the edge (UI, reports).
"""

from __future__ import annotations

from types import MappingProxyType

# code -> (한국어, English)
FACILITY_KINDS = MappingProxyType(
    {
        "community_centre": ("주민센터", "Community service centre"),
        "senior_centre": ("경로당", "Senior centre"),
        "welfare_centre": ("복지관", "Welfare centre"),
        "health_centre": ("보건소", "Public health centre"),
        "other": ("기타", "Other"),
    }
)

RESIDENT_STATUSES = MappingProxyType(
    {
        "active": ("거주", "Active"),
        "moved": ("전출", "Moved away"),
        "deceased": ("사망", "Deceased"),
        "unreachable": ("연락두절", "Unreachable"),
    }
)

SEXES = MappingProxyType({"M": ("남", "Male"), "F": ("여", "Female")})

CRISIS_SIGNAL_KINDS = MappingProxyType(
    {
        "electricity_arrears": ("전기요금 체납", "Electricity arrears"),
        "electricity_cutoff": ("단전", "Electricity cut off"),
        "water_arrears": ("수도요금 체납", "Water arrears"),
        "water_cutoff": ("단수", "Water cut off"),
        "gas_arrears": ("가스요금 체납", "Gas arrears"),
        "gas_cutoff": ("단가스", "Gas cut off"),
        "health_insurance_arrears": ("건강보험료 체납", "Health insurance arrears"),
        "rent_arrears": ("임차료 체납", "Rent arrears"),
        "management_fee_arrears": ("관리비 체납", "Management fee arrears"),
        "telecom_arrears": ("통신비 체납", "Telecom arrears"),
    }
)

VISIT_OUTCOMES = MappingProxyType(
    {
        "met": ("면담", "Met"),
        "not_home": ("부재", "Not home"),
        "refused": ("거부", "Refused"),
        "unreachable": ("이사·주소불명·연락불가", "Moved, wrong address or unreachable"),
        "crisis_confirmed": ("위기 확인", "Crisis confirmed"),
    }
)

NEED_STATUSES = MappingProxyType(
    {
        "open": ("미해결", "Open"),
        "in_progress": ("지원중", "In progress"),
        "met": ("해결", "Met"),
        "closed": ("종결", "Closed"),
    }
)

# The ten case-management need domains used in Korean public welfare (사례관리 욕구 영역).
NEED_CATEGORIES = MappingProxyType(
    {
        "safety": ("안전", "Safety"),
        "health": ("건강", "Health"),
        "daily_living": ("일상생활유지", "Daily living"),
        "family": ("가족관계", "Family relations"),
        "social": ("사회적관계", "Social relations"),
        "economic": ("경제", "Economic"),
        "education": ("교육", "Education"),
        "employment": ("고용", "Employment"),
        "living_environment": ("생활환경", "Living environment"),
        "legal": ("법률 및 권익보장", "Legal and rights"),
    }
)

PROVIDER_SECTORS = MappingProxyType({"public": ("공공", "Public"), "private": ("민간", "Private")})

#: Why a candidate is not in a stored day plan: the codes of routing.day_problem.DropReason
#: (which words them; a test keeps the two lists equal).
ROUTE_DROP_REASONS = (
    "not_due",
    "too_far",
    "window_unreachable",
    "day_full_lowest_priority",
    "day_full_no_room",
    "not_chosen",
)


def sql_in(codes) -> str:
    """Return the codes quoted for a CHECK constraint's list, e.g. ``'a', 'b'``.

    The codes are fixed identifiers, never user input: they are not escaped.
    """
    return ", ".join(f"'{c}'" for c in codes)


#: Account roles (issue 10): what each may see is in docs/accounts.md and webmap/access.py.
ROLES = MappingProxyType(
    {
        "admin": ("관리자", "Administrator"),
        "leader": ("복지 담당 공무원", "Welfare official"),
        "visitor": ("방문 팀원", "Visit team member"),
        "agency": ("민간기관 직원", "Agency staff"),
        "analyst": ("분석가", "Analyst"),
    }
)

LOGIN_EVENTS = MappingProxyType(
    {
        "login": ("로그인", "Signed in"),
        "failed": ("로그인 실패", "Failed sign-in"),
        "locked": ("잠김", "Locked"),
        "locked_attempt": ("잠긴 계정 로그인 시도", "Attempt on a locked account"),
        "disabled_attempt": ("비활성 계정 로그인 시도", "Attempt on a disabled account"),
        "logout": ("로그아웃", "Signed out"),
        "timeout": ("시간 초과", "Timed out"),
    }
)

#: Tier codes (as scoring computes them) -> names (as the API and the pages show them).
TIER_NAMES = MappingProxyType({0: "low", 1: "medium", 2: "high"})
