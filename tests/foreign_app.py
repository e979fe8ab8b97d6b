"""A small third-party-like API with none of the reference API: every way a deployment can
answer in a shape the checks do not expect. Served by uvicorn for tests/test_foreign_target.py.

| path | answers |
|---|---|
| ``/`` | an HTML page |
| ``/items`` | GET: a JSON array; other methods 405 |
| ``/health`` | plain text ``ok`` |
| ``/api/v1/formulas`` | GET: a JSON object without ``items``; POST: 201 without ``id`` |
| ``/notes`` | GET and POST: HTML (201 for POST) where an API would answer JSON |
| ``/broken`` | 500 with a plain-text body, whatever the method |
| ``/admin/login/`` | a login page setting ``csrftoken`` without Secure and HttpOnly (as Django) |
| anything else | 404 with an HTML body (there is no login API) |
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

PAGE = "<!doctype html><html><head><title>Shop</title></head><body>Welcome</body></html>"
ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def home(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def items(request: Request) -> Response:
    return JSONResponse([{"name": "chair", "price": 12}, {"name": "table", "price": 40}])


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def formulas(request: Request) -> Response:
    # the body is never read: a declared oversize body gets its answer at once
    if request.method == "POST":
        return JSONResponse({"status": "accepted"}, status_code=201)
    return JSONResponse({"data": [], "count": 0})


async def notes(request: Request) -> Response:
    status = 201 if request.method == "POST" else 200
    return HTMLResponse("<p>saved</p>" if status == 201 else PAGE, status_code=status)


async def broken(request: Request) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


async def admin_login(request: Request) -> Response:
    page = HTMLResponse(PAGE)
    page.headers.append("set-cookie", "csrftoken=4f1c2a; Path=/; SameSite=Lax")
    return page


async def not_found(request: Request, exc: Exception) -> Response:
    return HTMLResponse("<h1>404 Not Found</h1>", status_code=404)


app = Starlette(
    routes=[
        Route("/", home),
        Route("/items", items, methods=["GET"]),
        Route("/health", health),
        Route("/api/v1/formulas", formulas, methods=ANY),
        Route("/notes", notes, methods=ANY),
        Route("/broken", broken, methods=ANY),
        Route("/admin/login/", admin_login),
    ],
    exception_handlers={404: not_found},
)
