"""Budgeted, safe YAML loading for files the SDK did not write (recipes, ``--config`` files).

``yaml.safe_load`` builds no Python objects from tags, but it has no budget: a few hundred
bytes of nested aliases ("billion laughs") expand into a tree of billions of nodes as soon as
anything walks it, and a deeply nested document raises ``RecursionError``. :func:`load_yaml`
composes the document with three limits before any value is built:

* the text size (``max_bytes``, default 1 MiB; recipes are a few KiB);
* the nesting depth (``max_depth``, default 64);
* the number of nodes *after* alias expansion (``max_nodes``, default 100 000), counted as the
  document is composed, so a 480-byte alias bomb stops after a handful of nodes.

Every problem (syntax error, ``!!python/...`` or other unknown tag, limit reached, invalid
UTF-8) is a :class:`~amzn_nova_forge.errors.RecipeValidationError` that names the file, and the
line and column where YAML says so.

Example:
    >>> load_yaml("a: 1\\nb: [x, y]\\n", source="inline")
    {'a': 1, 'b': ['x', 'y']}
"""

from __future__ import annotations

from typing import Any

from amzn_nova_forge.errors import RecipeValidationError

__all__ = ["MAX_YAML_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "load_yaml", "read_yaml_file"]

MAX_YAML_BYTES = 1 << 20
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000


class _Budget(Exception):
    """Raised inside the composer when a limit is reached (turned into a typed error)."""

    def __init__(self, message: str, line: int | None) -> None:
        self.line = line
        super().__init__(message)


def _loader_class() -> type[Any]:
    import yaml

    class BudgetLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type stubs here
        """SafeLoader whose composer counts nodes (aliases by their expanded size) and depth."""

        max_depth = MAX_YAML_DEPTH
        max_nodes = MAX_YAML_NODES

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._nodes = 0
            self._sizes: dict[int, int] = {}

        def _charge(self, count: int, node: Any) -> None:
            self._nodes += count
            if self._nodes > self.max_nodes:
                mark = getattr(node, "start_mark", None)
                raise _Budget(
                    f"the document expands to more than {self.max_nodes} values (aliases included); "
                    "a recipe needs far fewer. Remove the nested anchors/aliases (&name / *name)",
                    mark.line + 1 if mark is not None else None,
                )

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                node = super().compose_node(parent, index)
                size = self._sizes.get(id(node))
                if size is None:  # the anchor is still open: the value would contain itself
                    mark = getattr(node, "start_mark", None)
                    raise _Budget(
                        "an alias (*name) is used inside the value it names, which would repeat for ever",
                        mark.line + 1 if mark is not None else None,
                    )
                self._charge(size, node)
                return node
            self._depth += 1
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark
                raise _Budget(
                    f"values are nested more than {self.max_depth} levels deep", mark.line + 1 if mark else None
                )
            before = self._nodes
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            self._charge(1, node)
            self._sizes[id(node)] = self._nodes - before
            return node

    def refuse(loader: Any, node: Any) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"the tag {node.tag!r} builds a value a recipe cannot hold", node.start_mark
        )

    for tag in ("binary", "set", "omap", "pairs"):
        BudgetLoader.add_constructor(f"tag:yaml.org,2002:{tag}", refuse)
    return BudgetLoader


_LOADER: type[Any] | None = None


def load_yaml(
    text: str | bytes,
    *,
    source: str,
    max_bytes: int = MAX_YAML_BYTES,
    max_depth: int = MAX_YAML_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> Any:
    """Parse one YAML document safely and within budget.

    Args:
        text: The document (bytes are decoded as UTF-8).
        source: What the text is (a path or URI), named in every error.
        max_bytes: Largest accepted document, in bytes.
        max_depth: Deepest accepted nesting of mappings and lists.
        max_nodes: Most values accepted, counting each alias as the size of what it repeats.

    Returns:
        The parsed value (``None`` for an empty document).

    Raises:
        RecipeValidationError: invalid UTF-8, too large, too deep, too many values, a YAML syntax
            error, or a tag the safe loader does not build (``!!python/object`` …).

    Example:
        >>> load_yaml(b"lr: 1.0e-5", source="r.yaml")
        {'lr': 1e-05}
    """
    import yaml

    global _LOADER
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > max_bytes:
        raise RecipeValidationError(
            f"{source} is {size} bytes; YAML files up to {max_bytes} bytes are accepted (a recipe is a few KiB).",
            recipe=source,
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RecipeValidationError(
                f"{source} is not UTF-8 text (invalid byte at offset {e.start}); save it as UTF-8.", recipe=source
            ) from None
    if _LOADER is None:
        _LOADER = _loader_class()
    loader = _LOADER(text)
    loader.max_depth, loader.max_nodes = max_depth, max_nodes
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    except _Budget as e:
        where = f" (line {e.line})" if e.line else ""
        raise RecipeValidationError(f"{source}{where}: {e}.", recipe=source) from None
    except yaml.constructor.ConstructorError as e:
        raise RecipeValidationError(_describe(source, e, tag=True), recipe=source) from None
    except yaml.YAMLError as e:
        raise RecipeValidationError(_describe(source, e), recipe=source) from None
    except RecursionError:
        raise RecipeValidationError(
            f"{source}: values are nested too deeply to read; flatten the document.", recipe=source
        ) from None
    finally:
        loader.dispose()


def _describe(source: str, e: Any, *, tag: bool = False) -> str:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    if tag:
        return (
            f"{source}{where}: {problem}. Only plain YAML values (mappings, lists, strings, numbers, "
            "booleans, null) are accepted; remove the tag."
        )
    return f"{source} is not valid YAML{where}: {problem}. Fix the syntax there."


def read_yaml_file(path: str, *, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Read a local or ``s3://`` YAML file with :func:`load_yaml` (size checked before decoding).

    Raises:
        FileNotFoundError: No such file or object.
        RecipeValidationError: The path is a folder or unreadable, or :func:`load_yaml` refuses the text.

    Example:
        >>> read_yaml_file("my-recipe.yaml")  # doctest: +SKIP
    """
    from amzn_nova_forge.core import storage

    try:
        if not storage.is_s3(path):
            import os

            size = os.path.getsize(path)
            if size > max_bytes:
                raise RecipeValidationError(
                    f"{path} is {size} bytes; YAML files up to {max_bytes} bytes are accepted.", recipe=path
                )
        data = storage.read_bytes(path)
    except IsADirectoryError:
        raise RecipeValidationError(f"{path} is a folder; give the path of a YAML file.", recipe=path) from None
    except PermissionError:
        raise RecipeValidationError(f"{path} cannot be read (permission denied).", recipe=path) from None
    return load_yaml(data, source=path, max_bytes=max_bytes)
