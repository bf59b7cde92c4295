"""Django models, signal handlers, lookups and settings in the project."""

from __future__ import annotations

import ast
import collections

from . import facts
from .entities import DJANGO_MODEL_BASES, USER_BASES, FunctionKey, Model

class ModelIndex:
    """Part of `Project`: models and what the project does with them."""

    def model(self, module: str, name: str) -> Model | None:
        """The Django model class `name` in `module`, with the fields, constraints and managers it
        inherits (None for any other class); made once per run."""
        memo = (module, name)
        if memo not in self._model_memo:
            self._model_memo[memo] = self._make_model(module, name)
        return self._model_memo[memo]

    def _make_model(self, module: str, name: str) -> Model | None:
        if not self._is_model_class(module, name):
            return None
        fields: dict[str, facts.ModelField] = {}
        constraints: list[facts.Constraint] = []
        managers: list[str] = []
        for owner in reversed(self.mro(module, name)):  # bases first, so subclasses override
            cls = self.cls(owner)
            fields.update(cls.fields)
            constraints.extend(c for c in cls.constraints if c not in constraints)
            managers.extend(cls.managers)
        own = self.cls(FunctionKey(module, name))
        bases = {b.rsplit(".", 1)[-1] for b in self.external_bases(module, name)}
        return Model(module, name, _app_label(module), fields, constraints, managers, own.meta, bool(bases & USER_BASES))

    def _is_model_class(self, module: str, name: str) -> bool:
        if not self.cls(FunctionKey(module, name)):
            return False
        for base in self.external_bases(module, name):
            last = base.rsplit(".", 1)[-1]
            if base in DJANGO_MODEL_BASES or last.endswith("Model") or last in {"AbstractUser", "AbstractBaseUser"}:
                return True
        return False

    def related_manager(self, manager: str) -> list[tuple[Model, str]]:
        """Models reached through `obj.<manager>` (a reverse ForeignKey), with the ForeignKey's field name."""
        if not hasattr(self, "_related"):
            self._related: dict[str, list[tuple[Model, str]]] = collections.defaultdict(list)
            for model in self.all_models():
                for relation in model.fields.values():
                    if relation.kind in {"ForeignKey", "ParentalKey"}:
                        accessor = relation.related_name or f"{model.name.lower()}_set"
                        self._related[accessor].append((model, relation.name))
        return self._related.get(manager, [])

    def signal_handlers(self, model: Model | None, signals: frozenset[str]) -> list[FunctionKey]:
        """Project functions Django runs on these signals for a row of `model` (of any model when None):
        `@receiver(post_save, sender=Order)` and `post_save.connect(handler, sender=Order)`; handlers with
        no sender run for every model. Modules that name a model signal are loaded on the first question."""
        if not self._signals_loaded:
            self._signals_loaded = True
            self._load_where(lambda e: e.has_signal_marker)
        found = []
        for module, named, sender, handler in self._registrations():
            if named & signals and self._is_sender(module, sender, model):
                if isinstance(handler, str):  # a connect() call: the handler as written there
                    symbol = self.resolve(module, handler)
                    handler = FunctionKey(symbol.module, symbol.name) if symbol.kind == "function" else None
                if handler is not None:
                    found.append(handler)
        return list(dict.fromkeys(found))

    def _registrations(self) -> list[tuple[str, frozenset[str], str, FunctionKey | str]]:
        """(module, signals, sender as written, handler) for every signal handler the loaded modules
        register (the handler as written when a connect() call names it), extended with the modules
        loaded since the last call."""
        if self._registrations_indexed != len(self.modules):
            added = list(self.modules.values())[self._registrations_indexed :]
            self._registrations_indexed += len(added)
            for summary in added:
                for function in summary.functions.values():
                    for decorator in function.decorators:
                        if decorator.target.rsplit(".", 1)[-1] == "receiver":
                            named = frozenset(a.rsplit(".", 1)[-1] for a in decorator.arguments)
                            handler = FunctionKey(summary.name, function.qualname)
                            self._registration_list.append((summary.name, named, decorator.references.get("sender", ""), handler))
                for signal, handler, sender in summary.signal_connections:
                    self._registration_list.append((summary.name, frozenset({signal.rsplit(".", 1)[-1]}), sender, handler))
        return self._registration_list

    def _is_sender(self, module: str, sender: str, model: Model | None) -> bool:
        if not sender or model is None:
            return True
        symbol = self.resolve(module, sender)
        return symbol.kind == "class" and (symbol.module, symbol.name) == (model.module, model.name)

    def model_of(self, module: str, receiver: str) -> Model | None:
        """The model a receiver written in `module` names: `Payout`, `models.Payout`."""
        symbol = self.resolve(module, receiver)
        return self.model(symbol.module, symbol.name) if symbol.kind == "class" else None

    def lookups_of(self, model: Model) -> list[tuple[FunctionKey, facts.Lookup]]:
        """The queries loaded project code makes on `model`'s manager with named fields: how the project
        itself finds its rows. Indexed by the name the receiver ends in (`Payout`, `models.Payout`), so
        only the queries written with the model's own name are resolved (and their modules loaded)."""
        functions = self._functions()
        if self._lookups_indexed != len(functions):
            for key, function in functions[self._lookups_indexed :]:
                for lookup in function.lookups:
                    self._lookup_index.setdefault(lookup.receiver.rsplit(".", 1)[-1], []).append((key, lookup))
            self._lookups_indexed = len(functions)
        memo = (model.module, model.name)
        answer = self._lookup_answers.get(memo)
        if answer is None or answer[0] != self._lookups_indexed:
            found = []
            for key, lookup in self._lookup_index.get(model.name, ()):
                if self._receiver_model(key.module, lookup.receiver) == memo:
                    found.append((key, lookup))
            answer = self._lookup_answers[memo] = (self._lookups_indexed, found)
        return list(answer[1])

    def _receiver_model(self, module: str, receiver: str) -> tuple[str, str] | None:
        """(module, name) of the model a receiver names, resolved once per module and spelling."""
        memo = (module, receiver)
        if memo not in self._receiver_models:
            named = self.model_of(module, receiver)
            self._receiver_models[memo] = (named.module, named.name) if named is not None else None
        return self._receiver_models[memo]

    def user_models(self) -> list[Model]:
        """The project's user model (what `get_user_model()` returns), when it defines one. Model files
        are loaded for it only when some file names a user base class."""
        if not any(self.modules_mentioning(base) for base in USER_BASES):
            return []
        return [m for m in self.all_models() if m.user_model]

    def cache_backends(self) -> list[tuple[str, str, str]]:
        """(backend, where, module) of each default cache the settings configure: `CACHES = {"default":
        {"BACKEND": "..."}}` ("" when computed), at module level or under an `if` or `try` there (settings
        that pick a cache from the environment); none found means Django's LocMemCache. Settings modules
        are found by name (settings, settings/*.py), else by a search for CACHES. Test settings are left
        out: they configure the tests' cache, not the workers'."""
        if self._cache_backends is None:
            saying = self.modules_saying("CACHES")
            named = [m for m in self._settings_modules() if m in saying]
            found = []
            for module in named or saying:
                if self.is_test_module(module):
                    continue
                tree = self.tree(module)
                for node in _module_level(tree.body) if tree is not None else ():
                    if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict)):
                        continue
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(t, ast.Name) and t.id == "CACHES" for t in targets):
                        found.append((_default_backend(node.value), f"{self.display(module)}:{node.lineno}", module))
            self._cache_backends = found
        return list(self._cache_backends)

    def _settings_modules(self) -> list[str]:
        """Modules named like Django settings: `settings`, `settings_prod`, or anything in a settings package."""
        return [m for m in self.module_names() if any(part.startswith("settings") or part.endswith("settings") for part in m.split("."))]

    def celery_settings(self) -> list[tuple[str, facts.Setting]]:
        """(module, setting) for every Celery setting written in the project."""
        self._load_where(lambda e: e.has_config_marker)
        return [(summary.name, setting) for summary in list(self.modules.values()) for setting in summary.settings]

    def celery_config(self):
        """The project's Celery configuration as Celery reads it (celery_config.CeleryConfig), made once per
        index: the settings check and acks-late-config (its findings and its pinning test) read the same."""
        if self._celery_config is None:
            from .celery_config import CeleryConfig

            self._celery_config = CeleryConfig(self)
        return self._celery_config

    def all_models(self) -> list[Model]:
        if not self._models_loaded:  # model files are otherwise loaded only as imports lead to them
            self._models_loaded = True
            self._load_where(lambda e: e.has_model_marker)
        found = []
        for summary in list(self.modules.values()):
            for cls in summary.classes.values():
                model = self.model(summary.name, cls.name)
                if model is not None:
                    found.append(model)
        return found



def _app_label(module: str) -> str:
    parts = module.split(".")
    if "models" in parts:
        parts = parts[: parts.index("models")]
    else:
        parts = parts[:-1]
    return parts[-1] if parts else ""


def _module_level(body: list[ast.stmt]):
    """The statements a module runs as it is imported: its body, and the bodies of its `if`, `try` and
    `with` blocks (not functions or classes)."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.If, ast.Try, ast.With)) or statement.__class__.__name__ == "TryStar":
            for block in (getattr(statement, name, []) for name in ("body", "orelse", "finalbody")):
                yield from _module_level(block)
            for handler in getattr(statement, "handlers", []):
                yield from _module_level(handler.body)


def _default_backend(caches: ast.Dict) -> str:
    """The "default" entry's BACKEND, as written ("" when it is computed)."""
    for key, value in zip(caches.keys, caches.values):
        if isinstance(key, ast.Constant) and key.value == "default" and isinstance(value, ast.Dict):
            for option, setting in zip(value.keys, value.values):
                if isinstance(option, ast.Constant) and option.value == "BACKEND" and isinstance(setting, ast.Constant):
                    return str(setting.value)
    return ""
