"""Discord's documented size limits, and validators that build its nested error trees.

Every validator returns an error tree (empty when the payload is fine) in Discord's
``{"field": {"0": {"sub": {"_errors": [...]}}}}`` shape, so the caller can raise
``invalid_form_body(tree)`` — which discord.py flattens into ``HTTPException.text``.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import set_error

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_COMPONENTS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
ALLOWED_MENTIONS_IDS_MAX = 100
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
FILES_MAX = 10
THREAD_NAME_MAX = 100
AUTOCOMPLETE_CHOICES_MAX = 25

COMMANDS_MAX = 100
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_CHOICES_MAX = 25
COMMAND_TOTAL_CHARS_MAX = 4000

FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")


def _max_len(tree: dict[str, Any], path: list[str | int], value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        set_error(tree, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def embed_length(embed: dict[str, Any]) -> int:
    """Characters counted toward Discord's 6000-character total."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def validate_embeds(embeds: Any, tree: dict[str, Any], base: list[str | int]) -> None:
    if not isinstance(embeds, list):
        return
    if len(embeds) > EMBEDS_MAX:
        set_error(tree, base, "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        p: list[str | int] = [*base, i]
        _max_len(tree, [*p, "title"], embed.get("title"), EMBED_TITLE_MAX)
        _max_len(tree, [*p, "description"], embed.get("description"), EMBED_DESCRIPTION_MAX)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            set_error(
                tree,
                [*p, "fields"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {EMBED_FIELDS_MAX} or fewer in length.",
            )
        for j, field in enumerate(fields):
            for key, limit in (("name", EMBED_FIELD_NAME_MAX), ("value", EMBED_FIELD_VALUE_MAX)):
                value = field.get(key)
                if value is None or value == "":
                    set_error(
                        tree, [*p, "fields", j, key], "BASE_TYPE_REQUIRED", "This field is required"
                    )
                else:
                    _max_len(tree, [*p, "fields", j, key], value, limit)
        footer = embed.get("footer")
        if isinstance(footer, dict):
            _max_len(tree, [*p, "footer", "text"], footer.get("text"), EMBED_FOOTER_MAX)
        author = embed.get("author")
        if isinstance(author, dict):
            _max_len(tree, [*p, "author", "name"], author.get("name"), EMBED_AUTHOR_MAX)
        total += embed_length(embed)
    if total > EMBED_TOTAL_MAX:
        set_error(
            tree,
            base,
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )


def validate_components(components: Any, tree: dict[str, Any], base: list[str | int]) -> None:
    """Classic (non components-v2) action rows: 5 rows of 5, ids and labels bounded."""
    if not isinstance(components, list):
        return
    if len(components) > ACTION_ROWS_MAX:
        set_error(
            tree, base, "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_MAX} or fewer in length."
        )
    for i, row in enumerate(components):
        if not isinstance(row, dict) or row.get("type") != 1:
            continue
        children = row.get("components") or []
        if len(children) > ROW_COMPONENTS_MAX:
            set_error(
                tree,
                [*base, i, "components"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {ROW_COMPONENTS_MAX} or fewer in length.",
            )
        for j, comp in enumerate(children):
            p: list[str | int] = [*base, i, "components", j]
            _max_len(tree, [*p, "custom_id"], comp.get("custom_id"), CUSTOM_ID_MAX)
            if comp.get("type") == 2:
                _max_len(tree, [*p, "label"], comp.get("label"), BUTTON_LABEL_MAX)
                if comp.get("style") != 5 and comp.get("style") != 6 and not comp.get("custom_id"):
                    set_error(
                        tree, [*p, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required"
                    )
            options = comp.get("options")
            if isinstance(options, list) and len(options) > SELECT_OPTIONS_MAX:
                set_error(
                    tree,
                    [*p, "options"],
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {SELECT_OPTIONS_MAX} or fewer in length.",
                )


def validate_allowed_mentions(am: Any, tree: dict[str, Any], base: list[str | int]) -> None:
    if not isinstance(am, dict):
        return
    parse = am.get("parse") or []
    for kind in ("users", "roles"):
        ids = am.get(kind)
        if ids and kind in parse:
            set_error(
                tree,
                base,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if isinstance(ids, list) and len(ids) > ALLOWED_MENTIONS_IDS_MAX:
            set_error(
                tree,
                [*base, kind],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {ALLOWED_MENTIONS_IDS_MAX} or fewer in length.",
            )


def validate_message(
    payload: dict[str, Any], *, base: list[str | int] | None = None, n_files: int = 0
) -> dict[str, Any]:
    """Validate a create/edit message body; returns Discord's error tree (empty if fine)."""
    tree: dict[str, Any] = {}
    root: list[str | int] = list(base or [])
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        content = str(content)
    _max_len(tree, [*root, "content"], content, CONTENT_MAX)
    validate_embeds(payload.get("embeds"), tree, [*root, "embeds"])
    flags = int(payload.get("flags") or 0)
    if not flags & FLAG_COMPONENTS_V2:
        validate_components(payload.get("components"), tree, [*root, "components"])
    validate_allowed_mentions(payload.get("allowed_mentions"), tree, [*root, "allowed_mentions"])
    if n_files > FILES_MAX:
        set_error(tree, [*root, "files"], "BASE_TYPE_MAX_LENGTH", f"Must be {FILES_MAX} or fewer.")
    return tree


def is_empty_message(message: dict[str, Any]) -> bool:
    """Discord rejects messages with nothing to show (code 50006)."""
    return not (
        message.get("content")
        or message.get("embeds")
        or message.get("components")
        or message.get("attachments")
        or message.get("sticker_ids")
        or message.get("poll")
    )


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _validate_name(tree: dict[str, Any], path: list[str | int], name: Any, lower: bool) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name) or (lower and name != name.lower()):
        set_error(tree, path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _validate_description(tree: dict[str, Any], path: list[str | int], desc: Any) -> None:
    if not isinstance(desc, str) or not 1 <= len(desc) <= COMMAND_DESCRIPTION_MAX:
        set_error(
            tree,
            path,
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {COMMAND_DESCRIPTION_MAX} in length.",
        )


def _validate_options(tree: dict[str, Any], path: list[str | int], options: Any, depth: int) -> int:
    """Validate an options list; returns its character count (names, descriptions, choices)."""
    if not isinstance(options, list):
        return 0
    chars = 0
    if len(options) > COMMAND_OPTIONS_MAX:
        set_error(
            tree, path, "BASE_TYPE_MAX_LENGTH", f"Must be {COMMAND_OPTIONS_MAX} or fewer in length."
        )
    seen: set[str] = set()
    optional_seen = False
    for i, opt in enumerate(options):
        p: list[str | int] = [*path, i]
        name = opt.get("name")
        _validate_name(tree, [*p, "name"], name, lower=True)
        _validate_description(tree, [*p, "description"], opt.get("description"))
        chars += _text_len(name) + _text_len(opt.get("description"))
        if name in seen:
            set_error(
                tree,
                [*p, "name"],
                "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                "Option names must be unique",
            )
        seen.add(str(name))
        otype = opt.get("type")
        if otype in (1, 2):
            if depth >= 2 or (otype == 2 and depth >= 1):
                set_error(
                    tree,
                    [*p, "type"],
                    "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                    "Sub-command groups and sub-commands cannot be nested this deep",
                )
            chars += _validate_options(tree, [*p, "options"], opt.get("options"), depth + 1)
            continue
        if opt.get("required"):
            if optional_seen:
                set_error(
                    tree,
                    [*p, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = opt.get("choices")
        if isinstance(choices, list):
            if len(choices) > COMMAND_CHOICES_MAX:
                set_error(
                    tree,
                    [*p, "choices"],
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {COMMAND_CHOICES_MAX} or fewer in length.",
                )
            if choices and opt.get("autocomplete"):
                set_error(
                    tree,
                    [*p, "autocomplete"],
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                    "Autocomplete cannot be set with choices",
                )
            for j, choice in enumerate(choices):
                cname = choice.get("name")
                if not isinstance(cname, str) or not 1 <= len(cname) <= 100:
                    set_error(
                        tree,
                        [*p, "choices", j, "name"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    )
                chars += _text_len(cname) + _text_len(choice.get("value"))
    return chars


def validate_commands(commands: Any) -> dict[str, Any]:
    """Validate a bulk-overwrite body (list of application commands)."""
    tree: dict[str, Any] = {}
    if not isinstance(commands, list):
        set_error(tree, [], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return tree
    chat_input = [c for c in commands if isinstance(c, dict) and c.get("type", 1) == 1]
    if len(chat_input) > COMMANDS_MAX:
        set_error(tree, [], "BASE_TYPE_MAX_LENGTH", f"Must be {COMMANDS_MAX} or fewer in length.")
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        name = cmd.get("name")
        _validate_name(tree, [i, "name"], name, lower=ctype == 1)
        if ctype == 1:
            _validate_description(tree, [i, "description"], cmd.get("description"))
        key = (ctype, str(name))
        if key in seen:
            set_error(
                tree,
                [i, "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
        chars = _text_len(name) + _text_len(cmd.get("description"))
        chars += _validate_options(tree, [i, "options"], cmd.get("options"), 0)
        if chars > COMMAND_TOTAL_CHARS_MAX:
            set_error(
                tree,
                [i],
                "APPLICATION_COMMAND_TOO_LARGE",
                f"Command exceeds maximum size ({COMMAND_TOTAL_CHARS_MAX})",
            )
    return tree


def validate_autocomplete_choices(data: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    choices = (data or {}).get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        set_error(tree, ["data", "choices"], "BASE_TYPE_REQUIRED", "This field is required")
        return tree
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        set_error(
            tree,
            ["data", "choices"],
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {AUTOCOMPLETE_CHOICES_MAX} or fewer in length.",
        )
    for j, choice in enumerate(choices):
        cname = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(cname, str) or not 1 <= len(cname) <= 100:
            set_error(
                tree,
                ["data", "choices", j, "name"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
    return tree
