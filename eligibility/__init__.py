"""Eligibility pre-screening (issue 14), as pure functions: no SQL, no Flask.

A versioned programme catalogue (``catalogues/*.toml``: 국민기초생활보장 livelihood, medical,
housing and education benefits, 차상위, 긴급복지지원, 기초연금) and the rules that screen a
household against it, with the rule that decided each programme, in Korean and English.
"""
