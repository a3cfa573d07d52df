"""What the server accepts from a browser: which Host names, which page resources (CSP),
and who may upload files to the chat page.

The server has no login: a web page elsewhere must not be able to reach it through DNS
rebinding (a foreign name resolving to this machine, so the browser treats it as that
page's own origin), load its pages into a frame, or store files through Gradio's upload
route while nothing on the page needs it.
"""

import re
from collections.abc import Iterable, Sequence

#: Names that always reach this machine itself; a rebinding attacker's page cannot use them.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

#: Everything the chat page and the API docs load comes from this server. What they need
#: besides (checked in headless Chromium, tests/serve/test_browser.py): inline scripts and
#: styles (Gradio's page and FastAPI's Swagger UI page start with inline scripts, and both
#: inject inline styles) and data: images (SVG icons). Gradio's queue streams answers over
#: fetch from the same origin, no websockets. No 'unsafe-eval': the page has no gr.HTML,
#: which evaluates its template as code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Sent with every response, page and API alike.
HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

#: Gradio's routes that store a request's files on the server. The page has a file control
#: only in the 문서 tab, shown while an admin key is set (screen recordings: never).
GRADIO_UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/process_recording")
UPLOAD_REFUSED = (
    "파일 올리기가 꺼져 있습니다: 관리 키(RAG_API_KEY)가 설정되지 않았습니다 "
    "(uploads are disabled: no admin key, RAG_API_KEY, is set)"
)
BAD_HOST = "허용되지 않은 호스트입니다 (host not allowed; see RAG_ALLOWED_HOSTS)"
#: ``name[:port]`` with a bracketed IPv6 literal or a name/IPv4 address.
_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[^\s:/\[\]@]+)(?::[0-9]{1,5})?")


def _host_name(host: str) -> str:
    """A Host header's name as starlette compares it: lower case, IP literals bracketed."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(configured: str, bound: Iterable[str] = ()) -> list[str]:
    """The Host names to answer: loopback, the addresses the server binds (``bound``), and
    the comma-separated ``configured`` ones (``RAG_ALLOWED_HOSTS``; ``*`` accepts any,
    ``*.example.com`` a domain's sub-domains)."""
    extra = [h for h in configured.split(",") if h.strip()]
    return list(dict.fromkeys(_host_name(h) for h in [*LOOPBACK_HOSTS, *bound, *extra]))


def host_allowed(header: str | None, allowed: Sequence[str]) -> bool:
    """Whether a request's Host header names one of ``allowed`` (see ``allowed_hosts``);
    a missing or malformed header is not allowed."""
    if "*" in allowed:
        return True
    match = _HOST_HEADER.fullmatch((header or "").strip().lower())
    if match is None:
        return False
    name = match[1].rstrip(".")  # "localhost." is "localhost"
    return any(
        name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:]))
        for pattern in allowed
    )
