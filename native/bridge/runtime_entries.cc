#include "native/bridge/runtime_entries.h"

namespace envoy_ts::bridge {

const char* RuntimeEntries::name(Entry entry) {
  switch (entry) {
  case Entry::LoadConfig: return "loadConfig";
  case Entry::ReloadConfig: return "reloadConfig";
  case Entry::BundleOf: return "bundleOf";
  case Entry::UnloadConfig: return "unloadConfig";
  case Entry::DescribeMetrics: return "describeMetrics";
  case Entry::HookMask: return "hookMask";
  case Entry::FailOpen: return "failOpen";
  case Entry::OnHook: return "onHook";
  case Entry::OnNetworkHook: return "onNetworkHook";
  case Entry::OnNetworkEvent: return "onNetworkEvent";
  case Entry::OnCalloutDone: return "onCalloutDone";
  case Entry::OnFetchStream: return "onFetchStream";
  case Entry::OnResume: return "onResume";
  case Entry::OnDestroy: return "onDestroy";
  case Entry::OnBudgetExceeded: return "onBudgetExceeded";
  case Entry::DrainTicks: return "drainTicks";
  case Entry::Count: break;
  }
  return "?";
}

void RuntimeEntries::set(v8::Isolate* isolate, v8::Local<v8::Context> context,
                         v8::Local<v8::Object> dispatcher) {
  receiver_.Reset(isolate, dispatcher);
  for (size_t i = 0; i < index(Entry::Count); ++i) {
    v8::Local<v8::String> key;
    v8::Local<v8::Value> value;
    functions_[i].Reset();
    if (v8::String::NewFromUtf8(isolate, name(static_cast<Entry>(i))).ToLocal(&key) &&
        dispatcher->Get(context, key).ToLocal(&value) && value->IsFunction()) {
      functions_[i].Reset(isolate, value.As<v8::Function>());
    }
  }
}

}  // namespace envoy_ts::bridge
