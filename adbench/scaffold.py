"""``adbench new-plugin NAME``: write a ready-to-install method plugin package whose tests
pass as generated (a small autoencoder to start from)."""

from __future__ import annotations

import re
from pathlib import Path

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "adbench-{dash}"
version = "0.1.0"
description = "{name}: an adbench method plugin"
requires-python = ">=3.10"
dependencies = ["adbench", "torch"]

[project.entry-points.adbench]
{name} = "adbench_{name}"

[tool.setuptools]
packages = ["adbench_{name}"]
'''

INIT = '''"""adbench plugin registering the `{name}` method."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .method import {cls}

    register({cls})
'''

METHOD = '''"""The `{name}` method. Replace the network and the loss with yours; keep the contract:
``model()`` maps images (B,3,H,W) in [0,1] to AnomalyOutput(image_scores (B,), maps (B,H,W))."""

from __future__ import annotations

import torch
from torch import nn

from adbench import FitReport, Method, MethodConfig, TrainData
from adbench.layers import MapScorer, Normalize, ReconstructionPipeline
from adbench.training import seed_everything, train_epochs


class {cls}Config(MethodConfig):
    """Every profile key with its type (``typing.Literal[...]`` for a choice): checked before a
    run starts, and the contract test fails on a key that is not declared here."""

    width: int
    lr: float


def _autoencoder(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, width, 4, 2, 1), nn.ReLU(), nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(width, 3, 4, 2, 1))


class {cls}(Method):
    config_class = {cls}Config
    name = "{name}"
    track = "unsupervised"
    tracks = ("unsupervised",)
    description = "{name}: describe your method in one line"
    paper = "cite your paper here"
    display_name = "{name}"  # what tables and figures show
    bibtex = ""  # one BibTeX entry of your paper: LaTeX tables cite its key, the report writes references.bib
    profiles = {{
        "smoke": {{"image_size": 32, "width": 8, "epochs": 2, "lr": 2e-3, "batch_size": 16}},
        "quick": {{"image_size": 64, "width": 32, "epochs": 40, "lr": 2e-3, "batch_size": 16}},
        "paper": {{"image_size": 256, "width": 64, "epochs": 200, "lr": 1e-3, "batch_size": 16}},
    }}

    def build_model(self):
        return ReconstructionPipeline(_autoencoder(self.cfg["width"]), MapScorer(sigma=2.0), Normalize())

    def fit(self, train: TrainData) -> FitReport:
        gen = seed_everything(self.ctx.seed)
        model = self.model().to(self.ctx.device).train()
        images = train.normal.images.to(self.ctx.device)
        opt = torch.optim.Adam(model.parameters(), lr=self.cfg["lr"])

        def step(idx):
            x = model.normalize(images[idx])
            return ((model.net(x) - x) ** 2).mean()

        report = train_epochs(step, opt, len(images), epochs=self.cfg["epochs"], batch_size=self.cfg["batch_size"],
                              gen=gen)
        model.eval()
        return report
'''

TEST = '''from adbench.testing import MethodContractTests


class Test{cls}(MethodContractTests):
    method_name = "{name}"
'''

README = '''# adbench-{dash}

An adbench method plugin.

```bash
pip install -e .
adbench list methods            # shows {name}
adbench run {name} --profile smoke
pytest tests
```
'''


def new_plugin(name: str, directory: Path) -> Path:
    """Write the package ``directory/adbench-<name>/``; refuses to overwrite."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"plugin name {name!r} must be lower-case letters, digits and _ (a Python identifier)")
    dash = name.replace("_", "-")
    root = directory / f"adbench-{dash}"
    if root.exists():
        raise FileExistsError(f"{root} already exists; choose another name or --dir")
    cls = "".join(part.capitalize() for part in name.split("_")) or "Method"
    files = {
        root / "pyproject.toml": PYPROJECT,
        root / f"adbench_{name}" / "__init__.py": INIT,
        root / f"adbench_{name}" / "method.py": METHOD,
        root / "tests" / f"test_{name}.py": TEST,
        root / "README.md": README,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name, dash=dash, cls=cls))
    return root
