"""The API's Swagger UI page with its script, styles and icon served by this process.

FastAPI's own docs page loads them from a CDN, which leaves it blank offline. The files
come from the ``fastapi-offline`` package (Swagger UI 5, which reads the OpenAPI 3.1
FastAPI writes; ``swagger-ui-bundle`` ships Swagger UI 4, which refuses it); only its
static folder is used.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the files are served, inside the app the docs page belongs to.
STATIC_PATH = "/static/swagger"
SWAGGER_FILES = files("fastapi_offline") / "static"


def add_offline_docs(api: FastAPI, docs_path: str = "/docs") -> None:
    """Serve Swagger UI at ``docs_path`` of ``api`` (made with ``docs_url=None``) from
    the installed files. URLs carry the app's mount point (``root_path``), as FastAPI's
    own docs page does."""
    api.mount(STATIC_PATH, StaticFiles(directory=str(SWAGGER_FILES)), name="swagger-ui")

    @api.get(docs_path, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        static = root + STATIC_PATH
        return get_swagger_ui_html(
            openapi_url=root + (api.openapi_url or "/openapi.json"),
            title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            swagger_ui_parameters=api.swagger_ui_parameters,
        )
