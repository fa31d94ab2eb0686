// ctx.offload results that pool threads hand straight to their environment
// (runtime::OffloadResults). A pool thread is a Node worker of the environment: it reaches the
// environment's linked bindings, among them `process._linkedBinding('envoy_ts_offload')`, whose
// deliver() serializes a task's result with V8's serializer and queues it. The worker hands the
// queued results to the runtime (Dispatcher.onOffloadDone) as it pumps the loop. The runtime runs
// each task through the runner script (ts-filters/runtime/offload-runner.ts), which ships next to
// the module as envoy-ts-offload-runner.js: piscina loads what it runs from a file.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "native/bridge/binding.h"
#include "native/bridge/bridge.h"
#include "native/bridge/v8_binding.h"
#include "native/runtime/log.h"
#include "native/runtime/offload_results.h"

namespace envoy_ts::bridge {

using runtime::LogLevel;
using runtime::OffloadResults;

namespace {

constexpr const char* kPoolBindingName = "envoy_ts_offload";
constexpr const char* kRunnerFile = "envoy-ts-offload-runner.js";
// Task ids are JS numbers: whole and exact.
constexpr double kMaxTaskId = 9007199254740991.0;

// `value` in V8's serialization format. What the serializer cannot copy (a function, a
// SharedArrayBuffer, a MessagePort, a Node object such as a KeyObject) makes it throw (no delegate:
// libnode's V8 has no RTTI to subclass one with), caught here: such a result goes back through the
// pool's own message port, which transfers or clones what it can.
bool serialize(v8::Isolate* isolate, v8::Local<v8::Value> value, std::vector<uint8_t>& out) {
  v8::ValueSerializer serializer(isolate);
  serializer.WriteHeader();
  v8::TryCatch try_catch(isolate);
  if (!serializer.WriteValue(isolate->GetCurrentContext(), value).FromMaybe(false)) {
    return false;
  }
  // Without a delegate the buffer is realloc()ed memory.
  std::pair<uint8_t*, size_t> bytes = serializer.Release();
  out.assign(bytes.first, bytes.first + bytes.second);
  std::free(bytes.first);
  return true;
}

// Pool thread: deliver(taskId, failed, value) → true when `value` (what the task returned, or
// threw with `failed`) was handed to the environment, false when it cannot be serialized.
void deliver(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsNumber() || !info[1]->IsBoolean()) {
    throwInvalidArg(isolate, "expected (taskId, failed, value)");
    return;
  }
  const double task_id = info[0].As<v8::Number>()->Value();
  if (!(task_id >= 1 && task_id <= kMaxTaskId) || task_id != static_cast<double>(static_cast<uint64_t>(task_id))) {
    throwInvalidArg(isolate, "the task id must be a whole number from 1");
    return;
  }
  OffloadResults::Result result;
  result.task_id = static_cast<uint64_t>(task_id);
  result.failed = info[1].As<v8::Boolean>()->Value();
  if (!serialize(isolate, info[2], result.bytes)) {
    info.GetReturnValue().Set(false);
    return;
  }
  static_cast<OffloadResults*>(info.Data().As<v8::External>()->Value())->add(std::move(result));
  info.GetReturnValue().Set(true);
}

// process._linkedBinding('envoy_ts_offload'), in a pool thread of the environment that owns
// `results`.
void initPoolBinding(v8::Local<v8::Object> exports, v8::Local<v8::Value> /*module*/,
                     v8::Local<v8::Context> context, void* results) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Function> function =
      v8::Function::New(context, deliver, v8::External::New(isolate, results), 3,
                        v8::ConstructorBehavior::kThrow)
          .ToLocalChecked();
  exports
      ->DefineOwnProperty(context, v8::String::NewFromUtf8Literal(isolate, "deliver"), function,
                          static_cast<v8::PropertyAttribute>(v8::ReadOnly | v8::DontDelete))
      .Check();
}

// The runner script's path: next to this module.
std::string runnerPath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&runnerPath), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/" + kRunnerFile;
}

// () → the runner script's path, or undefined when pool threads cannot hand results in here
// (logged at debug, with why): the runtime then takes results from the pool's message port.
void offloadRunner(const v8::FunctionCallbackInfo<v8::Value>& info) {
  runtime::Environment& env = bridgeOf(info).environment();
  const char* unavailable = "ctx.offload results come back through the pool's message port and the "
                            "waker thread: ";
  if (!env.offloadResultsDirect()) {
    runtime::log(LogLevel::Debug, std::string(unavailable) +
                                      "in inspect mode the loop may run on the waker thread");
    return;
  }
  static const std::string path = runnerPath();
  if (path.empty() || access(path.c_str(), R_OK) != 0) {
    runtime::log(LogLevel::Debug, std::string(unavailable) + "the runner script " +
                                      (path.empty() ? kRunnerFile : path) +
                                      " is missing (it ships next to libenvoy_ts.so)");
    return;
  }
  info.GetReturnValue().Set(
      v8::String::NewFromUtf8(info.GetIsolate(), path.c_str()).ToLocalChecked());
}

// () → [results pool threads handed in, events they committed on a waiting stream's scheduler].
void offloadCounts(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const OffloadResults::Counts counts = bridgeOf(info).environment().offloadResults().counts();
  v8::Local<v8::Value> values[2] = {v8::Number::New(isolate, static_cast<double>(counts.results)),
                                    v8::Number::New(isolate, static_cast<double>(counts.wakes))};
  info.GetReturnValue().Set(v8::Array::New(isolate, values, 2));
}

}  // namespace

void addOffloadPoolBinding(runtime::Environment& env) {
  if (env.offloadResultsDirect()) {
    env.addLinkedBinding(kPoolBindingName, initPoolBinding, &env.offloadResults());
  }
}

void defineOffloadFunctions(Napi::Object exports, Bridge& bridge) {
  defineV8Function(exports, "offloadRunner", offloadRunner, bridge, 0);
  defineV8Function(exports, "offloadCounts", offloadCounts, bridge, 0);
}

void Bridge::onOffloadResults(runtime::OffloadResults& results) {
  for (OffloadResults::Result& result : results.take()) {
    if (!jsUsable()) {
      return;  // the environment broke: nothing waits for the rest
    }
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Context> context = isolate_->GetCurrentContext();
    v8::Local<v8::Value> value;
    bool failed = result.failed;
    {
      v8::TryCatch try_catch(isolate_);
      v8::ValueDeserializer deserializer(isolate_, result.bytes.data(), result.bytes.size());
      if (!deserializer.ReadHeader(context).FromMaybe(false) ||
          !deserializer.ReadValue(context).ToLocal(&value)) {
        failed = true;
        value = v8::Exception::Error(v8::String::NewFromUtf8Literal(
            isolate_, "the offloaded task's result could not be read"));
      }
    }
    v8::Local<v8::Value> args[3] = {
        v8::Number::New(isolate_, static_cast<double>(result.task_id)),
        v8::Boolean::New(isolate_, failed), value};
    v8::Local<v8::Value> ignored;
    call(Entry::OnOffloadDone, 3, args, ignored);
  }
}

}  // namespace envoy_ts::bridge
