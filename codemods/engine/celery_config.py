"""Where a project's Celery configuration lives and what Celery reads from it: the apps, the modules
their `config_from_object` names, the setting in effect for each name, and where a missing one belongs.
The settings check (celery_checks) reports from it; the acks-late-config rule writes to it."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import facts
from .celery_settings import OLD_NAME_OF, OLD_NAMES
from .names import dotted

if TYPE_CHECKING:
    from .project import Project

DJANGO_SETTINGS = "django.conf:settings"
REDIS_SCHEMES = frozenset({"redis", "rediss", "sentinel"})
REDELIVERING = REDIS_SCHEMES | {"sqs"}  # brokers that deliver an unacknowledged message again after visibility_timeout


@dataclass(frozen=True)
class App:
    module: str
    name: str  # the module-level name bound to Celery(...)


@dataclass
class Home:
    """Where settings the project does not write yet belong, and how it spells them."""

    module: str
    after: facts.Setting | None  # insert after this setting's statement, in its block; None: at the end
    style: str  # "namespace" CELERY_TASK_ACKS_LATE, "old" CELERY_ACKS_LATE, "lowercase" task_acks_late, "conf" app.conf.x
    prefix: str = ""  # the namespace ("CELERY") or the conf object ("app.conf")

    def spelling(self, name: str) -> str:
        if self.style == "namespace":
            return f"{self.prefix}_{name.upper()}"
        if self.style == "old":
            return OLD_NAME_OF.get(name, name.upper())
        if self.style == "conf":
            return f"{self.prefix}.{name}"
        return name


class CeleryConfig:
    """The project's Celery configuration as Celery reads it; test modules (their settings are not the
    workers') left out."""

    def __init__(self, project: Project):
        self.project = project
        settings = [(m, s) for m, s in project.celery_settings() if not project.is_test_module(m)]
        self.sources = [
            (summary.name, source) for summary in list(project.modules.values()) for source in summary.config_sources
            if not project.is_test_module(summary.name)
        ]
        self.apps = [
            App(summary.name, name) for summary in list(project.modules.values()) for name in summary.celery_apps
            if not project.is_test_module(summary.name)
        ]
        read_modules = {self._module_of(module, source.source) for module, source in self.sources}
        # a lowercase `broker_url = ...` is a setting only in a module config_from_object reads
        self.written = [(m, s) for m, s in settings if not _bare(s.written) or m in read_modules]
        if self.django_namespace == "":  # Django settings read as they are: only the old uppercase names count
            self.written = [(m, replace(s, ignored=OLD_NAME_OF[s.name]) if _needs_namespace(s) else s) for m, s in self.written]
        self.in_effect = _in_effect(project, self.written)

    def value(self, name: str) -> object:
        return self.in_effect[name][1].value if name in self.in_effect else None

    @property
    def django_namespace(self) -> str | None:
        """The prefix the Django settings are read with ("CELERY"), "" without one, None when no app reads them."""
        namespaces = {source.namespace or "" for _, source in self.sources if source.source == DJANGO_SETTINGS}
        return namespaces.pop() if len(namespaces) == 1 else None

    def writers(self, name: str) -> list[tuple[str, facts.Setting]]:
        return [(m, s) for m, s in self.written if s.name == name and not s.ignored]

    def loaded_with(self, module: str) -> set[str]:
        """`module` and the settings modules it star-imports, transitively (production.py's base.py)."""
        seen, todo = set(), [module]
        while todo:
            current = todo.pop()
            summary = self.project.module(current)
            if current in seen or summary is None:
                continue
            seen.add(current)
            todo.extend(found.name for m in summary.star_imports if (found := self.project.module(m)))
        return seen

    def overridden_elsewhere(self, name: str) -> list[str]:
        """Modules other than the one in effect that write `name` and that it does not load: which of them
        a deployment runs is not in the code."""
        if name not in self.in_effect:
            return []
        module = self.in_effect[name][0]
        loaded = self.loaded_with(module)
        return sorted({m for m, _ in self.writers(name) if m not in loaded})

    def home(self) -> tuple[Home | None, str]:
        """(where a missing setting goes, or None; why not, when None)."""
        if len({(source.source, source.namespace) for _, source in self.sources}) > 1:
            shown = ", ".join(sorted({f"{self.project.display(m)}:{s.line}" for m, s in self.sources}))
            return None, f"the apps read their settings from different places ({shown})"
        writable = {n: (m, s) for n, (m, s) in self.in_effect.items() if not s.written.startswith("Celery(")}
        named = self._django_settings_module() if writable else ""
        if named and any(m == named for m, _ in self.written):
            # the settings module the app's own code names: every deployment loads it (a deployment's module
            # that star-imports it and overrides some settings reaches that deployment only)
            anchor = max((s for m, s in self.written if m == named and not s.written.startswith("Celery(")), key=lambda s: s.statement_line)
            style = self._style(anchor)
            return (Home(named, anchor, *style), "") if style else (None, self._unknown_style(named))
        if writable:
            module = max((m for m, _ in writable.values()), key=lambda m: sum(1 for n, _ in writable.values() if n == m))
            # after the last one; inside an `if` / `try`, after that whole block (true on every branch)
            anchor = max((s for m, s in writable.values() if m == module), key=lambda s: s.statement_line)
            style = self._style(anchor)
            return (Home(module, anchor, *style), "") if style else (None, self._unknown_style(module))
        settings_module = self._django_settings_module()
        if settings_module and self.django_namespace is not None:
            namespace = self.django_namespace
            return Home(settings_module, None, "namespace" if namespace else "old", namespace), ""
        read = [self._module_of(m, s.source) for m, s in self.sources if s.source != DJANGO_SETTINGS]
        if len(read) == 1 and self.project.has_module(read[0]) and (found := self.project.module(read[0])):
            return Home(found.name, None, "lowercase"), ""
        return None, "no Celery settings module found (no CELERY_* settings, no config_from_object naming one)"

    def _style(self, anchor: facts.Setting) -> tuple[str, str] | None:
        written = anchor.written
        if ".conf" in written:
            return "conf", written.split(".conf", 1)[0] + ".conf"
        if _bare(written):
            return "lowercase", ""
        namespace = self.django_namespace
        if namespace:
            return "namespace", namespace
        if namespace == "" or (namespace is None and written in OLD_NAMES):
            return "old", ""  # without a namespace Celery reads only the old uppercase names
        if namespace is None and written.startswith("CELERY_"):
            return "namespace", "CELERY"
        return None

    def _unknown_style(self, module: str) -> str:
        return f"cannot tell how {self.project.display(module)} names Celery settings (no config_from_object found)"

    def _django_settings_module(self) -> str:
        """The settings module the Celery app sets (`os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`)."""
        for module in self.project.modules_saying("DJANGO_SETTINGS_MODULE"):
            if self.project.is_test_module(module):
                continue
            tree = self.project.tree(module)
            for node in ast.walk(tree) if tree is not None else ():
                if (
                    isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("environ.setdefault")
                    and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args)
                    and node.args[0].value == "DJANGO_SETTINGS_MODULE" and self.project.has_module(str(node.args[1].value))
                    and (named := self.project.module(str(node.args[1].value))) is not None
                    and not self.project.is_test_module(named.name)
                ):
                    return named.name
        return ""

    def _module_of(self, module: str, source: str) -> str:
        """The module config_from_object reads: "proj.celeryconfig", the module of "proj.config:Config", an
        imported module, or the module holding the config class it names (this one, or one it imports from)."""
        if source == DJANGO_SETTINGS or not source:
            return ""
        if ":" in source:
            return source.split(":", 1)[0]
        summary = self.project.module(module)
        target = summary.imports.get(source.split(".", 1)[0], "") if summary else ""
        target = target + source[len(source.split(".", 1)[0]):] if target else source
        if self.project.has_module(target):
            return target
        owner = target.rsplit(".", 1)[0] if "." in target else module  # a class: in the module that defines it
        return owner if self.project.has_module(owner) else target

    def home_text(self) -> str:
        """Where a missing setting belongs, as users read it: `path, after line N` or `path`."""
        home, _ = self.home()
        if home is None:
            return ""
        shown = self.project.display(home.module)
        return f"{shown}, after line {home.after.statement_line}" if home.after else shown


