"""Packaging shim: ships the top-level ``schemas/`` folder as ``conformance/schemas`` package data.

pyproject.toml cannot map a folder outside the package tree into a package, and keeping a second
copy of the schemas inside ``conformance/`` would let the two drift apart.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["conformance*"], exclude=["*.__pycache__"]),
        "conformance.schemas",
    ],
    package_dir={"conformance.schemas": "schemas"},
    package_data={
        "conformance.schemas": ["*.json", "README.md"],
        "conformance.reports.templates": ["*"],
    },
)
