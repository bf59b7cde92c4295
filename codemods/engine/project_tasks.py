"""Celery tasks in the project and the functions each one reaches."""

from __future__ import annotations

import collections
import functools
import re
from pathlib import Path

from . import facts
from .entities import APP_LIKE, CELERY_TASK_CLASSES, CELERY_TASK_DECORATORS, FunctionKey, Reach, Symbol, Task
from .summarize_models import TASK_OPTIONS

SINGLETON_BASES = ("celery_singleton.Singleton", "celery_singleton.singleton.Singleton")

class TaskIndex:
    """Part of `Project`: tasks, call targets and reachability."""

    def is_task_decorator(self, module: str, target: str, seen: frozenset = frozenset()) -> bool:
        symbol = self.resolve(module, target)
        written_last = target.rsplit(".", 1)[-1]
        if symbol.kind == "external":
            if symbol.name in CELERY_TASK_DECORATORS or symbol.name == "<celery app>.task":
                return True
            head = target.split(".")[0]
            if written_last == "task" and "." in target and (head in APP_LIKE or head.endswith("_app")):
                return True
        configured = self.config.task_decorators
        if target in configured or symbol.name in configured or f"{symbol.module}.{symbol.name}" in configured:
            return True
        if symbol.kind == "function" and symbol not in seen:
            return self._is_task_wrapper(symbol, seen | {symbol})
        if symbol.kind in {"unknown", "external"} and symbol not in seen:
            module, alias = self._decorator_alias(symbol)
            return bool(alias) and self.is_task_decorator(module, alias, seen | {symbol})
        return False

    def _decorator_alias(self, symbol: Symbol) -> tuple[str, str]:
        """(module, decorator as written) for a name a project module binds to one: `project_task =
        shared_task`, or a call or partial of it."""
        module, alias = self._alias_of(symbol)
        return (module, alias.target) if alias is not None else ("", "")

    def _alias_of(self, symbol: Symbol) -> tuple[str, facts.Decorator | None]:
        """The decorator a name is bound to, in the module that binds it. An imported name resolves as
        "external" `pkg.mod.name`."""
        module, name = symbol.module, symbol.name
        if symbol.kind == "external":
            module, _, name = symbol.name.rpartition(".")
            if not module or not self.has_module(module):
                return "", None
            module = self._canonical(module)
        summary = self.module(module)
        return (module, summary.decorator_aliases.get(name)) if summary is not None else ("", None)

    def task_options(self, module: str, decorator: facts.Decorator | None, cls: str = "") -> dict[str, object]:
        """The options that decide redelivery a task sets itself (acks_late, reject_on_worker_lost, ...),
        as Celery reads them: the decorator's own keywords, then those of the alias it is
        (`task_with_retry = shared_task(acks_late=True)`), then the Task class (a class-based task, or
        the one `base=` names), a subclass's attributes before its bases'."""
        options: dict[str, object] = {}
        classes = [(module, cls)] if cls else []
        seen: set[Symbol] = set()
        while decorator is not None:
            for name, value in decorator.options.items():
                if name in TASK_OPTIONS:
                    options.setdefault(name, value)
            if "base" in decorator.references:
                classes.append((module, decorator.references["base"]))
            symbol = self.resolve(module, decorator.target)
            if symbol.kind not in {"unknown", "external"} or symbol in seen:
                break
            seen.add(symbol)
            module, decorator = self._alias_of(symbol)
        for owner_module, name in classes[:1]:
            base = self.resolve(owner_module, name)
            if base.kind == "external" and base.name.startswith(SINGLETON_BASES):
                options["singleton"] = base.name  # celery_singleton: a second enqueue joins the one queued
            for key in self.mro(base.module, base.name) if base.kind == "class" else ():
                found = self.cls(key)
                for option, value in (found.options if found else {}).items():
                    options.setdefault(option, value)
        return options

    def _is_task_wrapper(self, symbol: Symbol, seen: frozenset) -> bool:
        """A project decorator that applies `shared_task` / `app.task` itself, like a `@cron_task`."""
        function = self.function(FunctionKey(symbol.module, symbol.name))
        if function is None:
            return False
        return any(self.is_task_decorator(symbol.module, ref, seen) for ref in function.refs)

    def _is_task_class(self, module: str, name: str) -> bool:
        bases = self.external_bases(module, name)
        return bool(bases & CELERY_TASK_CLASSES) or "<celery app>.Task" in bases

    def _find_tasks(self) -> list[Task]:
        tasks: dict[FunctionKey, Task] = {}
        for summary in list(self.modules.values()):
            for function in summary.functions.values():
                for decorator in function.decorators:
                    if self.is_task_decorator(summary.name, decorator.target):
                        key = FunctionKey(summary.name, function.qualname)
                        name = str(decorator.options.get("name") or f"{self.import_name(summary.name)}.{function.name}")
                        options = self.task_options(summary.name, decorator)
                        tasks[key] = Task(key, name, self.display(summary.name), function.line, "@" + decorator.target, options)
                        break
            for cls in summary.classes.values():
                if "run" in cls.methods and self._is_task_class(summary.name, cls.name):
                    key = FunctionKey(summary.name, f"{cls.name}.run")
                    options = self.task_options(summary.name, None, cls.name)
                    tasks[key] = Task(key, f"{self.import_name(summary.name)}.{cls.name}", self.display(summary.name), cls.line, "Task subclass", options)
            for callee, registered in summary.registrations:
                if not (self.is_task_decorator(summary.name, callee) or callee.endswith(".register_task")):
                    continue
                symbol = self.resolve(summary.name, registered)
                if symbol.kind == "class":
                    symbol = self._member(symbol, "run")
                if symbol.kind == "function":
                    key = FunctionKey(symbol.module, symbol.name)
                    function = self.function(key)
                    if function and key not in tasks:
                        name = f"{self.import_name(symbol.module)}.{symbol.name.split('.')[0]}"
                        tasks[key] = Task(key, name, self.display(symbol.module), function.line, f"{callee}({registered})")
        return sorted(tasks.values(), key=lambda t: (t.path, t.line))

    def import_name(self, module: str) -> str:
        """The name the module is imported by, as Celery names its tasks: from the outermost folder of an
        unbroken chain of packages (`backend/src/shop/tasks.py` -> `shop.tasks` when only shop/ has an
        __init__.py); the name from the run's folder when no folder above the file is a package. Below an
        import root (`src` in [tool.idem-fix], or a `src/` folder at the top that is not a package itself),
        the name starts there, as it does for a namespace package."""
        rooted = self._below_import_root(module)
        if rooted:
            return rooted
        parts = module.split(".")
        start = len(parts) - 1
        while start > 0 and (file := self._files.get(".".join(parts[:start]))) is not None and file.is_package:
            start -= 1
        return ".".join(parts[start:]) if start < len(parts) - 1 else module

    def _below_import_root(self, module: str) -> str:
        source = self._files[module].source if module in self._files else None
        if source is None:
            return ""
        path = source.path
        for root in [*self.config.src, *_top_src(source.root)]:
            if path.is_relative_to(root):
                parts = list(path.relative_to(root).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                return ".".join(parts)
        return ""

    # --- reachability -------------------------------------------------------------------------

    def _reachability(self) -> dict[FunctionKey, Reach]:
        reach: dict[FunctionKey, Reach] = {}
        queue: collections.deque[FunctionKey] = collections.deque()
        for task in self.tasks:
            if task.key not in reach:
                reach[task.key] = Reach(task, None)
                queue.append(task.key)
        while queue:
            key = queue.popleft()
            function = self.function(key)
            if function is None:
                continue
            task = reach[key].task
            for reference in function.calls:
                for target in self.call_targets(key, reference):
                    if target not in reach:
                        reach[target] = Reach(task, key)
                        queue.append(target)
        return reach

    def call_targets(self, caller: FunctionKey, reference: str) -> list[FunctionKey]:
        """What a call in `caller` may run (a list to read, not to change). Kept per module, class and
        reference: the targets follow from names and MROs, kept for the run too, except those of `self.x()`,
        which include subclasses of the loaded modules: they are kept until another module loads."""
        owner = caller.qualname.split(".", 1)[0] if "." in caller.qualname else None
        local = self._imported_here(caller, reference)
        if local:
            symbol = self._resolve_qualified(local)  # the function's own import wins over a module-level name
            return [FunctionKey(symbol.module, symbol.name)] if symbol.kind == "function" else []
        memo = (caller.module, owner, reference)
        known = self._call_targets.get(memo)
        if known is not None and (known[0] is None or known[0] == len(self.modules)):
            return known[1]
        targets, with_subclasses = self._find_call_targets(caller.module, owner, reference)
        self._call_targets[memo] = (len(self.modules) if with_subclasses else None, targets)
        return targets

    def _imported_here(self, caller: FunctionKey, reference: str) -> str:
        """`from .services import email_send` inside a function that a module-level `email_send` (the task
        itself) shadows everywhere else: the import's target, found in the function's own lines; "" when
        the name is not both (nearly always)."""
        summary = self.module(caller.module)
        head = reference.split(".", 1)[0]
        if summary is None or head not in summary.imports or not (head in summary.functions or head in summary.classes):
            return ""
        text = self.function_text(caller)
        if not re.search(rf"^\s*(from\s+\S+\s+)?import\s[^\n]*\b{re.escape(head)}\b", text, re.M):
            return ""
        return summary.imports[head] + reference[len(head):]

    def _find_call_targets(self, module: str, owner: str | None, reference: str) -> tuple[list[FunctionKey], bool]:
        """call_targets(), and whether the loaded subclasses took part."""
        if reference.startswith("new:"):
            cls_name, _, method = reference[4:].rpartition(".")
            symbol = self.resolve(module, cls_name)
            if symbol.kind != "class":
                return [], False
            found = self._method_targets(symbol.module, symbol.name, method)
            return found + self._method_targets(symbol.module, symbol.name, "__init__"), False
        if reference.startswith("row:"):  # a model's own method on a row a query read: no constructor runs
            model, _, method = reference[4:].rpartition(".")
            symbol = self.resolve(module, model)
            return (self._method_targets(symbol.module, symbol.name, method), False) if symbol.kind == "class" else ([], False)
        head, _, method = reference.partition(".")
        if head in {"self", "cls"} and owner and method and "." not in method:
            return self._method_targets(module, owner, method, include_subclasses=True), True
        if head == "super" and owner:
            mro = self.mro(module, owner)[1:]
            return [k for base in mro[:1] for k in self._method_targets(base.module, base.qualname, method)], False
        symbol = self.resolve(module, reference)
        if symbol.kind == "function":
            return [FunctionKey(symbol.module, symbol.name)], False
        if symbol.kind == "class":
            return self._method_targets(symbol.module, symbol.name, "__init__"), False
        return [], False

    def _method_targets(self, module: str, cls: str, method: str, include_subclasses: bool = False) -> list[FunctionKey]:
        targets = []
        for owner in self.mro(module, cls):
            found = self.cls(owner)
            if found and method in found.methods:
                targets.append(FunctionKey(owner.module, f"{owner.qualname}.{method}"))
                break
        if include_subclasses:
            for key in self._subclasses(FunctionKey(module, cls)):
                other = self.cls(key)
                if other and method in other.methods:
                    targets.append(FunctionKey(key.module, f"{key.qualname}.{method}"))
        return targets

    def reachable_from(self, start: FunctionKey) -> list[FunctionKey]:
        """Every function a function reaches (a task's whole run), itself first, in breadth-first order."""
        order = [start]
        seen = {start}
        for key in order:  # read while it grows: breadth first
            for target in self.callees(key):
                if target not in seen:
                    seen.add(target)
                    order.append(target)
        return order

    def callees(self, key: FunctionKey) -> list[FunctionKey]:
        """What the function's calls may run, each once, in call order, as reachable_from() first found it:
        its walks share what they found (with more modules loaded since, `self.x()` could find more)."""
        found = self._reach_callees.get(key)
        if found is None:
            function = self.function(key)
            unique: dict[FunctionKey, None] = {}
            for reference in function.calls if function else ():
                unique.update(dict.fromkeys(self.call_targets(key, reference)))
            found = self._reach_callees[key] = list(unique)
        return found

    def reachable(self, key: FunctionKey) -> Reach | None:
        return self.reach.get(key)


@functools.lru_cache(maxsize=None)
def _top_src(root: Path) -> tuple[Path, ...]:
    """`<root>/src` when it is a folder but not a package: an import root by convention (a src layout)."""
    folder = root / "src"
    return (folder,) if folder.is_dir() and not (folder / "__init__.py").exists() else ()