def _needs_namespace(setting: facts.Setting) -> bool:
    """CELERY_TASK_ACKS_LATE: a name only `namespace="CELERY"` reads (its old name is CELERY_ACKS_LATE)."""
    written = setting.written
    return written.isupper() and written.startswith("CELERY_") and written not in OLD_NAMES and setting.name in OLD_NAME_OF and not setting.ignored


def _bare(written: str) -> bool:
    """A lowercase module-level name (`broker_url = ...` in a celeryconfig module)."""
    return written.islower() and "." not in written and "(" not in written


def _in_effect(project: Project, written) -> dict[str, tuple[str, facts.Setting]]:
    """The setting Celery reads for each name: not an ignored spelling; the current name over a deprecated
    one; in a settings module that star-imports another (production over base) over that one; and the
    last assignment in a module over earlier ones."""

    def star_depth(module: str, seen=frozenset()) -> int:
        summary = project.module(module)
        stars = [found.name for m in summary.star_imports if (found := project.module(m))] if summary else []
        return max((1 + star_depth(m, seen | {module}) for m in stars if m not in seen), default=0)

    ranked = {}
    for module, setting in written:
        if setting.ignored:
            continue
        rank = (setting.written not in OLD_NAMES, star_depth(module), setting.line)
        if setting.name not in ranked or rank >= ranked[setting.name][0]:
            ranked[setting.name] = (rank, (module, setting))
    return {name: entry for name, (_, entry) in ranked.items()}


