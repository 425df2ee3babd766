"""The one error hierarchy of the project.

Every error raised on purpose derives from :class:`VisitmapError`, through one of the kinds
below.

Each layer defines its own errors (``geo.teams.TeamError``,
``visitmap.usecases.planning.PlanRequestError``, ...) on these kinds; the web layer maps the
kinds to HTTP statuses in one table (:mod:`webmap.errors`), and the command line prints them.
This module imports nothing of the project, so every layer may import it.

=================  ======  ===============================================================
kind               HTTP    meaning
=================  ======  ===============================================================
FieldError         400     invalid input; ``field`` names the field or parameter, if one
Unauthorized       401     not signed in, or the sign-in was refused
Forbidden          403     signed in, but the caller may not do this
NotFound           404     something named does not exist (or is outside the caller's scope)
Conflict           409     the request contradicts what is stored (an id taken, a key reused)
VisitmapError      500     none of the above: a failure of ours, not of the request
=================  ======  ===============================================================
"""

from __future__ import annotations


class VisitmapError(Exception):
    """Base of every error the project raises on purpose.

    Raise one of the kinds below (or a class derived from one); a class derived from this
    base alone is a failure that is not the caller's fault (HTTP 500).

    Attributes
    ----------
    field : str or None
        The field or parameter at fault; ``None`` unless the error names one.
    """

    field: str | None = None


class FieldError(VisitmapError, ValueError):
    """Invalid input (HTTP 400), a :class:`ValueError`.

    Parameters
    ----------
    message : str
        What is wrong, in words.
    field : str, optional
        The field, option or request parameter at fault; ``None`` when no single one is.

    Attributes
    ----------
    field : str or None
        As given.
    message : str
        As given, without the field's name.

    Notes
    -----
    ``str(error)`` is ``"field: message"``, or the message alone when there is no field.
    Classes whose messages read otherwise (a file and line, several problems) build their
    text themselves and then set ``field`` and ``message``.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class Unauthorized(VisitmapError):
    """The caller is not signed in, or a sign-in was refused (HTTP 401)."""


class Forbidden(VisitmapError):
    """The caller is signed in but may not do this (HTTP 403)."""


class NotFound(VisitmapError, LookupError):
    """Something named does not exist, or not for this caller (HTTP 404).

    A :class:`LookupError`. Outside the caller's scope is "not found" too, so that existence
    does not leak.
    """


class Conflict(VisitmapError):
    """The request contradicts what is stored (HTTP 409).

    For example an id that exists already, or an idempotency key used before for something
    else.
    """
