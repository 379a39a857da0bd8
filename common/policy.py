"""The mechanics of the one authorisation policy: scope rules evaluated against a resource's facts.

The table itself (which role may do what, within which scope) is a business rule and lives in
``authz/``; this module only knows what each scope *means*:

- ``own``: the actor is one of the resource's owners (``owner_ids``: the member, the resident…)
- ``assigned``: the actor is one of the members assigned to it (``assigned_ids``)
- ``grid`` / ``community`` / ``street`` / ``district``: the resource lies in the actor's part of
  the organisation tree (``grid_id``, ``community_id``, ``street_id``, ``district_id``)
- ``work_unit``: the resource belongs to the actor's work unit (``work_unit_ids``: a member's
  employer, a request's units)
- ``co_building``: the actor's unit has a co-building report with the resource's community
  (``co_building_unit_ids``)
- ``any``: any resource (public reads such as a community's menu)

A rule a resource has no fact for never matches: a missing fact denies. ``system`` (a service
acting for itself, proven by a signed assertion) passes every rule.

Why not PyCasbin: its matchers would call these same predicates as custom functions; a plain
table keeps the rules readable in one screen and the evaluation in ~40 lines that are unit
tested directly.
"""

from dataclasses import dataclass

from common.errors import Forbidden, NotFound

OWN, ASSIGNED, GRID, COMMUNITY, STREET, DISTRICT = "own", "assigned", "grid", "community", "street", "district"
WORK_UNIT, CO_BUILDING, ANY = "work_unit", "co_building", "any"
SCOPES = (OWN, ASSIGNED, GRID, COMMUNITY, STREET, DISTRICT, WORK_UNIT, CO_BUILDING, ANY)
PUBLIC = "public"  # a table value: no sign-in needed at all
SYSTEM = "system"

# the tree scopes and the actor claim each compares with the resource fact of the same name
_TREE = {GRID: "grid_id", COMMUNITY: "community_id", STREET: "street_id", DISTRICT: "district_id"}
_ID_SETS = {OWN: "owner_ids", ASSIGNED: "assigned_ids"}
_UNIT_SETS = {WORK_UNIT: "work_unit_ids", CO_BUILDING: "co_building_unit_ids"}


def _matches(scope: str, actor: dict, resource: dict) -> bool:
    if scope == ANY:
        return True
    if scope in _TREE:
        key = _TREE[scope]
        mine, theirs = actor.get(key), resource.get(key)
        if mine is None or theirs is None:
            return False
        # a record can sit in several places (a work unit reports to several communities)
        return mine in theirs if isinstance(theirs, list | tuple | set | frozenset) else mine == theirs
    if scope in _ID_SETS:
        mine = actor.get("user_id")
        return mine is not None and mine in (resource.get(_ID_SETS[scope]) or ())
    mine = actor.get("work_unit_id")
    return mine is not None and mine in (resource.get(_UNIT_SETS[scope]) or ())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    scopes: tuple


class Policy:
    """``table``: action → ``PUBLIC`` or {role: scope | (scope, …)}."""

    def __init__(self, table: dict, roles: tuple):
        self._rules: dict[str, dict[str, tuple]] = {}
        self.public: set[str] = set()
        for action, rules in table.items():
            if rules == PUBLIC:
                self.public.add(action)
                continue
            normalised = {}
            for role, scopes in rules.items():
                scopes = (scopes,) if isinstance(scopes, str) else tuple(scopes)
                if role not in roles:
                    raise ValueError(f"policy {action}: unknown role {role!r}")
                if not scopes or any(s not in SCOPES for s in scopes):
                    raise ValueError(f"policy {action}: {role} has unknown scopes {scopes}")
                normalised[role] = scopes
            self._rules[action] = normalised

    @property
    def actions(self) -> list[str]:
        return sorted(set(self._rules) | self.public)

    def known(self, action: str) -> bool:
        return action in self._rules or action in self.public

    def roles(self, action: str) -> tuple:
        """Roles that may attempt ``action`` at all (``()`` = public). Unknown actions raise."""
        if action in self.public:
            return ()
        return tuple(self._rules[action])

    def rules(self, action: str) -> dict:
        """{role: (scope, …)} of one row (``{}`` for a public operation)."""
        return dict(self._rules.get(action, {}))

    def scopes(self, actor: dict, action: str) -> tuple:
        if action in self.public:
            return (ANY,)
        return self._rules[action].get(actor.get("role"), ())

    def may_attempt(self, actor: dict | None, action: str) -> bool:
        """The role gate (no resource yet): the gateway answers 403 here before any RPC."""
        if action in self.public:
            return True
        if actor is None:
            return False
        return actor.get("role") == SYSTEM or bool(self.scopes(actor, action))

    def permits(self, actor: dict | None, action: str, resource: dict | None = None) -> bool:
        if not self.may_attempt(actor, action):
            return False
        if actor is None or actor.get("role") == SYSTEM or action in self.public:
            return True
        if resource is None:
            return True
        return any(_matches(scope, actor, resource) for scope in self.scopes(actor, action))

    def check(self, actor: dict | None, action: str, resource: dict | None = None, *,
              hide: bool = False, message: str = "您无权对此进行操作"):
        """Raise unless permitted. ``hide``: answer 404, so a foreign record's existence is not told."""
        if self.permits(actor, action, resource):
            return
        if hide and self.may_attempt(actor, action):
            raise NotFound(message="没有找到该记录")
        raise Forbidden(message=message)

    def list_filter(self, actor: dict, action: str) -> dict | None:
        """What a list for ``actor`` must be restricted to: ``None`` = nothing (all rows may show),
        else {fact: value, …} any one of which admits a row (``owner_ids``/``assigned_ids`` → the
        actor's id, tree facts → the actor's place, unit facts → the actor's unit). ``{}`` = no rows.
        """
        if actor.get("role") == SYSTEM or action in self.public:
            return None
        found = {}
        for scope in self.scopes(actor, action):
            if scope == ANY:
                return None
            if scope in _TREE:
                value, key = actor.get(_TREE[scope]), _TREE[scope]
            elif scope in _ID_SETS:
                value, key = actor.get("user_id"), _ID_SETS[scope]
            else:
                value, key = actor.get("work_unit_id"), _UNIT_SETS[scope]
            if value is not None:
                found[key] = value
        return found

    def admits(self, actor: dict, action: str, resource: dict) -> bool:
        """For filtering lists in memory: the same rules as :meth:`permits`."""
        return self.permits(actor, action, resource)
