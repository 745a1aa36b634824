"""Points discord.py at a fake Discord in a child process (`python -m bot` run by a test).

Python imports `sitecustomize` at start-up from the first directory on sys.path that
holds one; tests put this directory first on PYTHONPATH and set DOCKET_TEST_FAKE_DISCORD
to the fake's base URL (http://127.0.0.1:PORT). Without that variable nothing changes.
"""

from __future__ import annotations

import os

_BASE = os.environ.get("DOCKET_TEST_FAKE_DISCORD", "")

if _BASE.startswith("http://127.0.0.1:"):
    import discord.asset
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = f"{_BASE}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        "ws://" + _BASE.removeprefix("http://") + "/gateway")
    discord.asset.Asset.BASE = f"{_BASE}/cdn"
