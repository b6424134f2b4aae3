"""Live events: what happened, and who may see it.

Every event is a slotted dataclass that names its audience (roles, one
agent, one department).  An audience admits nobody unless it says so, so an
event that forgets to declare one reaches no console.  Citizen data (whole
transcripts, unmasked numbers) goes only to the agent who has the call and
to supervisors.

Events cross instances as JSON (``to_wire``/``from_wire``), so their fields
are plain JSON values: ints, strings, booleans, lists and dicts.  The
catalogue lives in :mod:`core.live_events`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, dataclass_transform

# Roles, as in core.accounts.ROLES.
SUPERVISORS = frozenset({"supervisor", "admin"})
HOTLINE_STAFF = frozenset({"agent", "supervisor", "admin"})


class Viewer(Protocol):
    """Who is looking (console.auth.Principal is one)."""

    @property
    def role(self) -> str: ...
    @property
    def agent_id(self) -> int | None: ...
    @property
    def department_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Audience:
    """Every user of ``roles``, plus the agent ``agent_id`` and the users of
    department ``department_id`` when given.  Empty: nobody."""

    roles: frozenset[str] = frozenset()
    agent_id: int | None = None
    department_id: int | None = None

    def admits(self, viewer: Viewer) -> bool:
        if viewer.role in self.roles:
            return True
        if self.agent_id is not None and viewer.role == "agent":
            return viewer.agent_id == self.agent_id
        if self.department_id is not None and viewer.role == "department":
            return viewer.department_id == self.department_id
        return False


NOBODY = Audience()


def supervisors_and(agent_id: int | None = None, department_id: int | None = None) -> Audience:
    return Audience(SUPERVISORS, agent_id, department_id)


_CATALOGUE: dict[str, type[LiveEvent]] = {}


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """Base of every live event.  Subclasses are declared with
    :func:`live_event`, set ``KIND`` (unique) and override :meth:`audience`;
    the default audience is nobody."""

    KIND: ClassVar[str] = ""

    @property
    def type(self) -> str:
        """The name consoles see (``call.answered``); the KIND unless overridden."""
        return self.KIND

    def audience(self) -> Audience:
        return NOBODY

    def fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_wire(self) -> dict[str, Any]:
        """For another instance: the kind and the fields."""
        return {"kind": self.KIND, "fields": self.fields()}


E = TypeVar("E", bound=type[LiveEvent])


@dataclass_transform(frozen_default=True)
def live_event(cls: E) -> E:
    """Class decorator: a frozen, slotted dataclass in the catalogue."""
    made: E = dataclass(frozen=True, slots=True)(cls)  # type: ignore[assignment]
    if not made.KIND or made.KIND in _CATALOGUE:
        raise TypeError(f"live event {cls.__name__} needs a KIND of its own")
    _CATALOGUE[made.KIND] = made
    return made


def from_wire(data: dict[str, Any]) -> LiveEvent:
    """The event :meth:`LiveEvent.to_wire` described; KeyError/TypeError if
    the kind is unknown here (an instance of another release) or its fields
    do not fit."""
    cls = _CATALOGUE[data["kind"]]
    return cls(**data["fields"])
