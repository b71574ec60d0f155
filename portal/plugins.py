"""The plugin manager: discovery, enable/disable, fault isolation and per-plugin hook calls.

Plugins are found through the entry-point group ``portal.plugins``. A plugin that cannot be
loaded (it fails to import, or pluggy refuses it: a misspelt hook, a wrong argument name)
is refused alone, with the reason shown on the plugins page and by ``plugins list``; the
portal and every other member go on. Each hook is called plugin by plugin, so that one
plugin that raises or returns garbage is caught, logged with its name and recorded (a short
history per plugin) for the office's plugins page while the others still answer.
Enabled/disabled state lives in the database (``PluginState``) so every worker sees it.
"""

from __future__ import annotations

import contextvars
import importlib.metadata
import logging
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import monotonic
from types import ModuleType
from typing import Any

import pluggy
from flask import Blueprint, Flask, abort, current_app, g, has_request_context, request
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session

from portal import hookspecs
from portal.extensions import db
from portal.members.models import PluginError, PluginState
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "portal.plugins"
# Faults kept per plugin (the newest); older ones are deleted as new ones come.
ERRORS_KEPT = 20
# Faults recorded while the caller's transaction is open, written once it has ended.
PENDING_ERRORS = "portal.plugins.pending_errors"
# Outside a request, the enabled state kept for a one_state_read() block.
_state_read: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "plugin_state_read", default=None
)


class PluginHookError(Exception):
    """A plugin's hook raised or returned something the core cannot use."""


class PluginTimeout(PluginHookError):
    """A plugin's hook did not answer within ``PLUGIN_HOOK_TIMEOUT`` seconds."""


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    version: str
    distribution: str
    module: ModuleType
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class RefusedPlugin:
    """A plugin found through its entry point that could not be loaded, and why."""

    name: str
    version: str
    distribution: str
    reason: str


@dataclass
class Discovery:
    """What make_plugin_manager found: the manager, each plugin's distribution, the refused."""

    pm: pluggy.PluginManager
    distributions: dict[str, importlib.metadata.Distribution]
    refused: dict[str, RefusedPlugin]


def unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Hooks ``plugin`` implements that no spec declares (a misspelt name, say)."""
    return sorted(
        caller.name
        for caller in pm.get_hookcallers(plugin) or []
        if not caller.has_spec()
        and any(i.plugin is plugin and not i.optionalhook for i in caller.get_hookimpls())
    )


def make_plugin_manager() -> Discovery:
    """A plugin manager with every entry-point plugin that loads, checked against the specs.

    Each plugin is loaded and registered on its own; one that fails to import, that pluggy
    refuses (``PluginValidationError``: a wrong argument name) or that implements a hook no
    spec declares is left out and kept in ``refused`` with the reason, loudly logged with its
    name, while the others load as usual.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    distributions: dict[str, importlib.metadata.Distribution] = {}
    refused: dict[str, RefusedPlugin] = {}
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP or pm.has_plugin(ep.name) or ep.name in refused:
                continue
            plugin = None
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
                unknown = unknown_hooks(pm, plugin)
                if unknown:
                    raise pluggy.PluginValidationError(
                        plugin, f"未知的钩子 {'、'.join(unknown)}（拼写有误？）"
                    )
            except Exception as exc:
                if plugin is not None and pm.is_registered(plugin):
                    pm.unregister(plugin)
                reason = "".join(traceback.format_exception_only(exc)).strip()
                log.error("plugin %s refused: %s", ep.name, reason)
                refused[ep.name] = RefusedPlugin(
                    name=ep.name,
                    version=dist.version or "",
                    distribution=dist.metadata["name"] or "",
                    reason=reason[-2000:],
                )
                continue
            distributions[ep.name] = dist
    # Whatever is left is valid: this only fails for a plugin registered by other means.
    pm.check_pending()
    return Discovery(pm, distributions, refused)


def init_app(app: Flask) -> None:
    found = make_plugin_manager()
    app.extensions["portal.plugins"] = found.pm
    app.extensions["portal.plugin_distributions"] = found.distributions
    app.extensions["portal.refused_plugins"] = found.refused


