"""golden-images Pulumi program: one GoldenImage per catalog image of the selected stack."""

from pathlib import Path

from golden_images.program import run

images = run(Path(__file__).resolve().parent)
