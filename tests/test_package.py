"""Packaging: `python -m build` makes an sdist and a wheel (from the sdist); the wheel holds only the package; in a
fresh venv it installs, `import lowres_ft` works from outside the repo and `lowres-ft --help` runs. Offline: the build
runs without isolation (setuptools and wheel come from this environment) and the fresh venv finds the heavy
dependencies (torch, transformers, ...) of this environment through a .pth path line, so nothing is downloaded;
`lowres_ft` itself can only come from the wheel."""
import os, re, shutil, subprocess, sys, sysconfig, tomllib, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f'{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    pytest.importorskip('build', reason='needs the dev extra: pip install -e ".[dev]"')
    src = tmp_path_factory.mktemp('src')   # build from a clean copy: no stray build/ or egg-info in the repo
    for f in ('pyproject.toml', 'README.md', 'LICENSE'):
        if (ROOT/f).exists(): shutil.copy2(ROOT/f, src/f)
    shutil.copytree(ROOT/'lowres_ft', src/'lowres_ft', ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    out = tmp_path_factory.mktemp('dist')
    run(sys.executable, '-m', 'build', '--no-isolation', '--outdir', out, src)   # sdist, then the wheel from the sdist
    return out

def test_sdist_and_wheel_are_built(dist):
    assert len(list(dist.glob('lowres_ft-*.tar.gz'))) == 1 and len(list(dist.glob('lowres_ft-*-py3-none-any.whl'))) == 1

def test_wheel_holds_only_the_package(dist):
    whl = next(dist.glob('*.whl'))
    names = zipfile.ZipFile(whl).namelist()
    top = {n.split('/')[0] for n in names}
    assert top <= {'lowres_ft', f'{whl.name.split("-")[0]}-{whl.name.split("-")[1]}.dist-info'}, top
    assert not any(n.startswith(('nbs/', 'tests/', 'data/')) or n.endswith('.ipynb') for n in names)
    mods = {Path(n).stem for n in names if n.startswith('lowres_ft/') and n.endswith('.py')}
    assert {'__init__', '_modidx', 'core', 'data', 'base', 'train', 'evaluate', 'cli', 'guide'} <= mods
    print(f'wheel {whl.name}: {whl.stat().st_size:,} bytes, {len(names)} files')

def test_version_has_one_source(dist):
    py = tomllib.loads((ROOT/'pyproject.toml').read_text())
    assert 'version' not in py['project'] and 'version' in py['project']['dynamic']
    assert py['tool']['setuptools']['dynamic']['version'] == {'attr': 'lowres_ft.__version__'}
    init = (ROOT/'lowres_ft'/'__init__.py').read_text()
    v = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init, re.M).group(1)
    whl = next(dist.glob('*.whl'))
    assert whl.name.startswith(f'lowres_ft-{v}-') and next(dist.glob('*.tar.gz')).name == f'lowres_ft-{v}.tar.gz'

@pytest.fixture(scope='module')
def venv(dist, tmp_path_factory):
    d = tmp_path_factory.mktemp('venv')
    run(sys.executable, '-m', 'venv', '--without-pip', d)
    py = d/'bin'/'python'
    site = Path(run(py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip())
    (site/'_project_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')   # deps only: editable finders there are not run
    run(sys.executable, '-m', 'pip', '--python', py, 'install', '--no-deps', '--no-index', next(dist.glob('*.whl')))
    return d

def test_wheel_installs_and_imports_outside_the_repo(venv, tmp_path):
    py = venv/'bin'/'python'
    code = ('import lowres_ft, lowres_ft.core, lowres_ft.guide, lowres_ft.cli, importlib.metadata as m; '
            'print(lowres_ft.__file__); print(lowres_ft.__version__, m.version("lowres_ft"))')
    r = run(py, '-c', code, cwd=tmp_path, env={**os.environ, 'PYTHONPATH': ''})
    path, versions = r.stdout.strip().splitlines()[-2:]
    assert Path(path).resolve().is_relative_to(venv.resolve()), f'imported {path}, not the wheel in {venv}'
    a, b = versions.split(); assert a == b

def test_cli_help_runs_from_the_wheel(venv, tmp_path):
    exe = venv/'bin'/'lowres-ft'
    assert exe.exists(), 'the wheel did not install the lowres-ft console script'
    r = run(exe, '--help', cwd=tmp_path, env={**os.environ, 'PYTHONPATH': ''})
    assert 'usage' in r.stdout.lower() and 'quickstart' in r.stdout

def test_declared_dependencies_are_satisfied(venv, tmp_path):
    code = ('import importlib.metadata as m; from packaging.requirements import Requirement; bad=[]\n'
            'for s in m.requires("lowres_ft") or []:\n'
            '    r = Requirement(s)\n'
            '    if r.marker and not r.marker.evaluate({"extra": ""}): continue\n'
            '    try: v = m.version(r.name)\n'
            '    except m.PackageNotFoundError: bad.append(f"{r.name} missing"); continue\n'
            '    if not r.specifier.contains(v, prereleases=True): bad.append(f"{r.name} {v} not {r.specifier}")\n'
            'print("BAD", bad)')
    r = run(venv/'bin'/'python', '-c', code, cwd=tmp_path)
    assert r.stdout.strip().endswith('BAD []'), r.stdout
