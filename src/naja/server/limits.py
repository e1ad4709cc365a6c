"""Request body limits enforced before anything is parsed or spooled.

FastAPI parses a multipart body (and spools its files to disk) before the route runs, so the
upload size limit must be checked earlier: a declared Content-Length over the limit is
answered 413 at once, and a chunked body is cut off as soon as it passes the limit.
"""

from __future__ import annotations

import json

# Multipart framing and form fields on top of the package bytes.
_SLACK = 1 << 20


class BodyLimit:
    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit + _SLACK

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _reject(send, self.limit - _SLACK)
                return
        seen = 0
        cut = False

        async def limited():
            nonlocal seen, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Behave as if the client went away: the upload is abandoned, nothing kept.
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited, send)


async def _reject(send, limit: int) -> None:
    body = json.dumps({"detail": f"the upload is larger than the limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