def plugin_manager() -> pluggy.PluginManager:
    return current_app.extensions["portal.plugins"]


def refused_plugins() -> list[RefusedPlugin]:
    """Plugins found but not loaded, by name, with why."""
    found = current_app.extensions.get("portal.refused_plugins", {})
    return [found[name] for name in sorted(found)]


def installed_plugins() -> list[InstalledPlugin]:
    """Every plugin registered with this app's manager, sorted by name.

    Reading a package's metadata parses files, so the answer is kept with the app and
    recomputed only when the set of registered plugins changes (tests register some).
    """
    pm = plugin_manager()
    registered = tuple((name, id(plugin)) for name, plugin in pm.list_name_plugin() if plugin)
    cached = current_app.extensions.get("portal.installed_plugins")
    if cached is not None and cached[0] == registered:
        return cached[1]
    dists = current_app.extensions.get("portal.plugin_distributions", {})
    found = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(name)
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or []))
        found.append(
            InstalledPlugin(
                name=name,
                version=dist.version if dist else "",
                distribution=dist.metadata["name"] if dist else "",
                module=plugin,
                hooks=hooks,
            )
        )
    answer = sorted(found, key=lambda p: p.name)
    current_app.extensions["portal.installed_plugins"] = (registered, answer)
    return answer


def plugin_names() -> list[str]:
    return [p.name for p in installed_plugins()]


def plugin_states() -> dict[str, PluginState]:
    """The stored state of each installed plugin; a plugin seen for the first time is enabled."""
    stored = {s.name: s for s in db.session.scalars(select(PluginState))}
    return {
        name: stored.get(name) or PluginState(name=name, enabled=True) for name in plugin_names()
    }


def enabled_plugin_names() -> frozenset[str]:
    """Names of the installed plugins enabled in this deployment.

    Read once per request, and once per ``one_state_read()`` block outside a request;
    otherwise (the CLI, timers) on every call, so a long-running loop sees changes.
    """
    if has_request_context():
        store: dict[str, Any] | None = g.setdefault("plugin_state", {})
    else:
        store = _state_read.get()
    if store is not None and "enabled" in store:
        return store["enabled"]
    disabled = set(
        db.session.scalars(select(PluginState.name).where(PluginState.enabled.is_(False)))
    )
    names = frozenset(name for name in plugin_names() if name not in disabled)
    if store is not None:
        store["enabled"] = names
    return names


@contextmanager
def one_state_read() -> Iterator[None]:
    """Outside a request, read the plugins' enabled state once for the whole block.

    For one service call that asks many times (checking a long route from the CLI or a
    worker thread); inside a request the state is read once per request anyway. A block
    inside another shares the outer block's read (the date search checks many plans).
    """
    if _state_read.get() is not None:
        yield
        return
    token = _state_read.set({})
    try:
        yield
    finally:
        _state_read.reset(token)


def is_enabled(name: str) -> bool:
    return name in enabled_plugin_names()


def set_enabled(name: str, enabled: bool, by: str) -> PluginState:
    """Enable or disable an installed plugin for this deployment. The caller commits."""
    if name not in plugin_names():
        raise KeyError(name)
    state = db.session.get(PluginState, name) or PluginState(name=name)
    state.enabled = enabled
    state.changed_at = utcnow()
    state.changed_by = by
    db.session.add(state)
    from portal.audit.services import record

    record(by, "plugin.enable" if enabled else "plugin.disable", name)
    if has_request_context():
        g.pop("plugin_state", None)
    if (store := _state_read.get()) is not None:
        store.clear()
    return state


def record_error(name: str, hook: str, error: str) -> None:
    """Log a plugin's fault and keep it: in its short history and as its last error.

    Written on a connection of its own, so the fault is kept even when the caller's
    transaction rolls back. While the caller's session is in a transaction the write waits
    until that transaction has ended (committed or rolled back): on SQLite that transaction
    may hold the database's write lock (``flask portal sync`` does), which a second
    connection would wait for in vain ("database is locked"). A failure to record is logged
    and never raised.
    """
    log.error("plugin %s: hook %s failed: %s", name, hook, error)
    fault = {"plugin": name, "hook": hook[:64], "error": error[-4000:], "created_at": utcnow()}
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(PENDING_ERRORS, []).append(fault)
    else:
        _write_errors([fault])


