// Zero-copy views of Envoy's buffer slices for JS (DESIGN.md §4). The one bridge file that uses
// V8 directly: Node 18's Node-API external array buffers leak and can abort, so views are V8
// backing stores with a no-op deleter, detached before the memory can change or go away.
#pragma once

#include <string_view>
#include <vector>

#include "node_api.h"

namespace envoy_ts::bridge {

class BufferViews {
 public:
  BufferViews();
  ~BufferViews();

  // A Uint8Array over `bytes` (Envoy's memory, not copied), made at call depth `depth`.
  napi_value create(napi_env env, std::string_view bytes, int depth);
  // Detach the views made at call depth `depth` or deeper: the hook that made them is returning.
  // Detached views read as empty; nothing can reach the memory through them any more.
  void detachFrom(int depth);
  // Detach every view: a buffer is about to change.
  void detachAll() { detachFrom(0); }

  BufferViews(const BufferViews&) = delete;
  BufferViews& operator=(const BufferViews&) = delete;

 private:
  struct View;
  std::vector<View*> views_;
};

}  // namespace envoy_ts::bridge
