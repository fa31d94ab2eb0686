#include "native/runtime/inspector.h"

#include <atomic>

#include "native/runtime/node_process.h"

namespace envoy_ts::runtime {
namespace {

// Worker environments are created on several threads at once (the pool prepares them in
// parallel): each takes the next number.
std::atomic<int> next_number_{0};

v8::Local<v8::String> text(v8::Isolate* isolate, const char* value) {
  return v8::String::NewFromUtf8(isolate, value).ToLocalChecked();
}

}  // namespace

void announceInspector(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  const InspectorAddress& address = *NodeProcess::inspector();
  const int number = next_number_.fetch_add(1);
  // Port 0 stays 0 for every environment (the system picks); past 65535 the environment asks for
  // a port of the system's choosing too, and its log line says which it got.
  int port = address.base_port == 0 ? 0 : address.base_port + number;
  if (port > 65535) {
    port = 0;
  }
  v8::Context::Scope context_scope(context);
  v8::Local<v8::Object> settings = v8::Object::New(isolate);
  settings->Set(context, text(isolate, "number"), v8::Integer::New(isolate, number)).Check();
  settings->Set(context, text(isolate, "host"), text(isolate, address.host.c_str())).Check();
  settings->Set(context, text(isolate, "port"), v8::Integer::New(isolate, port)).Check();
  // Node's bootstrap (run when the environment was created) made `process` a global.
  v8::Local<v8::Value> process;
  if (context->Global()->Get(context, text(isolate, "process")).ToLocal(&process) &&
      process->IsObject()) {
    process.As<v8::Object>()
        ->Set(context, v8::Symbol::For(isolate, text(isolate, "envoy-ts.inspector")), settings)
        .Check();
  }
}

void closeInspector(v8::Isolate* isolate, v8::Local<v8::Context> context) {
  v8::HandleScope handle_scope(isolate);
  v8::Context::Scope context_scope(context);
  v8::TryCatch try_catch(isolate);  // a broken environment may refuse: nothing more to do then
  v8::Local<v8::Value> process;
  v8::Local<v8::Value> close;
  if (context->Global()->Get(context, text(isolate, "process")).ToLocal(&process) &&
      process->IsObject() &&
      process.As<v8::Object>()
          ->Get(context, v8::Symbol::For(isolate, text(isolate, "envoy-ts.inspector.close")))
          .ToLocal(&close) &&
      close->IsFunction()) {
    (void)close.As<v8::Function>()->Call(context, v8::Undefined(isolate), 0, nullptr);
  }
}

}  // namespace envoy_ts::runtime
