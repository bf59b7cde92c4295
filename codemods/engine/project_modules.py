"""Loading modules for the project index: files read and summarized lazily, sources, trees and
function views."""

from __future__ import annotations

import ast
import collections
import re

from . import facts, newer_syntax
from .entities import TEST_MODULE, FunctionKey, LoadedFile, ParseError, Symbol, module_name_of
from .files import SourceFile, display_path
from .source import SourceText, decode, parse_function
from .view import FunctionView

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME_BYTES = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


class ModuleLoading:
    """Part of `Project`: which modules are loaded, and their sources, trees and views."""

    def _read_files(self) -> None:
        for source in self.files:
            if source.problem:
                self.errors.append(ParseError(source.display, 0, source.problem, source.path))
                continue
            name, is_package = module_name_of(source.path, source.root)
            self._files[name] = LoadedFile(source, name, is_package)
        by_path = {file.source.path: file for file in self._files.values()}
        jobs = [(f.source.path, f.module_name, f.is_package) for f in self._files.values()]
        entries, unreadable = self.loader.load(jobs, summarize_all=self.load_everything)
        for path, entry in entries.items():
            by_path[path].entry = entry
            if entry.error is not None and not entry.summarized:  # found while reading: binary, encoding, size
                self.errors.append(ParseError(by_path[path].source.display, entry.error[0], entry.error[1], path))
                self._reported.add(by_path[path].module_name)
        for path, reason in unreadable.items():
            file = by_path[path]
            self.errors.append(ParseError(file.source.display, 0, f"cannot read: {reason}", path))
            del self._files[file.module_name]

    def _load_where(self, wanted, follow_imports: bool = False) -> None:
        """Load the modules `wanted` picks (every module with --scope all); with `follow_imports`, first
        summarize in one parallel batch every project module they import, transitively: resolving
        names and following calls from tasks would summarize most of them one by one anyway. Those
        are only summarized, not loaded: what the index holds (tasks, subclasses) must not depend on
        what a text search of imports found, or on what an earlier run left in the cache."""
        chosen = [
            file for name, file in self._files.items()
            if name not in self.modules and file.entry is not None and (self.load_everything or wanted(file.entry))
        ]
        batch = [*chosen, *self._imported_by(chosen)] if follow_imports else chosen
        self.loader.summarize_all([(file.source.path, file.entry) for file in batch])
        for file in chosen:
            self.module(file.module_name)

    def _imported_by(self, files: list[LoadedFile]) -> list[LoadedFile]:
        """Project files that `files` import, directly or not, as their import statements read."""
        seen = {file.module_name for file in files}
        found: list[LoadedFile] = []
        pending = list(files)
        while pending:
            for name in sorted(pending.pop().entry.imports):
                target = self._files.get(name) or self._files.get(self._by_suffix_lookup(name) or "")
                if target is not None and target.entry is not None and target.module_name not in seen:
                    seen.add(target.module_name)
                    found.append(target)
                    pending.append(target)
        return found

    def _task_wrapper_names(self) -> set[str]:
        """Names of project decorators that make tasks: wrappers that apply one, and aliases bound to one
        (`project_task = shared_task`)."""
        names = set()
        for summary in list(self.modules.values()):
            for function in summary.functions.values():
                if function.refs and self._is_task_wrapper(Symbol("function", summary.name, function.name), frozenset()):
                    names.add(function.name)
            for alias, decorator in summary.decorator_aliases.items():
                if self.is_task_decorator(summary.name, decorator.target):
                    names.add(alias)
        return names

    def module(self, name: str) -> facts.Module | None:
        if name in self.modules:
            return self.modules[name]
        file = self._files.get(name) or self._files.get(self._by_suffix_lookup(name) or "")
        if file is None or file.entry is None:
            return None
        if file.module_name in self.modules:
            return self.modules[file.module_name]
        entry = file.entry
        if not entry.summarized:
            self.loader.summarize_later(file.source.path, entry)
        if entry.error is not None:
            if file.module_name not in self._reported:
                self._reported.add(file.module_name)
                line, message = entry.error
                self.errors.append(ParseError(file.source.display, line, message, file.source.path))
            return None
        summary = self.modules[file.module_name] = entry.summary.get()
        return summary

    def _by_suffix_lookup(self, name: str) -> str | None:
        """`backend.payments.models` for an import of `payments.models` (or the other way round). Asked
        for every dotted name resolved, external ones too: answers are kept (the files are read once)."""
        if name not in self._suffix_lookups:
            self._suffix_lookups[name] = self._find_by_suffix(name)
        return self._suffix_lookups[name]

    def _find_by_suffix(self, name: str) -> str | None:
        if self._by_suffix is None:
            self._by_suffix = collections.defaultdict(list)
            for known in self._files:
                parts = known.split(".")
                for i in range(1, len(parts)):
                    self._by_suffix[".".join(parts[i:])].append(known)
        candidates = self._by_suffix.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        parts = name.split(".")
        for i in range(1, len(parts)):
            if ".".join(parts[i:]) in self._files and len(parts) - i > 1:
                return ".".join(parts[i:])
        return None

    def source_bytes(self, module: str) -> bytes:
        """The module's current source: an earlier rule's output in this run, else the file."""
        path = self._files[module].source.path
        return self.overlay[path] if path in self.overlay else path.read_bytes()

    def source(self, module: str) -> SourceText | None:
        """The module's text (with its lines and suppression comments), read once per run."""
        if module not in self._sources:
            try:
                self._sources[module] = SourceText(decode(self.source_bytes(module)))
            except (OSError, KeyError):
                self._sources[module] = None
        return self._sources[module]

    def function_text(self, key: FunctionKey) -> str:
        """A function's own lines, decorators included ("" when it cannot be read): a byte-level test before
        parsing it. Joined once per run."""
        if key not in self._function_texts:
            function, source = self.function(key), self.source(key.module)
            self._function_texts[key] = "\n".join(source.lines[function.first_line - 1 : function.end_line]) if function and source else ""
        return self._function_texts[key]

    def tree(self, module: str) -> ast.Module | None:
        """The module's `ast`, parsed on demand for the few files a question needs whole."""
        if module not in self._trees:
            source = self.source(module) if module in self._files else None
            try:
                self._trees[module] = newer_syntax.parse(source.text)[0] if source is not None else None
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self._trees[module] = None
        return self._trees[module]

    def module_level_names(self, module: str) -> set[str]:
        """Names a module binds at its top level: imports, functions, classes and assignments."""
        summary = self.module(module)
        names = set(summary.imports) | set(summary.functions) | set(summary.classes) if summary else set()
        tree = self.tree(module)
        for node in tree.body if tree is not None else ():
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        return names

    def view(self, key: FunctionKey) -> FunctionView | None:
        """The function's view (see `engine/view.py`), parsed from its own lines once per run."""
        if key not in self._views:
            self._views[key] = None
            function = self.function(key)
            summary = self.module(key.module)
            source = self.source(key.module) if function is not None else None
            if source is not None and summary is not None:
                node = parse_function(source.lines, function) or self._node_in_tree(key.module, function)
                if node is not None:
                    self._views[key] = FunctionView(key, function, node, source, summary.imports)
        return self._views[key]

    def _node_in_tree(self, module: str, function: facts.Function) -> ast.AST | None:
        """A function whose lines do not parse alone (a backslash continuation, say): from the module's tree."""
        tree = self.tree(module)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (node.name, node.lineno) == (function.name, function.line):
                return node
        return None

    def modules_mentioning(self, word: str) -> list[str]:
        """Project modules whose text spells `word` as a name: every file, loaded or not (only the files
        found are parsed by whoever asked). The files are read once, on the first question, into an
        index of the names each spells; a word that is not a plain name is searched for in every file."""
        if IDENTIFIER.fullmatch(word):
            return list(self._name_index().get(word.encode(), ()))
        pattern = re.compile(rb"\b" + re.escape(word.encode()) + rb"\b")
        return [name for name, data in self._file_texts() if pattern.search(data)]

    def _name_index(self) -> dict[bytes, list[str]]:
        if self._names_spelled is None:
            self._names_spelled = {}
            for name, data in self._file_texts():
                for spelled in set(NAME_BYTES.findall(data)):
                    self._names_spelled.setdefault(spelled, []).append(name)
        return self._names_spelled

    def _file_texts(self):
        for name, file in self._files.items():
            try:
                yield name, self.overlay.get(file.source.path) or file.source.path.read_bytes()
            except OSError:
                continue

    def has_module(self, name: str) -> bool:
        return name in self._files or self._by_suffix_lookup(name) is not None

    def module_names(self) -> list[str]:
        """Every project module, loaded or not, in the order its file was found."""
        return list(self._files)

    def is_package(self, module: str) -> bool:
        return self._files[module].is_package

    def source_of(self, module: str) -> SourceFile:
        return self._files[module].source

    def modules_saying(self, word: str) -> list[str]:
        """Modules whose bytes hold one of loader.SETTINGS_WORDS, as noted when the files were read."""
        return [name for name, file in self._files.items() if file.entry is not None and word in file.entry.settings_words]

    def is_test_module(self, module: str) -> bool:
        """Tests, test settings and factories: they set up a case, they do not run the project."""
        return bool(TEST_MODULE.search(self.source_of(module).path.as_posix()))

    def display(self, module: str) -> str:
        """The path users see (os.path.relpath is slow enough to matter once per finding)."""
        shown = self._displays.get(module)
        if shown is None:
            shown = self._displays[module] = display_path(self._files[module].source.path)
        return shown
