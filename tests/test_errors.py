"""The error tree in framesift.errors' docstring is the hierarchy the module defines."""

from __future__ import annotations

import inspect
import re

import framesift.errors as errors

# One line of the tree: box-drawing indent, then ``Name(Base, Other)`` and a description.
TREE_LINE = re.compile(r"^(?P<indent>[\s│├└─]*)(?P<name>\w+)\((?P<bases>[\w, ]+)\)")


def documented_tree() -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Class name -> (bases as written, parent in the tree), from the module docstring."""
    doc = errors.__doc__ or ""
    block = doc.split("::", 1)[1]
    tree: dict[str, tuple[tuple[str, ...], str | None]] = {}
    parents: list[tuple[int, str]] = []  # (indent width, name) of the open branches
    for line in block.splitlines():
        match = TREE_LINE.match(line)
        if match is None:
            if tree and line.strip():
                break  # the prose after the tree
            continue
        depth = len(match["indent"])
        while parents and parents[-1][0] >= depth:
            parents.pop()
        name = match["name"]
        assert name not in tree, f"{name} appears twice in the tree"
        bases = tuple(b.strip() for b in match["bases"].split(","))
        tree[name] = (bases, parents[-1][1] if parents else None)
        parents.append((depth, name))
    return tree


def defined_classes() -> dict[str, type]:
    return {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if cls.__module__ == errors.__name__
    }


def test_every_error_class_is_in_the_tree_and_nothing_else() -> None:
    assert sorted(documented_tree()) == sorted(defined_classes())


def test_the_tree_gives_each_class_its_real_bases() -> None:
    tree = documented_tree()
    for name, cls in defined_classes().items():
        bases, _ = tree[name]
        assert bases == tuple(b.__name__ for b in cls.__bases__), name


def test_each_branch_hangs_under_its_first_base() -> None:
    for name, (bases, parent) in documented_tree().items():
        expected_parent = None if name == "FramesiftError" else bases[0]
        assert parent == expected_parent, name


def test_every_error_class_is_exported() -> None:
    assert sorted(errors.__all__) == sorted(defined_classes())
