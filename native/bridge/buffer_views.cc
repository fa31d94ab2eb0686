#include "native/bridge/buffer_views.h"

#include "v8.h"

namespace envoy_ts::bridge {

struct BufferViews::View {
  v8::Global<v8::ArrayBuffer> buffer;
  int depth;
};

BufferViews::BufferViews() = default;

BufferViews::~BufferViews() {
  for (View* view : views_) {
    delete view;
  }
}

napi_value BufferViews::create(napi_env env, std::string_view bytes, int depth) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::EscapableHandleScope scope(isolate);
  // Envoy owns the memory: the backing store never frees it.
  std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(
      const_cast<char*>(bytes.data()), bytes.size(), [](void*, size_t, void*) {}, nullptr);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  views_.push_back(new View{v8::Global<v8::ArrayBuffer>(isolate, buffer), depth});
  // Node-API values are V8 handles of the current scope (as Node's own conversion does).
  v8::Local<v8::Value> escaped = scope.Escape(buffer);
  napi_value array_buffer = reinterpret_cast<napi_value>(*escaped);
  napi_value view = nullptr;
  napi_create_typedarray(env, napi_uint8_array, bytes.size(), array_buffer, 0, &view);
  return view;
}

void BufferViews::detachFrom(int depth) {
  if (views_.empty()) {
    return;
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::HandleScope scope(isolate);
  size_t kept = 0;
  for (View* view : views_) {
    if (view->depth < depth) {
      views_[kept++] = view;
      continue;
    }
    v8::Local<v8::ArrayBuffer> buffer = view->buffer.Get(isolate);
    if (buffer->IsDetachable()) {
      buffer->Detach();
    }
    delete view;
  }
  views_.resize(kept);
}

}  // namespace envoy_ts::bridge
