"""Macros of the envoy-ts Bazel build: the compile options of every C++ target, as the CMake build
sets them (CMakeLists.txt), and the libraries the module is made of."""

load("@rules_cc//cc:defs.bzl", "cc_library")

ENVOY_TS_COPTS = [
    "-std=gnu++17",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    # Hidden by default: a binary exports only what its version script or dynamic list names.
    "-fvisibility=hidden",
    "-fvisibility-inlines-hidden",
]

def envoy_ts_cc_library(name, copts = [], **kwargs):
    """A part of libenvoy_ts.so, linked whole: nothing calls the exported hooks from inside it."""
    cc_library(
        name = name,
        copts = ENVOY_TS_COPTS + copts,
        alwayslink = True,
        visibility = ["//native:__subpackages__"],
        **kwargs
    )
