// The runtime's Dispatcher (ts-filters/runtime/native.d.ts) as V8 handles. Calls into the runtime
// are plain V8 calls: a handle scope and a TryCatch on the caller's stack, arguments as V8 values
// (none for the hot entries, whose arguments are in the crossing frame), never Node-API's per-call
// wrappers (heap-allocated scopes, references, a value per number).
#pragma once

#include <cstdint>

#include "v8.h"

namespace envoy_ts::bridge {

// The Dispatcher's functions.
enum class Entry : uint32_t {
  LoadConfig,
  ReloadConfig,
  BundleOf,
  UnloadConfig,
  DescribeMetrics,
  HookMask,
  FailOpen,
  OnHook,
  OnNetworkHook,
  OnNetworkEvent,
  OnCalloutDone,
  OnFetchStream,
  OnResume,
  OnDestroy,
  OnBudgetExceeded,
  DrainTicks,
  Count,
};

class RuntimeEntries {
 public:
  // The Dispatcher's name of `entry` ("onHook").
  static const char* name(Entry entry);

  // Takes the dispatcher's functions (one it lacks stays missing).
  void set(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> dispatcher);
  bool has(Entry entry) const { return !functions_[index(entry)].IsEmpty(); }
  // Calls `entry` with the dispatcher as `this`; empty when it threw or was terminated (the
  // caller's TryCatch says which).
  v8::MaybeLocal<v8::Value> call(v8::Isolate* isolate, v8::Local<v8::Context> context, Entry entry,
                                 int argc, v8::Local<v8::Value>* argv) const {
    return functions_[index(entry)].Get(isolate)->Call(context, receiver_.Get(isolate), argc, argv);
  }

 private:
  static constexpr size_t index(Entry entry) { return static_cast<size_t>(entry); }

  v8::Global<v8::Object> receiver_;
  v8::Global<v8::Function> functions_[static_cast<size_t>(Entry::Count)];
};

}  // namespace envoy_ts::bridge
