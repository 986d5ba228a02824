"""Build step for the one compiled module (bot/nlp/_speedups.pyx); everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import setup

setup(ext_modules=cythonize(["bot/nlp/_speedups.pyx"], language_level=3, quiet=True))
