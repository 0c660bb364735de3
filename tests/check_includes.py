#!/usr/bin/env python3
"""Layering check (issue 13): every project header a file includes belongs to a module its
target may see.

    python3 tests/check_includes.py [BUILD_DIR]      (default: build; must be configured)

Modules are the directories of src/ (src/<m>/: sources and private headers) with their public
headers under include/<m>/understudy/<m>/. A target's modules are those of its sources; a test
target's (tests/unit/<m>/) is <m>. Rules, for each quoted #include of a file in src/, include/
or tests/ (followed through the project headers it reaches, resolved as the compiler does):

  - a public header "understudy/<o>/..." is allowed when <o> is the file's own module or one
    the target links, directly or transitively through PUBLIC links; in a public header, only
    its own module or one the module's library links PUBLIC (its users see what it includes);
  - a public header is included by that name, never by a relative path or a src/ path;
  - a private header (src/<o>/) only from <o>'s own files, and from tests that link <o>;
    never from a public header;
  - and the other way round, a target in src/ links no module none of its files includes,
    and links one PUBLIC only when one of its module's public headers includes it.

The link graph comes from CMake itself (cmake --graphviz: solid edges are PUBLIC, dashed
INTERFACE, dotted PRIVATE), the target of each source and its include path from
compile_commands.json. Per-module include roots make most violations a compile error already;
this also catches reaches by relative path or through a src/ include directory. Exits 1 and
lists the violations if there are any.
"""
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE = os.path.join(ROOT, "include")
TESTS = os.path.join(ROOT, "tests")
INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)
MODULE_NAME_RE = re.compile(r"^understudy/([a-z_]+)/")


def rel(path):
    return os.path.relpath(path, ROOT)


def inside(path, directory):
    return os.path.commonpath([path, directory]) == directory


def module_of(path):
    """(kind, module) of a project file: kind is 'public', 'private', 'test' or None."""
    parts = rel(path).split(os.sep)
    if parts[0] == "include" and len(parts) > 2:
        return "public", parts[1]
    if parts[0] == "src" and len(parts) > 2:
        return "private", parts[1]
    if parts[0] == "tests" and len(parts) > 3 and parts[1] == "unit" and parts[2] != "support":
        return "test", parts[2]
    if parts[0] == "tests":
        return "test", None
    return None, None


def link_graph(build):
    """{target: [(dependency, visibility)]} from cmake --graphviz, for the build's own cache."""
    out = os.path.join(build, "graphviz")
    os.makedirs(out, exist_ok=True)
    dot = os.path.join(out, "targets.dot")
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "--graphviz=" + dot], check=True,
                   stdout=subprocess.DEVNULL)
    names, edges = {}, {}
    with open(dot) as f:
        for line in f:
            m = re.match(r'\s*"(node\d+)" \[ label = "([^"]+)"', line)
            if m:
                names[m.group(1)] = m.group(2)
                continue
            m = re.match(r'\s*"(node\d+)" -> "(node\d+)"(?: \[ style = (\w+) \])?', line)
            if m:
                style = m.group(3) or "solid"
                visibility = {"solid": "PUBLIC", "dashed": "INTERFACE"}.get(style, "PRIVATE")
                edges.setdefault(m.group(1), []).append((m.group(2), visibility))
    return {names[a]: [(names[b], v) for b, v in deps] for a, deps in edges.items()}


