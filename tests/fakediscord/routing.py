"""REST dispatch: match a request to a registered route, check the bot token, parse the
JSON or multipart body and turn the handler's result (or ``DiscordAPIError``) into
Discord's response (``Router`` mixin). The route table itself is in ``server.py``."""

from __future__ import annotations

import asyncio
import json
import re
import traceback
from typing import Any

from aiohttp import web

from .common import NO_CONTENT, Handler, Req
from .common import log as _log
from .errors import DiscordAPIError, flatten_errors, unauthorized
from .records import Records
from .relay import STAMP_HEADER


def _json_response(body: Any, status: int = 200) -> web.Response:
    # discord.py only parses JSON when Content-Type is exactly "application/json".
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


class Router(Records):
    """Routes REST requests to handlers; records each one in ``requests``."""

    def _route(self, method: str, pattern: str, handler: Handler, *, auth: bool = True) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, re.compile(rf"^/api/v\d+{regex}$"), handler, auth))

    async def _parse_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        ctype = request.headers.get("Content-Type", "")
        files: list[dict[str, Any]] = []
        body: Any = None
        if ctype.startswith("multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if key == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    data = value.file.read()
                    files.append(
                        {
                            "field": key,
                            "filename": value.filename,
                            "content_type": value.content_type,
                            "size": len(data),
                            "data": data,
                        }
                    )
        elif request.can_read_body:
            text = await request.text()
            if text:
                try:
                    body = json.loads(text)
                except ValueError:
                    raise DiscordAPIError(
                        400, 50109, "The request body contains invalid JSON."
                    ) from None
        return body, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # When the request reached the fake: stamped by the relay thread as it arrived (the
        # same clock as loop.time()), not when this loop got round to it.
        stamped = request.headers.get(STAMP_HEADER)
        at = float(stamped) if stamped else asyncio.get_running_loop().time()
        path = request.path
        method = request.method
        record: dict[str, Any] = {"method": method, "path": path, "query": dict(request.query)}
        self.requests.append(record)
        try:
            match = None
            for r_method, regex, handler, auth in self._routes:
                m = regex.match(path)
                if m and r_method == method:
                    match = (m, handler, auth)
                    break
            if match is None:
                self.unknown_routes.append(f"{method} {path}")
                _log.warning("fakediscord: unknown route %s %s", method, path)
                raise DiscordAPIError(404, 0, "404: Not Found")
            m, handler, auth = match
            if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise unauthorized()
            body, files = await self._parse_body(request)
            record["json"] = body
            req = Req(method, path, m.groupdict(), request.query, request.headers, body, files, at)
            result = await handler(req)
            if isinstance(result, web.StreamResponse):
                record["status"] = result.status
                return result
            if result is NO_CONTENT:
                record["status"] = 204
                return web.Response(status=204)
            record["status"] = 200
            return _json_response(result)
        except DiscordAPIError as exc:
            record["status"] = exc.status
            record["error"] = exc.body()
            if exc.violation:
                detail = flatten_errors(exc.errors or {})
                self.violation(
                    f"{exc.violation} -> {exc.status} {exc.code} {exc.message}"
                    + (f" {detail}" if detail else "")
                )
            return _json_response(exc.body(), exc.status)
        except Exception as exc:  # a bug in the fake: answer 400 so discord.py doesn't retry
            text = f"{method} {path}: {exc!r}\n{traceback.format_exc()}"
            _log.error("fakediscord internal error: %s", text)
            self.server_errors.append(text)
            record["status"] = 400
            return _json_response(
                {"message": f"fakediscord internal error: {exc!r}", "code": 0}, 400
            )
        finally:
            self.notifier.notify()
