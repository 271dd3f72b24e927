"""Response headers that keep the page from being sniffed into another type or framed by a stranger's site.

X-Frame-Options is not set: it cannot allow Hugging Face Spaces, which show the app in a frame; CSP's
frame-ancestors can, so it names them (and the app's own origin)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "frame-ancestors 'self' https://huggingface.co https://*.huggingface.co https://*.hf.space",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class SecurityHeaders:
    """Plain ASGI middleware (it leaves streamed responses, Gradio's server-sent events, streaming)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def security_middleware() -> list[Middleware]:
    """For ``launch(app_kwargs={"middleware": ...})``: Gradio passes it to its FastAPI app."""
    return [Middleware(SecurityHeaders)]
