"""Build hook: the wheel carries the files pressgate reads at run time that sit outside its
packages in the source tree (`templates/`, the example map), copied into `approvals/_files/`
where `approvals.files` looks for them. Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("templates", "deploy/pressgate.example.toml")  # as approvals/files.py SHIPPED


class BuildPyWithFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the source tree itself
            return
        target = Path(self.build_lib) / "approvals" / "_files"
        for relative in SHIPPED:
            source, dest = ROOT / relative, target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildPyWithFiles})
