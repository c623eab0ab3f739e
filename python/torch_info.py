"""Prints what CMake needs to know of this interpreter's PyTorch (python/CMakeLists.txt), separated by ';':
the real path of its libtorch.so, its library folder, and the pybind11 ABI tags it was built with."""
import os

import torch
import torch.utils.cpp_extension as extension

library = extension.library_paths()[0]
print(os.path.realpath(os.path.join(library, "libtorch.so")), library,
      getattr(torch._C, "_PYBIND11_COMPILER_TYPE", ""), getattr(torch._C, "_PYBIND11_STDLIB", ""),
      getattr(torch._C, "_PYBIND11_BUILD_ABI", ""), sep=";")
