// ctx.offload's pool threads wake the streams that wait for them (runtime::OffloadWakes). A pool
// thread is a Node worker of the environment: it reaches the environment's linked bindings, among
// them `process._linkedBinding('envoy_ts_offload')`, whose wake() the runner script calls as a task
// ends, just before the pool posts its result. The runtime runs each task through that runner
// (ts-filters/runtime/offload-runner.ts), which ships next to the module as
// envoy-ts-offload-runner.js: piscina loads what it runs from a file.
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "native/bridge/binding.h"
#include "native/bridge/bridge.h"
#include "native/bridge/v8_binding.h"
#include "native/runtime/log.h"
#include "native/runtime/offload_wakes.h"

namespace envoy_ts::bridge {

using runtime::LogLevel;
using runtime::OffloadWakes;

namespace {

constexpr const char* kPoolBindingName = "envoy_ts_offload";
constexpr const char* kRunnerFile = "envoy-ts-offload-runner.js";

// Pool thread: wake() → a result is due on the environment's loop: the newest waiting stream's
// event is committed from here unless one is on its way.
void wake(const v8::FunctionCallbackInfo<v8::Value>& info) {
  static_cast<OffloadWakes*>(info.Data().As<v8::External>()->Value())->wake();
}

// process._linkedBinding('envoy_ts_offload'), in a pool thread of the environment that owns
// `wakes`.
void initPoolBinding(v8::Local<v8::Object> exports, v8::Local<v8::Value> /*module*/,
                     v8::Local<v8::Context> context, void* wakes) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Function> function =
      v8::Function::New(context, wake, v8::External::New(isolate, wakes), 0,
                        v8::ConstructorBehavior::kThrow)
          .ToLocalChecked();
  exports
      ->DefineOwnProperty(context, v8::String::NewFromUtf8Literal(isolate, "wake"), function,
                          static_cast<v8::PropertyAttribute>(v8::ReadOnly | v8::DontDelete))
      .Check();
}

// Where the runner script is expected: next to this module (as it was loaded: the path may be
// relative to the working directory).
std::string expectedRunnerPath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&expectedRunnerPath), &info) == 0 ||
      info.dli_fname == nullptr) {
    return kRunnerFile;
  }
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/" + kRunnerFile;
}

// The runner script's absolute path (piscina resolves a relative one against its own folder), or
// "" when it is not there.
std::string runnerPath(const std::string& expected) {
  char* resolved = realpath(expected.c_str(), nullptr);
  if (resolved == nullptr) {
    return "";
  }
  std::string path = resolved;
  std::free(resolved);
  return access(path.c_str(), R_OK) == 0 ? path : "";
}

// () → the runner script's path, or undefined when pool threads cannot wake streams here (logged
// at debug, with why): the runtime then runs tasks as they are, and the waker thread sees their
// results arrive on the loop.
void offloadRunner(const v8::FunctionCallbackInfo<v8::Value>& info) {
  runtime::Environment& env = bridgeOf(info).environment();
  const char* unavailable = "ctx.offload results wake their streams through the waker thread: ";
  if (!env.offloadPoolWakes()) {
    runtime::log(LogLevel::Debug, std::string(unavailable) +
                                      "pool threads wake streams only in a worker's environment "
                                      "outside inspect mode");
    return;
  }
  static const std::string expected = expectedRunnerPath();
  static const std::string path = runnerPath(expected);
  if (path.empty()) {
    runtime::log(LogLevel::Debug, std::string(unavailable) + "the runner script " + expected +
                                      " is missing (it ships next to libenvoy_ts.so)");
    return;
  }
  info.GetReturnValue().Set(
      v8::String::NewFromUtf8(info.GetIsolate(), path.c_str()).ToLocalChecked());
}

// () → [wake-ups pool threads asked for, events they committed on a waiting stream's scheduler].
void offloadCounts(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const OffloadWakes::Counts counts = bridgeOf(info).environment().offloadWakes().counts();
  v8::Local<v8::Value> values[2] = {v8::Number::New(isolate, static_cast<double>(counts.requests)),
                                    v8::Number::New(isolate, static_cast<double>(counts.commits))};
  info.GetReturnValue().Set(v8::Array::New(isolate, values, 2));
}

}  // namespace

void addOffloadPoolBinding(runtime::Environment& env) {
  if (env.offloadPoolWakes()) {
    env.addLinkedBinding(kPoolBindingName, initPoolBinding, &env.offloadWakes());
  }
}

void defineOffloadFunctions(Napi::Object exports, Bridge& bridge) {
  defineV8Function(exports, "offloadRunner", offloadRunner, bridge, 0);
  defineV8Function(exports, "offloadCounts", offloadCounts, bridge, 0);
}

}  // namespace envoy_ts::bridge
