"""Building INTERACTION_CREATE data from the commands the bot synced.

Option values are checked against the synced schema the way Discord's client would
(unknown option, missing required option, value outside choices/min/max), raising
``ValueError`` — the test asked for something a user could not send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .state import FakeChannel, FakeMember, FakeRole, FakeUser
from .world import World

OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11


def _id_of(value: Any) -> int:
    if isinstance(value, FakeMember):
        return value.user.id
    if isinstance(value, FakeUser | FakeRole | FakeChannel):
        return value.id
    if isinstance(value, dict) and "id" in value:
        return int(value["id"])
    return int(value)


class OptionBuilder:
    """Turns ``{"name": value}`` into Discord's ``options`` + ``resolved`` for one command."""

    def __init__(
        self,
        world: World,
        command: dict[str, Any],
        *,
        invoker_id: int,
        channel: FakeChannel,
        store_attachment: Callable[[str, bytes], tuple[int, str]],
    ) -> None:
        self.world = world
        self.command = command
        self.invoker_id = invoker_id
        self.channel = channel
        self.store_attachment = store_attachment
        self.resolved: dict[str, dict[str, Any]] = {}

    def _resolve_user(self, value: Any) -> str:
        uid = _id_of(value)
        user = self.world.users.get(uid)
        if user is None:
            raise ValueError(f"unknown user {uid}")
        self.resolved.setdefault("users", {})[str(uid)] = user.payload()
        member = self.world.guild.members.get(uid)
        if member is not None and self.channel.guild_id is not None:
            perms = self.world.permissions(uid, self.channel)
            self.resolved.setdefault("members", {})[str(uid)] = member.payload(
                with_user=False, permissions=perms
            )
        return str(uid)

    def _resolve_role(self, value: Any) -> str:
        rid = _id_of(value)
        role = self.world.guild.roles.get(rid)
        if role is None:
            raise ValueError(f"unknown role {rid}")
        self.resolved.setdefault("roles", {})[str(rid)] = role.payload()
        return str(rid)

    def _resolve_channel(self, value: Any, schema: dict[str, Any]) -> str:
        ch = self.world.channel(_id_of(value))
        allowed_types = schema.get("channel_types")
        if allowed_types and ch.type not in allowed_types:
            raise ValueError(f"channel #{ch.name} (type {ch.type}) not in {allowed_types}")
        data = ch.payload()
        data["permissions"] = str(self.world.permissions(self.invoker_id, ch))
        self.resolved.setdefault("channels", {})[str(ch.id)] = data
        return str(ch.id)

    def _resolve_attachment(self, value: Any) -> str:
        """``value``: a filename, or a dict with filename/data/size/content_type."""
        info = dict(value) if isinstance(value, Mapping) else {"filename": str(value)}
        filename = str(info.get("filename", "file.txt"))
        raw = info.get("data", b"")
        data_bytes = raw.encode() if isinstance(raw, str) else bytes(raw)
        aid, url = self.store_attachment(filename, data_bytes)
        data = {
            "id": str(aid),
            "filename": filename,
            "size": int(info.get("size", len(data_bytes))),
            "url": url,
            "proxy_url": url,
            "content_type": info.get("content_type", "text/plain"),
        }
        self.resolved.setdefault("attachments", {})[str(aid)] = data
        return str(aid)

    def _convert(self, schema: dict[str, Any], value: Any, *, focused: bool) -> Any:
        otype = schema["type"]
        name = schema["name"]
        if focused:
            return value if isinstance(value, str) else str(value)
        if otype == OPT_STRING:
            value = str(value)
            min_len, max_len = schema.get("min_length"), schema.get("max_length")
            if min_len is not None and len(value) < min_len:
                raise ValueError(f"option {name!r}: shorter than min_length {min_len}")
            if max_len is not None and len(value) > max_len:
                raise ValueError(f"option {name!r}: longer than max_length {max_len}")
        elif otype == OPT_INTEGER:
            value = int(value)
        elif otype == OPT_NUMBER:
            value = float(value)
        elif otype == OPT_BOOLEAN:
            value = bool(value)
        elif otype == OPT_USER:
            return self._resolve_user(value)
        elif otype == OPT_ROLE:
            return self._resolve_role(value)
        elif otype == OPT_CHANNEL:
            return self._resolve_channel(value, schema)
        elif otype == OPT_MENTIONABLE:
            if isinstance(value, FakeRole) or _id_of(value) in self.world.guild.roles:
                return self._resolve_role(value)
            return self._resolve_user(value)
        elif otype == OPT_ATTACHMENT:
            return self._resolve_attachment(value)
        if otype in (OPT_INTEGER, OPT_NUMBER):
            lo, hi = schema.get("min_value"), schema.get("max_value")
            if lo is not None and value < lo:
                raise ValueError(f"option {name!r}: {value} < min_value {lo}")
            if hi is not None and value > hi:
                raise ValueError(f"option {name!r}: {value} > max_value {hi}")
        choices = schema.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(
                f"option {name!r}: {value!r} is not one of the choices "
                f"{[c['value'] for c in choices]}"
            )
        return value

    def leaf_options(
        self,
        schema_options: list[dict[str, Any]],
        values: Mapping[str, Any],
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema_options}
        for key in values:
            if key not in by_name:
                raise ValueError(
                    f"/{self.command['name']} has no option {key!r}; options: {sorted(by_name)}"
                )
        if focused is None:
            missing = [
                o["name"] for o in schema_options if o.get("required") and o["name"] not in values
            ]
            if missing:
                raise ValueError(f"/{self.command['name']}: missing required options {missing}")
        out = []
        for schema in schema_options:
            name = schema["name"]
            if name not in values:
                continue
            is_focused = name == focused
            opt: dict[str, Any] = {
                "name": name,
                "type": schema["type"],
                "value": self._convert(schema, values[name], focused=is_focused),
            }
            if is_focused:
                opt["focused"] = True
            out.append(opt)
        return out

    def build(
        self,
        values: Mapping[str, Any] | None,
        subcommand: str | None,
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        values = dict(values or {})
        schema_options: list[dict[str, Any]] = list(self.command.get("options") or [])
        path = subcommand.split() if subcommand else []
        has_subs = any(o.get("type") in (1, 2) for o in schema_options)
        if has_subs and not path:
            subs = [o["name"] for o in schema_options]
            raise ValueError(f"/{self.command['name']} needs a subcommand, one of {subs}")
        if path and not has_subs:
            raise ValueError(f"/{self.command['name']} has no subcommands")
        chain: list[dict[str, Any]] = []
        for part in path:
            match = next(
                (o for o in schema_options if o["name"] == part and o.get("type") in (1, 2)),
                None,
            )
            if match is None:
                subs = [o["name"] for o in schema_options if o.get("type") in (1, 2)]
                raise ValueError(f"no subcommand {part!r} in {subs}")
            chain.append(match)
            schema_options = list(match.get("options") or [])
        if chain and chain[-1]["type"] != OPT_SUB_COMMAND:
            raise ValueError(f"{subcommand!r} is a group; name a subcommand inside it")
        leaf = self.leaf_options(schema_options, values, focused=focused)
        for schema in reversed(chain):
            leaf = [{"name": schema["name"], "type": schema["type"], "options": leaf}]
        return leaf


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    """Find a component by custom_id in action rows or components-v2 trees."""
    for comp in components or []:
        if comp.get("custom_id") == custom_id:
            return comp
        for key in ("components",):
            found = find_component(comp.get(key) or [], custom_id)
            if found is not None:
                return found
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                found = find_component([child], custom_id)
                if found is not None:
                    return found
    return None


def modal_submit_components(
    components: list[dict[str, Any]], values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Mirror a modal's component tree with submitted values (what Discord sends back)."""
    out: list[dict[str, Any]] = []
    for comp in components or []:
        ctype = comp.get("type")
        if ctype == 1:
            out.append(
                {"type": 1, "components": modal_submit_components(comp["components"], values)}
            )
        elif ctype == 18:
            inner = modal_submit_components([comp["component"]], values)
            out.append({"type": 18, "component": inner[0]})
        elif ctype == 4:
            cid = comp["custom_id"]
            out.append(
                {
                    "type": 4,
                    "custom_id": cid,
                    "value": str(values.get(cid, comp.get("value") or "")),
                }
            )
        elif comp.get("custom_id") is not None:
            cid = comp["custom_id"]
            v = values.get(cid, [])
            out.append(
                {
                    "type": ctype,
                    "custom_id": cid,
                    "values": list(v) if not isinstance(v, str) else [v],
                }
            )
    return out
