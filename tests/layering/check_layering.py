#!/usr/bin/env python3
"""Checks that src/ keeps the layering docs/ARCHITECTURE.md allows.

Each folder under src/ is one library. docs/ARCHITECTURE.md keeps the table of which folders
each one may include (between the `layering:begin` and `layering:end` markers). This reads every
`#include "folder/..."` of src/ and every `netledger::folder` dependency of the folders'
CMakeLists.txt and fails on any edge the table does not list. It also fails when the table and
the tree disagree (a folder missing from the table, a row for a folder that does not exist) or
when the table itself has a cycle, so the table stays true to the tree.

Usage: check_layering.py [SOURCE_DIR]   (default: the repository holding this file)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)/[^"]+"')
CMAKE_DEP = re.compile(r'netledger::([A-Za-z0-9_]+)')
ROW = re.compile(r'^\|\s*`([a-z0-9_]+)`\s*\|(.*)\|\s*$')


def read_table(path):
    """The allowed edges: {folder: set(folders it may include)}."""
    text = open(path, encoding='utf-8').read()
    m = re.search(r'<!-- layering:begin -->(.*?)<!-- layering:end -->', text, re.S)
    if not m:
        sys.exit(f'{path}: no <!-- layering:begin --> ... <!-- layering:end --> table')
    allowed = {}
    for line in m.group(1).splitlines():
        row = ROW.match(line.strip())
        if row:
            allowed[row.group(1)] = set(re.findall(r'`([a-z0-9_]+)`', row.group(2)))
    return allowed


def source_files(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith(('.h', '.cc', '.in')):
                yield os.path.join(root, name)


def include_edges(src, folders):
    """(from, to, where) for every include of another folder's header."""
    for folder in folders:
        for path in source_files(os.path.join(src, folder)):
            with open(path, encoding='utf-8') as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) in folders and m.group(1) != folder:
                        yield folder, m.group(1), f'{os.path.relpath(path, src)}:{number}'


def cmake_edges(src, folders):
    for folder in folders:
        path = os.path.join(src, folder, 'CMakeLists.txt')
        if not os.path.isfile(path):
            continue  # reported by main()
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for dep in CMAKE_DEP.findall(text):
            if dep != folder:
                yield folder, dep, f'{folder}/CMakeLists.txt'


def cycle(allowed):
    """A cycle in the table, or None."""
    state = {}

    def visit(node, path):
        state[node] = 'open'
        for nxt in sorted(allowed.get(node, ())):
            if state.get(nxt) == 'open':
                return path + [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 'done'
        return None

    for node in sorted(allowed):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    src = os.path.join(root, 'src')
    table_path = os.path.join(root, 'docs', 'ARCHITECTURE.md')
    allowed = read_table(table_path)
    folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    errors = []
    for folder in folders:
        if folder not in allowed:
            errors.append(f'src/{folder}: no row in the layering table of docs/ARCHITECTURE.md')
        if not os.path.isfile(os.path.join(src, folder, 'CMakeLists.txt')):
            errors.append(f'src/{folder}: no CMakeLists.txt (each folder is one build target)')
    for name in sorted(set(allowed) - set(folders)):
        errors.append(f'layering table: `{name}` is not a folder under src/')
    for name, deps in sorted(allowed.items()):
        for dep in sorted(deps - set(folders)):
            errors.append(f'layering table: `{name}` may include `{dep}`, which does not exist')
    loop = cycle(allowed)
    if loop:
        errors.append('layering table has a cycle: ' + ' -> '.join(loop))
    seen = set()
    edges = list(include_edges(src, set(folders)))
    edges += [e for e in cmake_edges(src, folders) if os.path.isdir(os.path.join(src, e[1]))]
    for frm, to, where in edges:
        if to not in allowed.get(frm, set()) and (frm, to) not in seen:
            seen.add((frm, to))
            errors.append(f'{where}: `{frm}` depends on `{to}`, which the layering table does '
                          f'not allow')
    if errors:
        print('\n'.join(errors))
        print(f'\nlayering: {len(errors)} problem(s); the table is in docs/ARCHITECTURE.md')
        return 1
    print(f'layering: {len(folders)} libraries, {len(edges)} include/link edges, all allowed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
