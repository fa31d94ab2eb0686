#include "native/runtime/node_process.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "native/runtime/inspector_address.h"
#include "native/runtime/log.h"
#include "native/runtime/symbol_isolation.h"
#include "node.h"

namespace envoy_ts::runtime {
namespace {

// Threads V8 uses for background work (GC, compilation), shared by every environment.
constexpr int kPlatformThreads = 2;

// Memory limits of each Node environment, in MiB: far below V8's default (a quarter of the
// machine's memory, about 4 GiB here) and far above what a filter's state needs.
struct MemoryLimit {
  const char* variable;
  long default_mb;
  long min_mb;
  long max_mb;
};
constexpr MemoryLimit kHeapLimit{"ENVOY_TS_HEAP_LIMIT_MB", 512, 16, 16384};
constexpr MemoryLimit kExternalMemoryLimit{"ENVOY_TS_EXTERNAL_MEMORY_LIMIT_MB", 512, 16, 65536};

struct ProcessState {
  std::unique_ptr<node::InitializationResult> init;
  std::unique_ptr<node::MultiIsolatePlatform> platform;
};

// Deliberately leaked: V8 is never disposed while the module stays loaded.
ProcessState* state_ = nullptr;
std::string init_error_;
size_t heap_limit_mb_ = 0;
size_t external_memory_limit_mb_ = 0;

// A limit from its environment variable (or its default); false with `error` set when the
// variable holds anything but a whole number in range.
bool readLimit(const MemoryLimit& limit, size_t& mb, std::string& error) {
  const char* configured = std::getenv(limit.variable);
  if (configured == nullptr) {
    mb = static_cast<size_t>(limit.default_mb);
    return true;
  }
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(configured, &end, 10);
  if (*configured == '\0' || *end != '\0' || errno != 0 || value < limit.min_mb ||
      value > limit.max_mb) {
    error = std::string(limit.variable) + " must be a whole number of MiB from " +
            std::to_string(limit.min_mb) + " to " + std::to_string(limit.max_mb) + ", got \"" +
            configured + "\"";
    return false;
  }
  mb = static_cast<size_t>(value);
  return true;
}
std::once_flag once_;
bool source_maps_ = true;
std::optional<InspectorAddress> inspector_;

// ENVOY_TS_SOURCE_MAPS: "1" (the default) or "0"; false with `error` set for anything else.
// Why a switch: see sourceMapsEnabled() in node_process.h.
bool readSourceMaps(bool& enabled, std::string& error) {
  const char* configured = std::getenv("ENVOY_TS_SOURCE_MAPS");
  if (configured == nullptr) {
    enabled = true;
    return true;
  }
  if (std::strcmp(configured, "0") != 0 && std::strcmp(configured, "1") != 0) {
    error = std::string("ENVOY_TS_SOURCE_MAPS must be 0 (stack traces name the bundle's .js) or 1 "
                        "(they name the TypeScript sources), got \"") + configured + "\"";
    return false;
  }
  enabled = configured[0] == '1';
  return true;
}

// The builtins this libnode reads from disk (found in the library at build time; none for a
// libnode that embeds them all).
bool checkExternalBuiltins(std::string& error) {
  std::istringstream paths(ENVOY_TS_LIBNODE_EXTERNAL_BUILTINS);
  std::string missing;
  for (std::string path; std::getline(paths, path, ':');) {
    if (!path.empty() && access(path.c_str(), R_OK) != 0) {
      missing.append(missing.empty() ? "" : ", ").append(path);
    }
  }
  if (!missing.empty()) {
    error = "refusing to start Node.js: this libnode loads JS builtins from disk and these are "
            "missing: " + missing + " (Debian packages node-acorn, node-cjs-module-lexer, "
            "node-undici; `npm run setup` provides them)";
    return false;
  }
  return true;
}

void initializeOnce() {
  if (!checkSymbolIsolation(init_error_) || !checkExternalBuiltins(init_error_) ||
      !readLimit(kHeapLimit, heap_limit_mb_, init_error_) ||
      !readLimit(kExternalMemoryLimit, external_memory_limit_mb_, init_error_) ||
      !readSourceMaps(source_maps_, init_error_) || !readInspectorAddress(inspector_, init_error_)) {
    return;
  }
  using Flags = node::ProcessInitializationFlags::Flags;
  auto flags = static_cast<Flags>(
      node::ProcessInitializationFlags::kNoInitializeV8 |
      node::ProcessInitializationFlags::kNoInitializeNodeV8Platform |
      node::ProcessInitializationFlags::kNoStdioInitialization |
      node::ProcessInitializationFlags::kNoDefaultSignalHandling |
      node::ProcessInitializationFlags::kNoAdjustResourceLimits |
      node::ProcessInitializationFlags::kNoUseLargePages |
      node::ProcessInitializationFlags::kNoPrintHelpOrVersionOutput |
      node::ProcessInitializationFlags::kDisableNodeOptionsEnv);
  // Without the async-hooks stack check: JavaScript the CPU watchdog stops leaves the frames it
  // pushed, which the check turns into a process abort; the runtime resets the stack instead.
  // With source maps on, a stack trace from a bundle built with them (esbuild --sourcemap) points
  // into the filter's TypeScript.
  std::vector<std::string> args{"envoy-ts", "--no-force-async-hooks-checks"};
  if (source_maps_) {
    args.push_back("--enable-source-maps");
  }
  auto result = node::InitializeOncePerProcess(args, flags);
  if (result->early_return() || !result->errors().empty()) {
    init_error_ = "Node.js initialisation failed:";
    for (const std::string& e : result->errors()) {
      init_error_.append(" ").append(e);
    }
    return;
  }
  auto* state = new ProcessState();
  state->init = std::move(result);
  state->platform = node::MultiIsolatePlatform::Create(kPlatformThreads);
  v8::V8::InitializePlatform(state->platform.get());
  // WebAssembly compiles on the calling thread, with no background job to finish later: Node 18
  // starts one as soon as its fetch/Response globals load (undici's llhttp), and a job still
  // running when an environment is torn down posts to the environment's freed loop (a crash at
  // shutdown).
  v8::V8::SetFlagsFromString("--no-wasm-async-compilation --no-wasm-tier-up");
  // Every isolate's heap limit (V8's flag wins over the limit Node derives from the machine's
  // memory). Near it, an environment is stopped and replaced (Environment::nearHeapLimit).
  v8::V8::SetFlagsFromString(("--max-old-space-size=" + std::to_string(heap_limit_mb_)).c_str());
  v8::V8::Initialize();
  state_ = state;
}

}  // namespace

bool NodeProcess::initialize(std::string& error) {
  std::call_once(once_, initializeOnce);
  if (state_ == nullptr) {
    error = init_error_;
    return false;
  }
  return true;
}

node::MultiIsolatePlatform& NodeProcess::platform() { return *state_->platform; }

size_t NodeProcess::heapLimitBytes() { return heap_limit_mb_ << 20; }

size_t NodeProcess::externalMemoryLimitBytes() { return external_memory_limit_mb_ << 20; }

bool NodeProcess::sourceMapsEnabled() { return source_maps_; }

const std::optional<InspectorAddress>& NodeProcess::inspector() { return inspector_; }

}  // namespace envoy_ts::runtime