@event.listens_for(Session, "after_transaction_end")
def _write_pending_errors(session: Session, transaction: Any) -> None:
    """Write the faults recorded during a transaction once it is over (record_error)."""
    if transaction.parent is None and (pending := session.info.pop(PENDING_ERRORS, None)):
        _write_errors(pending)


def _write_errors(faults: list[dict[str, Any]]) -> None:
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout=2000")
            for fault in faults:
                name = fault["plugin"]
                conn.execute(insert(PluginError).values(**fault))
                last = {
                    "last_error": fault["error"],
                    "last_error_hook": fault["hook"],
                    "last_error_at": fault["created_at"],
                }
                done = conn.execute(
                    update(PluginState).where(PluginState.name == name).values(**last)
                )
                if done.rowcount == 0:
                    conn.execute(insert(PluginState).values(name=name, enabled=True, **last))
                newest = (
                    select(PluginError.id)
                    .where(PluginError.plugin == name)
                    .order_by(PluginError.id.desc())
                    .limit(ERRORS_KEPT)
                )
                conn.execute(
                    delete(PluginError).where(
                        PluginError.plugin == name, PluginError.id.not_in(newest.scalar_subquery())
                    )
                )
            conn.commit()
    except Exception:  # recording must never break the page that called the hook
        log.exception("could not record the errors of plugins %s", {f["plugin"] for f in faults})


def recent_errors(names: list[str] | None = None) -> dict[str, list[PluginError]]:
    """Each plugin's kept faults, newest first."""
    query = select(PluginError).order_by(PluginError.plugin, PluginError.id.desc())
    if names is not None:
        query = query.where(PluginError.plugin.in_(names))
    found: dict[str, list[PluginError]] = {}
    for fault in db.session.scalars(query):
        found.setdefault(fault.plugin, []).append(fault)
    return found


def clear_error(name: str) -> None:
    state = db.session.get(PluginState, name)
    if state is not None:
        state.last_error = state.last_error_hook = state.last_error_at = None


def hook_implementations(hook_name: str, only: set[str] | None) -> Iterator[pluggy.HookImpl]:
    for impl in getattr(plugin_manager().hook, hook_name).get_hookimpls():
        if only is None or impl.plugin_name in only:
            yield impl


def implements(name: str, hook_name: str) -> bool:
    """Whether plugin ``name`` has an implementation of ``hook_name``."""
    return any(True for _ in hook_implementations(hook_name, {name}))


def call_each(
    hook_name: str,
    *,
    plugins: set[str] | None = None,
    include_disabled: bool = False,
    check: Callable[[Any], Any] | None = None,
    **kwargs: Any,
) -> list[tuple[str, Any]]:
    """Call ``hook_name`` on each enabled plugin (or on ``plugins``) and return (name, result).

    A plugin whose implementation raises, or whose result ``check`` rejects by raising,
    is left out of the answer and its error is recorded; the others still answer.
    """
    # A new set: enabled_plugin_names() is cached for the request and must not change.
    allowed = set(plugin_names()) if include_disabled else set(enabled_plugin_names())
    if plugins is not None:
        allowed &= plugins
    answers = []
    for impl in hook_implementations(hook_name, allowed):
        if cooling_down(impl.plugin_name):
            continue
        try:
            result = call_bounded(
                impl.function, {arg: kwargs[arg] for arg in impl.argnames}, impl.plugin_name
            )
            if check is not None:
                result = check(result)
        except Exception as exc:
            if isinstance(exc, PluginHookError):
                detail = str(exc)
            else:
                detail = "".join(traceback.format_exception_only(exc)).strip()
                log.debug("traceback of plugin %s", impl.plugin_name, exc_info=True)
            record_error(impl.plugin_name, hook_name, detail)
            continue
        answers.append((impl.plugin_name, result))
    return answers


