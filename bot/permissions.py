"""Who may run maintenance: bot owners (the application's owner or team, plus `owner_ids`)
and members holding a configured admin role.

Checked in code for every maintenance command, in addition to the commands'
`default_permissions`, which server admins can override in Integrations settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import discord

log = logging.getLogger(__name__)

# Team members with these roles own the bot, as discord.py's Bot.is_owner decides.
_OWNER_TEAM_ROLES = (discord.TeamMemberRole.admin, discord.TeamMemberRole.developer)


@dataclass
class Maintainers:
    """Owners and admin roles; `application_owners` is filled from the application at login."""

    owner_ids: frozenset[int] = frozenset()
    admin_roles: tuple[str, ...] = ()
    application_owners: set[int] = field(default_factory=set)

    def learn_application(self, app: discord.AppInfo) -> None:
        """Record the application's owner, or its team's admins and developers."""
        if app.team is not None:
            owners = {m.id for m in app.team.members if m.role in _OWNER_TEAM_ROLES}
        else:
            owners = {app.owner.id}
        self.application_owners = owners
        log.info("bot owners: %d from the application, %d from config",
                 len(owners), len(self.owner_ids))

    def is_owner(self, user_id: int) -> bool:
        return user_id in self.owner_ids or user_id in self.application_owners

    def has_admin_role(self, roles: Iterable[discord.Role]) -> bool:
        wanted = {r.strip().lower() for r in self.admin_roles}
        return any(str(role.id) in wanted or role.name.lower() in wanted for role in roles)

    def can_maintain(self, user: discord.User | discord.Member) -> bool:
        """Owners anywhere; admin-role holders in their guild."""
        if self.is_owner(user.id):
            return True
        return isinstance(user, discord.Member) and self.has_admin_role(user.roles)
