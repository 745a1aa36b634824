"""Discord-shaped API errors raised by the fake's route handlers."""

from __future__ import annotations

from typing import Any


class DiscordAPIError(Exception):
    """An error the fake answers with, in Discord's JSON error shape.

    ``errors`` is Discord's nested form-error tree, e.g.
    ``{"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "..."}]}}``.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        violation: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        # When set, the fake records this text in ``FakeDiscord.violations``.
        self.violation = violation

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def field_error(code: str, message: str) -> dict[str, Any]:
    """One leaf of Discord's error tree."""
    return {"_errors": [{"code": code, "message": message}]}


def set_error(tree: dict[str, Any], path: list[str | int], code: str, message: str) -> None:
    """Insert a leaf error at ``path`` (keys and list indexes) into ``tree``."""
    node = tree
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def flatten_errors(tree: dict[str, Any], prefix: str = "") -> list[str]:
    """Readable ``a.b.c: message`` lines for a nested error tree."""
    out: list[str] = []
    for key, value in tree.items():
        if key == "_errors":
            for err in value:
                out.append(f"{prefix or '<root>'}: {err.get('message')} ({err.get('code')})")
        elif isinstance(value, dict):
            out.extend(flatten_errors(value, f"{prefix}.{key}" if prefix else key))
    return out


def invalid_form_body(errors: dict[str, Any], *, violation: str | None = None) -> DiscordAPIError:
    return DiscordAPIError(400, 50035, "Invalid Form Body", errors, violation=violation)


def unknown_interaction(violation: str | None = None) -> DiscordAPIError:
    return DiscordAPIError(404, 10062, "Unknown interaction", violation=violation)


def already_acknowledged(violation: str | None = None) -> DiscordAPIError:
    return DiscordAPIError(
        400, 40060, "Interaction has already been acknowledged.", violation=violation
    )


def missing_permissions(violation: str | None = None) -> DiscordAPIError:
    return DiscordAPIError(403, 50013, "Missing Permissions", violation=violation)


def missing_access(violation: str | None = None) -> DiscordAPIError:
    return DiscordAPIError(403, 50001, "Missing Access", violation=violation)


def unknown_channel() -> DiscordAPIError:
    return DiscordAPIError(404, 10003, "Unknown Channel")


def unknown_message() -> DiscordAPIError:
    return DiscordAPIError(404, 10008, "Unknown Message")


def unknown_member() -> DiscordAPIError:
    return DiscordAPIError(404, 10007, "Unknown Member")


def unknown_webhook(violation: str | None = None) -> DiscordAPIError:
    return DiscordAPIError(404, 10015, "Unknown Webhook", violation=violation)


def unknown_guild() -> DiscordAPIError:
    return DiscordAPIError(404, 10004, "Unknown Guild")


def unauthorized() -> DiscordAPIError:
    return DiscordAPIError(401, 0, "401: Unauthorized")
