"""`pip install --no-build-isolation .`: builds smcl's Python module with CMake against the PyTorch of the
Python that runs pip (the module must use that PyTorch's own libtorch), and installs the package `smcl`.

--no-build-isolation lets the build see that PyTorch (and setuptools, wheel) instead of fetching them.
CMake, a C++17 compiler and smcl's C++ dependencies must be present (scripts/setup on Debian 12). The build
folder is build-python/; SMCL_CMAKE_ARGS adds CMake options (e.g. "-DSMCL_WITH_OPENCV=OFF").
"""
import glob
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


def version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        for line in f:
            if line.startswith("project(smcl VERSION"):
                return line.split()[2]
    raise RuntimeError("no project version in CMakeLists.txt")


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        import torch.utils

        build = os.path.join(ROOT, "build-python")
        configure = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DSMCL_BUILD_TESTS=OFF",
                     "-DSMCL_BUILD_BENCH=OFF", f"-DPython3_EXECUTABLE={sys.executable}",
                     f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}"]
        configure += shlex.split(os.environ.get("SMCL_CMAKE_ARGS", ""))
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", build, "--target", "smcl_python", "-j", str(os.cpu_count() or 1)])
        modules = glob.glob(os.path.join(build, "python", "smcl", "_C*.so"))
        if not modules:
            raise RuntimeError("CMake built no Python module: its configure output says what was missing "
                               "(`smcl: Python module: OFF (needs ...)`)")
        for module in modules:
            shutil.copy2(module, os.path.join(self.build_lib, "smcl"))


class BinaryDistribution(Distribution):
    """The wheel holds a compiled module: it is for this platform and Python only."""

    def has_ext_modules(self):
        return True


setup(
    name="smcl",
    version=version(),
    description="Saliency masked contrastive learning for long-tailed image classification (C++, libtorch)",
    packages=["smcl"],
    package_dir={"": "python"},
    package_data={"smcl": ["_C.pyi", "py.typed"]},
    python_requires=">=3.8",
    cmdclass={"build_py": BuildWithCMake},
    distclass=BinaryDistribution,
)
