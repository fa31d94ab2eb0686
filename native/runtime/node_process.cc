#include "native/runtime/node_process.h"

#include <unistd.h>

#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "native/runtime/log.h"
#include "native/runtime/symbol_isolation.h"
#include "node.h"

namespace envoy_ts::runtime {
namespace {

// Threads V8 uses for background work (GC, compilation), shared by every environment.
constexpr int kPlatformThreads = 2;

struct ProcessState {
  std::unique_ptr<node::InitializationResult> init;
  std::unique_ptr<node::MultiIsolatePlatform> platform;
};

// Deliberately leaked: V8 is never disposed while the module stays loaded.
ProcessState* state_ = nullptr;
std::string init_error_;
std::once_flag once_;

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
  if (!checkSymbolIsolation(init_error_) || !checkExternalBuiltins(init_error_)) {
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
  auto result = node::InitializeOncePerProcess({"envoy-ts", "--no-force-async-hooks-checks"}, flags);
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

}  // namespace envoy_ts::runtime
