"""`constraints.txt` pins what main is tested with: every dependency is pinned there, and in CI (CI=true) the installed
versions must equal the pins, so a silent drift shows up here as one clear message, not as a notebook traceback."""
import os, re, tomllib
from importlib import metadata
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from conftest import ROOT

def pins(path=ROOT/'constraints.txt') -> dict:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if not line: continue
        m = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)', line)
        assert m, f'constraints.txt: {line!r} is not an exact pin NAME==VERSION'
        out[canonicalize_name(m[1])] = m[2]
    return out

def drift(pinned:dict) -> list[str]:
    "Pinned packages whose installed version differs from the pin (absent ones are not drift: platform extras)."
    bad = []
    for name, v in pinned.items():
        try: have = metadata.version(name)
        except metadata.PackageNotFoundError: continue
        if not SpecifierSet(f'=={v}').contains(have, prereleases=True): bad.append(f'{name}: installed {have}, pinned {v}')
    return bad

def test_every_dependency_is_pinned():
    proj = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']
    reqs = proj['dependencies'] + sum(proj['optional-dependencies'].values(), [])
    p = pins()
    missing = [r for r in reqs if canonicalize_name(Requirement(r).name) not in p]
    assert not missing, f'constraints.txt lacks pins for {missing}: install, test, then refresh the pins (README)'
    for r in map(Requirement, reqs):   # each pin satisfies pyproject's own bounds
        assert r.specifier.contains(p[canonicalize_name(r.name)], prereleases=True), f'{r} excludes the pinned {p[canonicalize_name(r.name)]}'

def test_drift_is_detected():
    "The check itself: a pin that differs from what is installed is reported by name."
    assert drift({'pytest': '0.0.1'}) == [f'pytest: installed {metadata.version("pytest")}, pinned 0.0.1']
    assert drift({'pytest': metadata.version('pytest'), 'no-such-package-xyz': '1.0'}) == []

def test_installed_versions_match_constraints():
    bad = drift(pins())
    if os.environ.get('CI', '').lower() != 'true':
        if bad: pytest.skip('not CI; installed versions differ from constraints.txt: ' + '; '.join(bad))
        return
    assert not bad, ('installed versions differ from constraints.txt (install with `-c constraints.txt`, or refresh '
                     'the pins as the README says):\n  ' + '\n  '.join(bad))
