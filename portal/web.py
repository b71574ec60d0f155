"""Cross-cutting web wiring: user loading, the menu, error pages, headers and locale."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime, get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from portal.errors import ServiceError
from portal.extensions import db, login_manager
from portal.specs import NavItem
from portal.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: _l("请求有误"),
    403: _l("没有权限"),
    404: _l("页面不存在"),
    405: _l("不支持的操作"),
    413: _l("上传内容过大"),
    429: _l("操作过于频繁"),
    500: _l("服务器出错了"),
}
ERROR_HINTS = {
    400: _l("提交的内容无法处理，请返回检查后重试。"),
    403: _l("您的账号无权访问此页面。如需权限，请联系环线办。"),
    404: _l("您要找的页面不存在或已被移除。"),
    405: _l("该页面不支持这种操作。"),
    413: _l("上传的文件或提交的内容超过了允许的大小。"),
    429: _l("请稍后再试。"),
    500: _l("服务器处理请求时出错，我们已记录此问题。请稍后再试。"),
}


@login_manager.user_loader
def _load_user(session_id: str):
    from portal.auth.sessions import load_session_user

    return load_session_user(session_id)


@login_manager.request_loader
def _load_token_user(req):
    """Members' systems call the JSON API with "Authorization: Bearer <token>"."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    from portal.auth.tokens import user_for_token

    return user_for_token(header[len("Bearer ") :].strip())