def compile_entries(build):
    """[(source, target, [include dirs])] from compile_commands.json."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    result = []
    for entry in entries:
        args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
        target, dirs = None, []
        for i, arg in enumerate(args):
            value = args[i + 1] if i + 1 < len(args) else ""
            if arg == "-o":
                m = re.search(r"CMakeFiles/([^/]+)\.dir/", value)
                target = m.group(1) if m else None
            for flag in ("-I", "-isystem", "-iquote"):
                if arg == flag:
                    dirs.append(value)
                elif arg.startswith(flag) and len(arg) > len(flag) and flag != "-isystem":
                    dirs.append(arg[len(flag):])
        dirs = [os.path.normpath(os.path.join(entry["directory"], d)) for d in dirs]
        source = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        if target and inside(source, ROOT):
            result.append((source, target, dirs))
    return result


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    if not os.path.exists(os.path.join(build, "compile_commands.json")):
        sys.exit(f"check_includes: {build} is not a configured build directory")
    graph = link_graph(build)
    entries = compile_entries(build)

    # Each target's module: the one its sources live in (src/<m>/ or tests/unit/<m>/).
    target_module, src_targets = {}, set()
    for source, target, _ in entries:
        kind, module = module_of(source)
        if kind in ("private", "test") and module:
            target_module.setdefault(target, set()).add(module)
        if kind == "private":
            src_targets.add(target)
    for target, modules in target_module.items():
        if len(modules) > 1:
            sys.exit(f"check_includes: {target} has sources in several modules: {sorted(modules)}")
    target_module = {t: next(iter(m)) for t, m in target_module.items()}
    # A module's libraries (the daemon module has several), for the rule on public headers.
    libraries = {}
    for target, module in target_module.items():
        if target.startswith("understudy_"):
            libraries.setdefault(module, set()).add(target)

    def public_closure(targets):
        """Modules seen through these targets' PUBLIC/INTERFACE links, transitively."""
        seen, stack = set(), list(targets)
        while stack:
            t = stack.pop()
            for dep, visibility in graph.get(t, []):
                if visibility != "PRIVATE" and dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return {target_module[t] for t in seen if t in target_module}

    def visible(target):
        """(modules whose public headers the target sees, modules it links directly)."""
        direct = {d for d, _ in graph.get(target, [])}
        modules = {target_module[d] for d in direct if d in target_module}
        modules |= public_closure(direct)
        return modules, {target_module[d] for d in direct if d in target_module}

    violations = []
    # The modules whose headers a library's own files include (sources and private headers, per
    # target; public headers, per module): a module link nothing needs is reported as well.
    used_by_target, used_by_public = {}, {}
    contents = {}

    def includes(path):
        if path not in contents:
            with open(path, errors="replace") as f:
                text = f.read()
            contents[path] = [(text.count("\n", 0, m.start()) + 1, m.group(1))
                              for m in INCLUDE_RE.finditer(text)]
        return contents[path]

    def resolve(includer, name, dirs):
        for d in [os.path.dirname(includer)] + dirs:
            candidate = os.path.normpath(os.path.join(d, name))
            if os.path.isfile(candidate):
                return candidate
        return None

    def check_file(path, target, dirs, seen):
        """Checks one file's includes in the context of `target`; follows project headers."""
        kind, module = module_of(path)
        if kind == "public":
            allowed = {module} | public_closure(libraries.get(module, ()))
            private_ok = set()
        elif kind == "private":
            # A module's own files: its headers, public and private, and what the target links.
            allowed = visible(target)[0] | {module}
            private_ok = {module}
        else:
            # A test: what it links, and the private headers of the modules it links directly.
            allowed, private_ok = visible(target)
        for line, name in includes(path):
            where = f"{rel(path)}:{line}: #include \"{name}\""
            who = f"(target {target})" if kind != "public" else f"(a public header of {module})"
            resolved = resolve(path, name, dirs)
            named = MODULE_NAME_RE.match(name)
            if named and kind == "public":
                used_by_public.setdefault(module, set()).add(named.group(1))
            elif named and kind == "private" and module == target_module.get(target):
                used_by_target.setdefault(target, set()).add(named.group(1))
            if named and named.group(1) not in allowed:
                how = "PUBLIC " if kind == "public" else ""
                violations.append(f"{where}: module {named.group(1)} is not linked {how}{who}")
            if resolved is None or not inside(resolved, ROOT):
                continue
            rkind, rmodule = module_of(resolved)
            if rkind == "public" and not (named and named.group(1) == rmodule):
                violations.append(f"{where}: reaches {rel(resolved)} by path; include "
                                  f"\"understudy/{rmodule}/...\" (and link understudy_{rmodule})")
            elif rkind == "private" and rmodule not in private_ok:
                violations.append(f"{where}: {rel(resolved)} is private to module {rmodule} {who}")
            if resolved not in seen and rkind in ("public", "private", "test"):
                seen.add(resolved)
                check_file(resolved, target, dirs, seen)

    for source, target, dirs in entries:
        if module_of(source)[0] is not None:
            check_file(source, target, dirs, {source})
    # Public headers no source includes still may not include what their module does not export.
    for directory, _, files in os.walk(INCLUDE):
        for name in files:
            path = os.path.join(directory, name)
            check_file(path, None, [], {path})

    # Every module a src/ target links, it uses; PUBLIC only when a public header needs it.
    for target in sorted(src_targets):
        module = target_module[target]
        has_public = os.path.isdir(os.path.join(INCLUDE, module))
        used = used_by_target.get(target, set()) | used_by_public.get(module, set())
        for dep, visibility in graph.get(target, []):
            other = target_module.get(dep)
            if other is None or other == module:
                continue
            if other not in used:
                violations.append(f"{target} links {dep} but none of its files includes a "
                                  f"header of {other}: drop the link")
            elif (visibility == "PUBLIC" and has_public
                  and other not in used_by_public.get(module, set())):
                violations.append(f"{target} links {dep} PUBLIC but no public header of {module} "
                                  f"includes a header of {other}: make it PRIVATE")

    violations = sorted(set(violations))
    for v in violations:
        print(v)
    if violations:
        sys.stdout.flush()
        print(f"check_includes: {len(violations)} layering violation(s) (docs/architecture.md, "
              "\"Modules\")", file=sys.stderr)
        return 1
    print(f"check_includes: {len(entries)} sources, their headers and every public header: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
