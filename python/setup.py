"""Builds the Swift library (release, Swift runtime linked statically) and ships it inside the
package: `pip install ./python` from the repository root is the whole installation."""
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class BuildSwift(build_py):
    def run(self):
        package = HERE / "ofql_suite"
        # The same flags and build folder as scripts/python-check.sh's CLI build, so they share it.
        flags = ["-c", "release", "-Xswiftc", "-static-stdlib"]
        cmd = ["swift", "build", *flags, "--product", "ofqlsuite"]
        subprocess.run(["bash", str(REPO / "scripts" / "bootstrap.sh")], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(cmd, cwd=REPO, check=True)
        bin_path = subprocess.run(["swift", "build", *flags, "--show-bin-path"], cwd=REPO, check=True,
                                  capture_output=True, text=True).stdout.strip()
        shutil.copy2(Path(bin_path) / "libofqlsuite.so", package / "libofqlsuite.so")
        super().run()


setup(cmdclass={"build_py": BuildSwift})