# The largest id a 32-bit integer column holds; larger ids in URLs cannot exist.
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """``<int:…>`` in every route: ids beyond MAX_ID answer 404 instead of overflowing the driver."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``: never an open redirect.

    Refuses control characters and backslashes (browsers drop or turn them into "/", so
    "/<tab>/evil.example" would leave the site) and anything with a scheme or a host.
    """
    if not target or not target.startswith("/") or any(c < " " or c in "\\\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return default
    return target


def act(work: Callable[[], Any], done: str, *, commit: bool = True) -> bool:
    """Run a service call for a view; flash its refusal (``ServiceError``, rolled back) or
    ``done`` (committed unless ``commit`` is False). True when it went through."""
    try:
        work()
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return False
    if commit:
        db.session.commit()
    flash(done, "success")
    return True


def core_nav_items(user) -> list[NavItem]:
    """The core menu for this user; plugin entries are appended after it.

    Entries with children are shown as dropdowns, which keeps the bar on one line on a
    desktop. The user's own pages (消息, 修改密码, a member admin's API 密钥, 退出) are in
    the user menu on the right of the navbar (base.html), not here.
    """
    # The request's catalogue, looked up once for the menu's 15–30 labels (Flask-Babel's
    # gettext looks it up at every call); still ``_`` for the message extraction.
    _ = request_translations().ugettext
    items = [
        NavItem(_("首页"), url_for("home.index")),
        NavItem(_("环线线路"), url_for("routes.index")),
        NavItem(
            _("目录"),
            "#",
            children=[
                NavItem(_("教学点"), url_for("catalog.sites")),
                NavItem(_("师资"), url_for("catalog.teachers")),
                NavItem(_("课程"), url_for("catalog.courses")),
                NavItem(_("成员单位"), url_for("members.index")),
                NavItem(_("联动活动"), url_for("events.index")),
                NavItem(
                    _("年度教学点目录"),
                    url_for("directory.year_page", year=datetime.now(LOCAL_TZ).year),
                ),
                NavItem(_("证书查验"), url_for("certificates.verify_form")),
            ],
        ),
    ]
    catalogue = items[-1].children
    if user.is_authenticated and (user.is_office or user.is_member_user):
        catalogue.append(NavItem(_("目录管理与督查"), url_for("directory.index")))
        catalogue.append(NavItem(_("师资共享"), url_for("sharing.index")))
        catalogue.append(NavItem(_("讲解员队伍"), url_for("guides.index")))
        catalogue.append(NavItem(_("教学评估"), url_for("evaluations.overview")))
    if user.is_authenticated and (user.is_office or user.role == "organizer"):
        catalogue.append(NavItem(_("学员培训档案"), url_for("records.people")))
    # Open runs: an entry of its own for those who book seats (and visitors), in 目录 for
    # staff and the office, whose bar is full.
    runs = NavItem(_("开放班次"), url_for("trainees.runs"))
    if user.is_authenticated and user.role == "trainee":
        items.insert(1, NavItem(_("我的"), url_for("trainees.me")))
        items.insert(2, NavItem(_("考勤"), url_for("attendance.me")))
    if user.is_authenticated and (user.is_office or user.is_member_user):
        items[-1].children.append(runs)
    else:
        items.append(runs)
    if user.is_authenticated and (user.is_office or user.role == "organizer"):
        items.append(NavItem(_("培训班"), url_for("bookings.classes")))
    if user.is_authenticated and user.role == "organizer":
        items.append(NavItem(_("统筹调训"), url_for("planner.index")))
    if user.is_authenticated and (user.is_office or user.is_member_user):
        items.append(NavItem(_("预约待办"), url_for("bookings.inbox")))
        items.append(NavItem(_("联席会议"), url_for("meetings.index")))
    attendance = NavItem(_("考勤"), url_for("attendance.classes"))
    if user.is_authenticated and user.role == "organizer":
        items.append(attendance)
    if user.is_authenticated and user.is_member_user:
        # In 目录 like 开放班次: a member's staff bar is full (one line at 1280 px).
        catalogue.append(attendance)
        catalogue.append(NavItem(_("统计报表"), url_for("reports.index")))
    if user.is_authenticated and user.is_office:
        items.append(
            NavItem(
                _("管理"),
                "#",
                children=[
                    NavItem(_("统计报表"), url_for("reports.index")),
                    NavItem(_("培训计划"), url_for("reports.plan")),
                    NavItem(_("用户管理"), url_for("auth.users")),
                    NavItem(_("插件"), url_for("members.plugins_page")),
                    NavItem(_("环线规则"), url_for("routes.settings")),
                    NavItem(_("统筹调训"), url_for("planner.index")),
                    NavItem(_("审计日志"), url_for("audit.index")),
                    NavItem(_("API 密钥"), url_for("auth.api_tokens")),
                ],
            )
        )
    return items


def nav_items() -> list[NavItem]:
    """The core menu, then what enabled plugins gave at the last sync (no plugin is asked).

    The core menu depends only on the language, the application's root, the year (the
    directory's entry) and the kind of user, so it is built once per such key and worker
    (a dozen ``url_for`` and translations on every page otherwise).
    """
    from portal.members.parts import nav_items_for

    user = current_user
    audience = (user.role, user.is_office, user.is_member_user) if user.is_authenticated else None
    key = (str(get_locale()), request.script_root, datetime.now(LOCAL_TZ).year, audience)
    kept = current_app.extensions.setdefault("portal_core_nav", {})
    core = kept.get(key)
    if core is None:
        core = kept[key] = core_nav_items(user)
    return core + nav_items_for(user)


def _nav_link(item: NavItem, css: str, path: str) -> str:
    """base.html's ``nav_link`` macro, for an entry of the menu."""
    url = escape(item.url)
    if item.url == path:
        return f'<a class="{css} active" href="{url}" aria-current="page">{escape(item.label)}</a>'
    return f'<a class="{css}" href="{url}">{escape(item.label)}</a>'


def nav_menu() -> Markup:
    """The navbar's menu (base.html, inside ``<ul class="navbar-nav me-auto">``) in one pass.

    What the template's loop over ``nav_items()`` with a macro call per entry wrote,
    whitespace included: the entries are links, or dropdowns (marked active when one of
    their entries is the current page).
    """
    path = request.path
    out = []
    for item in nav_items():
        if item.children:
            active = " active" if any(child.url == path for child in item.children) else ""
            links = "".join(
                f"<li>{_nav_link(child, 'dropdown-item', path)}</li>" for child in item.children
            )
            out.append(
                '\n          \n          \n          <li class="nav-item dropdown">\n'
                f'            <a class="nav-link dropdown-toggle{active}" href="#" role="button" '
                f'data-bs-toggle="dropdown" aria-expanded="false">{escape(item.label)}</a>\n'
                f'            <ul class="dropdown-menu">\n              {links}\n'
                "            </ul>\n          </li>\n          \n        "
            )
        else:
            out.append(
                "\n          \n          "
                f'<li class="nav-item">{_nav_link(item, "nav-link", path)}</li>\n          \n        '
            )
    return Markup("".join(out))


def request_translations():
    """This request's catalogue, looked up once.

    Flask-Babel's template functions look it up again at every ``_()`` (the babel context,
    the locale and its name, three times over ``g``): a page calls ``_()`` 60–100 times.
    The locale cannot change within a request (Flask-Babel keeps it per request too).
    """
    found = g.get("portal_translations")
    if found is None:
        found = g.portal_translations = get_translations()
    return found


def init_app(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["nav_menu"] = nav_menu
    app.jinja_env.filters["date"] = lambda value: format_date(value, "yyyy-MM-dd") if value else ""
    app.jinja_env.filters["datetime"] = lambda value: (
        format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""
    )

    @app.before_request
    def _request_setup():
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex[:16]
        session.permanent = True
        if getattr(current_user, "is_token", False) and request.method not in ("GET", "HEAD"):
            abort(403)
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint
            not in {"auth.change_password", "auth.logout", "static", "bootstrap.static"}
            and not (request.endpoint or "").endswith(".static")
            and not request.path.startswith("/api/")
        ):
            flash(_("您的密码已被重置，请先设置新密码。"), "warning")
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if request.path.startswith("/api/"):
            return {
                "error": str(ERROR_TITLES.get(error.code, error.name)),
                "status": error.code,
            }, error.code
        return (
            render_template(
                "error.html",
                code=error.code,
                title=ERROR_TITLES.get(error.code, error.name),
                hint=ERROR_HINTS.get(error.code, error.description),
            ),
            error.code,
        )

    @app.errorhandler(Exception)
    def _server_error(error: Exception):
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("request %s failed", g.get("request_id", "-"))
        from portal.extensions import db

        db.session.rollback()
        if request.path.startswith("/api/"):
            return {"error": str(ERROR_TITLES[500]), "status": 500}, 500
        return (
            render_template("error.html", code=500, title=ERROR_TITLES[500], hint=ERROR_HINTS[500]),
            500,
        )
