"The README is the course home page (nbs/index.ipynb), and CI runs the README's test command verbatim."
import json, re
from conftest import ROOT

def _blocks(text): return re.findall(r'```bash\n(.*?)\n```', text, flags=re.S)

def test_readme_matches_index():
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    md = '\n\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    readme = (ROOT/'README.md').read_text()
    assert _blocks(readme) == _blocks(md) and len(_blocks(readme)) == 2      # exactly two commands
    for line in ('## Two commands', '## The course'): assert line in readme

def test_ci_runs_the_readme_test_command():
    install_and_run, test_cmd = _blocks((ROOT/'README.md').read_text())
    assert 'lowres-ft quickstart' in install_and_run
    assert test_cmd in (ROOT/'.ci'/'run').read_text()
