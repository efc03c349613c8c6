"Write README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which cannot be installed offline)."
import json, re
from pathlib import Path

root = Path(__file__).resolve().parents[1]
nb = json.loads((root/'nbs'/'index.ipynb').read_text())
md = '\n\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
md = md.replace('# lowres_ft\n> ', '# lowres_ft\n\n> ', 1)
md = re.sub(r'\]\((\w+)\.html\)', r'](https://lowres-ft.github.io/lowres_ft/\1.html)', md)   # pages live on the docs site
(root/'README.md').write_text(md + '\n')
print('README.md written from nbs/index.ipynb')
