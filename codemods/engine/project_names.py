"""Names across the project: imports resolved to symbols, functions and classes, class hierarchies."""

from __future__ import annotations


from . import facts
from .entities import FunctionKey, Reach, Symbol

class NameResolution:
    """Part of `Project`: what a dotted name written in a module stands for."""

    def resolve(self, module: str, dotted: str) -> Symbol:
        key = (module, dotted)
        found = self._resolved.get(key)
        if found is None:
            head, *rest = dotted.split(".")
            found = self._resolve_name(module, head)
            for attr in rest:
                found = self._member(found, attr)
            if not self._resolving:  # results met inside an import cycle may be partial: keep only whole ones
                self._resolved[key] = found
        return found

    def _resolve_name(self, module: str, name: str) -> Symbol:
        summary = self.module(module)
        if summary is None:
            return Symbol("unknown", module, name)
        if name in summary.functions:
            return Symbol("function", summary.name, name)
        if name in summary.classes:
            return Symbol("class", summary.name, name)
        if name in summary.celery_apps:
            return Symbol("app", summary.name, name)
        if name in summary.imports:
            key = (summary.name, name)
            if key in self._resolving:  # an import cycle
                return Symbol("unknown", summary.name, name)
            self._resolving.add(key)
            try:
                return self._resolve_qualified(summary.imports[name])
            finally:
                self._resolving.discard(key)
        for star in summary.star_imports:
            if self.has_module(star):
                found = self._resolve_name(self._canonical(star), name)
                if found.kind != "unknown":
                    return found
        if self.has_module(f"{summary.name}.{name}") and summary.is_package:
            return Symbol("module", self._canonical(f"{summary.name}.{name}"))
        return Symbol("unknown", summary.name, name)

    def _rebound_in_package(self, dotted: str) -> Symbol | None:
        """`from config import celery_app` where config/__init__.py says `from .celery_app import app as
        celery_app`: the package's own name for it wins over its submodule of the same name, as in Python."""
        package, _, last = dotted.rpartition(".")
        if not package or not self.has_module(package):
            return None
        summary = self.module(self._canonical(package))
        if summary is None or not summary.is_package:
            return None
        bound = summary.imports.get(last)
        if last in summary.celery_apps or (bound is not None and bound != dotted and not bound.endswith(f".{dotted}")):
            return self._resolve_name(summary.name, last)
        return None

    def _canonical(self, module: str) -> str:
        return module if module in self._files else (self._by_suffix_lookup(module) or module)

    def _resolve_qualified(self, dotted: str) -> Symbol:
        if self.has_module(dotted):
            rebound = self._rebound_in_package(dotted)
            return rebound if rebound is not None else Symbol("module", self._canonical(dotted))
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            if self.has_module(prefix):
                symbol = self._resolve_name(self._canonical(prefix), parts[i])
                for attr in parts[i + 1 :]:
                    symbol = self._member(symbol, attr)
                if symbol.kind == "unknown":
                    return Symbol("external", name=dotted)
                return symbol
        return Symbol("external", name=dotted)

    def _member(self, symbol: Symbol, attr: str) -> Symbol:
        if symbol.kind == "module":
            return self._resolve_name(symbol.module, attr)
        if symbol.kind == "class":
            for owner in self.mro(symbol.module, symbol.name):
                cls = self.cls(owner)
                if cls and attr in cls.methods:
                    return Symbol("function", owner.module, f"{owner.qualname}.{attr}")
            return Symbol("unknown", symbol.module, f"{symbol.name}.{attr}")
        if symbol.kind == "external":
            return Symbol("external", name=f"{symbol.name}.{attr}")
        if symbol.kind == "app":
            return Symbol("external", name=f"<celery app>.{attr}")
        return Symbol("unknown", symbol.module, f"{symbol.name}.{attr}")

    # --- functions and classes ----------------------------------------------------------------

    def function(self, key: FunctionKey) -> facts.Function | None:
        summary = self.module(key.module)
        if summary is None:
            return None
        name, _, method = key.qualname.partition(".")
        if not method:
            return summary.functions.get(name)
        cls = summary.classes.get(name)
        return cls.methods.get(method) if cls else None

    def cls(self, key: FunctionKey) -> facts.Class | None:
        summary = self.module(key.module)
        return summary.classes.get(key.qualname) if summary else None

    def mro(self, module: str, name: str) -> list[FunctionKey]:
        """The class and its project base classes, depth first, each once."""
        found = self._mros.get((module, name))  # a plain tuple finds a FunctionKey, and is cheaper to make
        if found is None:
            found = self._mros[FunctionKey(module, name)] = self._compute_mro(module, name)
        return found

    def _subclasses(self, base: FunctionKey) -> list[FunctionKey]:
        """Loaded project classes with `base` among their ancestors (a list that grows: read it at once).
        Modules are only ever added, at the end of self.modules, so the index grows by the modules added
        since it was last brought up to date; modules that indexing itself loads (resolving bases) are
        indexed by the next look-up that finds more modules loaded."""
        if self._subclass_modules_seen != len(self.modules):
            added = list(self.modules.values())[self._subclass_modules_indexed :]
            self._subclass_modules_indexed += len(added)
            for summary in added:
                for other in summary.classes.values():
                    key = FunctionKey(summary.name, other.name)
                    for ancestor in self.mro(summary.name, other.name)[1:]:
                        self._subclass_index[ancestor].append(key)
            self._subclass_modules_seen = len(self.modules)
        return self._subclass_index.get(base, [])

    def _compute_mro(self, module: str, name: str) -> list[FunctionKey]:
        order: list[FunctionKey] = []
        pending = [FunctionKey(module, name)]
        while pending:
            key = pending.pop(0)
            if key in order:
                continue
            cls = self.cls(key)
            if cls is None:
                continue
            order.append(key)
            for base in cls.bases:
                symbol = self.resolve(key.module, base)
                if symbol.kind == "class":
                    pending.append(FunctionKey(symbol.module, symbol.name))
        return order

    def class_sets(self, module: str, name: str, attribute: str) -> bool:
        """The class or one of its project base classes assigns `attribute` in its body."""
        return any(attribute in self.cls(key).attributes for key in self.mro(module, name))

    def external_bases(self, module: str, name: str) -> set[str]:
        """Dotted names of the non-project classes anywhere in the class's ancestry."""
        found: set[str] = set()
        for key in self.mro(module, name):
            for base in self.cls(key).bases:
                symbol = self.resolve(key.module, base)
                if symbol.kind in {"external", "unknown"}:
                    found.add(symbol.name)
                elif symbol.kind == "app":
                    found.add(f"<celery app>.{base.rsplit('.', 1)[-1]}")
        return found

    def all_functions(self):
        """(FunctionKey, Function) for every function and method of every loaded module."""
        yield from self._functions()

    def _functions(self) -> list[tuple[FunctionKey, facts.Function]]:
        """The list behind all_functions(), which rules walk again and again: extended with the modules
        loaded since the last call, into a new list, so that a walk under way keeps the modules it began with."""
        if self._function_list_modules != len(self.modules):
            added = list(self.modules.values())[self._function_list_modules :]
            self._function_list_modules += len(added)
            listed = []
            for summary in added:
                for function in summary.functions.values():
                    listed.append((FunctionKey(summary.name, function.qualname), function))
                for cls in summary.classes.values():
                    for method in cls.methods.values():
                        listed.append((FunctionKey(summary.name, method.qualname), method))
            self._function_list = self._function_list + listed
        return self._function_list

    def reachable_functions(self) -> list[tuple[FunctionKey, facts.Function, Reach]]:
        """(FunctionKey, Function, Reach) for the functions of all_functions() that a task reaches, in the
        same order: what every rule walks by default, usually a small part of the project. Picked again
        only when the function list has grown."""
        functions = self._functions()
        if self._reachable_list_from is not functions:
            self._reachable_list = [(key, function, self.reach[key]) for key, function in functions if key in self.reach]
            self._reachable_list_from = functions
        return self._reachable_list
