// Once-per-process Node.js and V8 state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "native/runtime/inspector_address.h"

namespace node {
class MultiIsolatePlatform;
}

namespace envoy_ts::runtime {

// Node and V8 are initialised once, on Envoy's main thread (program_init), and never torn down:
// V8 cannot be initialised twice in a process, which is why the module must be loaded with
// do_not_close. Node is started without its signal handlers, stdio setup, NODE_OPTIONS or
// resource-limit changes, so Envoy keeps all of those.
class NodeProcess {
 public:
  // Idempotent. Returns false with `error` set when this process cannot host Node.
  static bool initialize(std::string& error);
  // The shared V8 platform (valid after initialize() succeeded).
  static node::MultiIsolatePlatform& platform();
  // The limits of each environment (ENVOY_TS_HEAP_LIMIT_MB, ENVOY_TS_EXTERNAL_MEMORY_LIMIT_MB),
  // in bytes: the JS heap's old generation, and memory outside it (ArrayBuffers, Buffers).
  static size_t heapLimitBytes();
  static size_t externalMemoryLimitBytes();
  // ENVOY_TS_SOURCE_MAPS (default 1): Node maps stack traces through the bundles' source maps
  // (--enable-source-maps), so they name the filters' TypeScript. Off, stacks name the bundle's
  // .js and the maps are never read. `npm run bench` measures it (bench/lib/source-maps.mjs): on
  // costs a few percent of an environment's preparation and RSS, and each error stack that is
  // formatted (read, e.g. logged) costs ~40x more (Node 18 parses the bundle's map again for every
  // stack). On by default because mapped stacks are what an incident needs; 0 for filters that
  // format many error stacks per second.
  static bool sourceMapsEnabled();
  // ENVOY_TS_INSPECT ([host:]port): inspect mode, where every worker environment opens Node's
  // inspector (native/runtime/inspector.h). Empty when the variable is unset.
  static const std::optional<InspectorAddress>& inspector();
};

}  // namespace envoy_ts::runtime
