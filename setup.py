"""Maps the project's top-level folders into the one import package `vidpipe`.

Metadata lives in pyproject.toml. Packages are found here so that a new generated client
(a new spec plus `make regen`) is packaged with no edit to any build file.
"""

from setuptools import find_packages, setup

PACKAGE_DIR = {
    "vidpipe": "pipeline",
    "vidpipe.emulator": "emulator",
    "vidpipe.generated": "generated",
    "vidpipe.openapi": "specs",
    "vidpipe.prompt_templates": "templates",
}

setup(
    package_dir=PACKAGE_DIR,
    packages=[
        sub
        for name, folder in PACKAGE_DIR.items()
        for sub in (name, *(f"{name}.{found}" for found in find_packages(folder)))
    ],
)