# ---------------------------------------------------------------- time bound


def cooling_down(name: str) -> bool:
    """Whether plugin ``name`` overran its time bound recently and is skipped by this worker."""
    until = current_app.extensions.setdefault("portal.plugin_cooldown", {}).get(name)
    return until is not None and monotonic() < until


def call_bounded(function: Callable[..., Any], kwargs: dict[str, Any], name: str) -> Any:
    """Call a hook implementation, giving up after ``PLUGIN_HOOK_TIMEOUT`` seconds.

    In a process's main thread (gunicorn's sync workers, the CLI) a SIGALRM timer interrupts
    the hook where it waits or runs Python code. In other threads (a threaded server)
    the hook runs in a helper thread that is abandoned when it overruns: Python cannot stop
    a thread, so it finishes in the background and its answer is thrown away. Either way the
    plugin is then skipped for ``PLUGIN_TIMEOUT_COOLDOWN`` seconds by this worker.
    """
    seconds = float(current_app.config.get("PLUGIN_HOOK_TIMEOUT") or 0)
    if seconds <= 0:
        return function(**kwargs)
    try:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            return _call_with_alarm(function, kwargs, seconds, name)
        return _call_in_thread(function, kwargs, seconds, name)
    except PluginTimeout:
        cooldown = float(current_app.config.get("PLUGIN_TIMEOUT_COOLDOWN") or 0)
        current_app.extensions.setdefault("portal.plugin_cooldown", {})[name] = (
            monotonic() + cooldown
        )
        raise


def _timeout(name: str, seconds: float) -> PluginTimeout:
    return PluginTimeout(f"{seconds:g} 秒内未响应，已中止；本进程暂不调用该插件")


def _call_with_alarm(
    function: Callable[..., Any], kwargs: dict[str, Any], seconds: float, name: str
) -> Any:
    previous_delay = signal.getitimer(signal.ITIMER_REAL)[0]
    if previous_delay and previous_delay <= seconds:
        # Someone else's alarm comes first (a test runner's timeout, say): leave it alone.
        return function(**kwargs)

    def overran(signum: int, frame: Any) -> None:
        raise _timeout(name, seconds)

    previous_handler = signal.signal(signal.SIGALRM, overran)
    started = monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(**kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = previous_delay - (monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


def _call_in_thread(
    function: Callable[..., Any], kwargs: dict[str, Any], seconds: float, name: str
) -> Any:
    # The helper thread sees this thread's app and request contexts (and so its session).
    context = contextvars.copy_context()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = context.run(function, **kwargs)
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    helper = threading.Thread(target=run, name=f"plugin-{name}", daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        raise _timeout(name, seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def list_of(kind: type) -> Callable[[Any], list]:
    """A ``check`` for call_each: the result must be a list (or tuple) of ``kind``."""

    def check(result: Any) -> list:
        if result is None:
            return []
        if not isinstance(result, list | tuple) or not all(isinstance(x, kind) for x in result):
            raise PluginHookError(
                f"返回值应为 {kind.__name__} 的列表，实际为 {type(result).__name__}"
            )
        return list(result)

    return check


def one_of(kind: type) -> Callable[[Any], Any]:
    """A ``check`` for call_each: the result must be one ``kind``."""

    def check(result: Any) -> Any:
        if not isinstance(result, kind):
            raise PluginHookError(f"返回值应为 {kind.__name__}，实际为 {type(result).__name__}")
        return result

    return check


def register_plugin_blueprints(app: Flask) -> None:
    """Register every installed plugin's blueprints; they answer 404 while it is disabled."""
    owners: dict[str, str] = {}
    with app.app_context():
        for name, blueprints in call_each(
            "portal_blueprints", include_disabled=True, check=list_of(Blueprint)
        ):
            for bp in blueprints:
                app.register_blueprint(bp)
                owners[bp.name] = name

    @app.before_request
    def _plugin_pages_need_enabled_plugin() -> None:
        for bp_name in request.blueprints:
            if bp_name in owners and not is_enabled(owners[bp_name]):
                abort(404)
