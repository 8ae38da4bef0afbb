"""Regenerates stdlib-modules.txt: every module name that the `stdlib-list` package lists for
any Python version (the union over `stdlib_list.short_versions`, as PyPI builds its set), one
per line, sorted. The registry derives the prohibited set from it (spec R-NAME-3: dotted
prefixes, strip `._-`, PEP 503 normalize), so this file holds the raw names only.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install stdlib-list
    /tmp/v/bin/python stdlib_modules.py > stdlib-modules.txt
"""

import stdlib_list

names = set()
for version in stdlib_list.short_versions:
    names.update(stdlib_list.stdlib_list(version))
print(f"# stdlib-list {stdlib_list.__version__}: {len(names)} module names, all Python versions")
for name in sorted(names):
    print(name)
