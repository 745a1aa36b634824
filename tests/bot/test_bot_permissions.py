"""Who may run maintenance: owners (application, team, config) and the admin role."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import discord

from bot.permissions import Maintainers


class FakeMember(discord.Member):
    """Just enough of a guild member: an id and roles (the real thing is in the e2e tests)."""

    def __init__(self, user_id: int, roles: list[Any]) -> None:
        self._fake = (user_id, roles)

    id = property(lambda self: self._fake[0])
    roles = property(lambda self: self._fake[1])


def member(user_id: int, *roles: tuple[int, str]) -> Any:
    return FakeMember(user_id, [SimpleNamespace(id=i, name=n) for i, n in roles])


def test_config_owners_and_application_owner() -> None:
    m = Maintainers(owner_ids=frozenset({5}))
    m.learn_application(SimpleNamespace(team=None, owner=SimpleNamespace(id=7)))  # type: ignore[arg-type]
    assert m.is_owner(5) and m.is_owner(7) and not m.is_owner(8)


def test_team_admins_and_developers_own_the_bot_read_only_members_do_not() -> None:
    team = SimpleNamespace(members=[
        SimpleNamespace(id=1, role=discord.TeamMemberRole.admin),
        SimpleNamespace(id=2, role=discord.TeamMemberRole.developer),
        SimpleNamespace(id=3, role=discord.TeamMemberRole.read_only)])
    m = Maintainers()
    m.learn_application(SimpleNamespace(team=team, owner=SimpleNamespace(id=99)))  # type: ignore[arg-type]
    assert m.is_owner(1) and m.is_owner(2)
    assert not m.is_owner(3) and not m.is_owner(99)


def test_admin_role_by_name_or_id() -> None:
    m = Maintainers(admin_roles=("Docket Admin", "4242"))
    assert m.has_admin_role([SimpleNamespace(id=1, name="docket admin")])  # type: ignore[list-item]
    assert m.has_admin_role([SimpleNamespace(id=4242, name="Ops")])  # type: ignore[list-item]
    assert not m.has_admin_role([SimpleNamespace(id=1, name="Moderators")])  # type: ignore[list-item]


def test_can_maintain_needs_owner_or_role_and_roles_only_count_in_a_guild() -> None:
    m = Maintainers(owner_ids=frozenset({5}), admin_roles=("Docket Admin",))
    assert m.can_maintain(member(6, (1, "Docket Admin")))
    assert not m.can_maintain(member(6, (1, "Moderators")))
    assert m.can_maintain(SimpleNamespace(id=5))  # type: ignore[arg-type]  # owner, even in DMs
    assert not m.can_maintain(SimpleNamespace(id=6, roles=[]))  # type: ignore[arg-type]
