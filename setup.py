"""Puts the repository's resources/ folder into the package as ``trayapp/resources`` (wheel and
sdist), where ``paths.resources_dir()`` looks first; the rest of the metadata is in pyproject.toml."""

from setuptools import find_packages, setup

RESOURCES = [
    "trayapp.resources",
    "trayapp.resources.icons",
    "trayapp.resources.sounds",
    "trayapp.resources.web",
]

setup(
    packages=find_packages(include=["trayapp", "trayapp.*"]) + RESOURCES,
    package_dir={"trayapp.resources": "resources"},
    package_data={
        "trayapp": ["py.typed"],
        "trayapp.resources": ["*.json", "*.desktop"],
        "trayapp.resources.icons": ["*.png", "*.svg"],
        "trayapp.resources.sounds": ["*.wav"],
        "trayapp.resources.web": ["*.html"],
    },
)