def dict_display_keys(source: str) -> set[str] | None:
    """The literal keys of a dict written out (`{"global_keyprefix": PREFIX}`), None for anything else."""
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Dict) or any(k is None or not isinstance(k, ast.Constant) for k in node.keys):
        return None
    return {k.value for k in node.keys}


def longest_time_limit(project: Project, found) -> tuple[float | None, str]:
    longest, where = None, ""
    for name in ("task_time_limit", "task_soft_time_limit"):
        limit = found.get(name)
        if limit and isinstance(limit[1].value, (int, float)) and (longest is None or limit[1].value > longest):
            longest, where = limit[1].value, name
    for task in project.tasks:
        function = project.function(task.key)
        for decorator in function.decorators if function else ():
            for option in ("time_limit", "soft_time_limit"):
                limit = decorator.options.get(option)
                if isinstance(limit, (int, float)) and (longest is None or limit > longest):
                    longest, where = limit, f"task {task.name} ({option})"
    return longest, where


def longest_countdown(project: Project) -> tuple[float | None, str]:
    """The longest wait the project's loaded code gives a message in literals (`countdown=`, `eta=now +
    timedelta(...)`), and where."""
    longest, where = None, ""
    for summary in list(project.modules.values()):
        functions = [*summary.functions.values(), *(m for c in summary.classes.values() for m in c.methods.values())]
        for function in functions:
            for line, seconds in function.countdowns:
                if longest is None or seconds > longest:
                    longest, where = seconds, f"{project.display(summary.name)}:{line}"
    return longest, where


def scheme(setting) -> str:
    """The transport a broker URL names (redis, rediss, sentinel, sqs, amqp, ...), read from its value or
    default, else from the text as written."""
    text = str(setting.value if isinstance(setting.value, str) else setting.source).strip("'\" ").lower()
    if "://" in text:
        return text.split("://", 1)[0].rsplit("+", 1)[-1].split("(")[-1].strip("'\"f ")
    return next((s for s in ("rediss", "redis", "sentinel", "sqs", "amqp") if s in text), "")


def brokers(config: CeleryConfig) -> list[tuple[str, facts.Setting]]:
    """(module, setting) of every broker_url the settings write (an `if` on the environment may write two)."""
    return [(m, s) for m, s in config.written if s.name == "broker_url" and not s.ignored]


def transports(config: CeleryConfig) -> set[str]:
    """Every transport those broker URLs name."""
    return {scheme(s) for _, s in brokers(config)}
