"""The external repositories of the envoy-ts Bazel build, every one local (nothing is downloaded):

- rules_cc and rules_java: Debian's bazel-rules-cc and bazel-rules-java packages, which Bazel 4.2's
  own C++ and Java toolchains load.
- libnode: Node.js's headers and libnode.so.<version> from the checkout's `.sysroot/usr`, the
  private sysroot scripts/setup.sh unpacks Debian's libnode into (libnode.so.108 on Debian 12,
  libnode.so.115 on Debian 13: whichever setup put there).
- node_addon_api: the headers of node-addon-api from the checkout's `node_modules`.

A workspace that depends on envoy-ts (as `@envoy_ts`) calls envoy_ts_dependencies() too; a rules_cc
or rules_java it declares first is kept.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")

# Debian's bazel-rules-cc (0.0.4) loads use_cpp_toolchain, which Bazel only gained in 5.1; on
# Bazel 4.2 a rule names the C++ toolchain type itself.
_USE_CPP_TOOLCHAIN_LOAD = ', "use_cpp_toolchain")'
_USE_CPP_TOOLCHAIN_CALL = "use_cpp_toolchain()"
_CPP_TOOLCHAIN_TYPES = '["@bazel_tools//tools/cpp:toolchain_type"]'

def _run(rctx, args):
    result = rctx.execute(args)
    if result.return_code != 0:
        fail("%s failed: %s" % (" ".join(args), result.stderr))
    return result.stdout

def _debian_rules_cc_impl(rctx):
    _run(rctx, ["cp", "-R", rctx.attr.path + "/.", "."])
    users = rctx.execute(["grep", "-rl", "--include=*.bzl", _USE_CPP_TOOLCHAIN_CALL, "."])
    for file in users.stdout.splitlines():
        text = rctx.read(file)
        text = text.replace(_USE_CPP_TOOLCHAIN_LOAD, ")")
        text = text.replace(_USE_CPP_TOOLCHAIN_CALL, _CPP_TOOLCHAIN_TYPES)
        rctx.file(file, text)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(default = "/usr/share/bazel/rules/cc")},
    local = True,
    doc = "Debian's rules_cc, made loadable by Bazel 4.2.",
)

_BUILTIN_PATH = "^/[^[:space:]\"]+/nodejs/[^[:space:]\"]+\\.js$"

def _checkout_root(rctx):
    return rctx.path(Label("//:WORKSPACE")).dirname

def _libnode_impl(rctx):
    usr = _checkout_root(rctx).get_child(".sysroot").get_child("usr")
    lib_dir = usr.get_child("lib").get_child("x86_64-linux-gnu")
    headers = usr.get_child("include").get_child("node")
    # The versioned libnode (its soname), not the libnode.so link of libnode-dev.
    libraries = [f for f in (lib_dir.readdir() if lib_dir.exists else [])
                 if f.basename.startswith("libnode.so.") and f.basename[len("libnode.so."):].isdigit()]
    if len(libraries) != 1 or not headers.get_child("node.h").exists:
        fail("no single libnode.so.<version> in %s, or %s/node.h is missing: run scripts/setup.sh in envoy-ts" %
             (lib_dir, headers))
    library = libraries[0]
    rctx.symlink(library, "lib/" + library.basename)
    rctx.symlink(headers, "include/node")

    # Debian's libnode reads a few JS builtins from fixed paths: the module checks them before it
    # starts Node.js. They are the printable strings of the binary that are such a path (the regex
    # of native/CMakeLists.txt), in order, each once.
    script = "strings -a \"$1\" | grep -E '%s'" % _BUILTIN_PATH
    found = _run(rctx, ["sh", "-c", script, "sh", str(library)])
    builtins = []
    for path in found.splitlines():
        if path not in builtins:
            builtins.append(path)
    rctx.file("builtins.bzl", "LIBNODE_EXTERNAL_BUILTINS = \"%s\"\n" % ":".join(builtins))
    rctx.template("BUILD.bazel", rctx.attr.build_file, {"{LIBNODE}": library.basename})

libnode_repository = repository_rule(
    implementation = _libnode_impl,
    attrs = {"build_file": attr.label(default = Label("//bazel:libnode.BUILD.bazel"))},
    local = True,
    doc = "libnode and its headers from the checkout's .sysroot/usr (scripts/setup.sh).",
)

def _node_addon_api_impl(rctx):
    headers = _checkout_root(rctx).get_child("node_modules").get_child("node-addon-api")
    if not headers.get_child("napi.h").exists:
        fail("%s/napi.h is missing: run scripts/setup.sh in the envoy-ts checkout" % headers)
    for header in headers.readdir():
        if header.basename.endswith(".h"):
            rctx.symlink(header, header.basename)
    rctx.symlink(rctx.attr.build_file, "BUILD.bazel")

node_addon_api_repository = repository_rule(
    implementation = _node_addon_api_impl,
    attrs = {"build_file": attr.label(default = Label("//bazel:node_addon_api.BUILD.bazel"))},
    local = True,
    doc = "node-addon-api's headers from the checkout's node_modules (npm ci).",
)

def envoy_ts_dependencies():
    maybe(debian_rules_cc, name = "rules_cc")
    maybe(native.local_repository, name = "rules_java", path = "/usr/share/bazel/rules/java")
    libnode_repository(name = "libnode")
    node_addon_api_repository(name = "node_addon_api")
