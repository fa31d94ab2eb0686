// Inspect mode (ENVOY_TS_INSPECT, native/runtime/inspector_address.h): every worker environment
// opens Node's inspector on a port of its own and says where in Envoy's log, so DevTools (or
// `envoy-ts dev --inspect`) can attach to a running proxy.
//
// Who does what:
// - here: each worker environment gets a number in creation order (0, 1, ...; the pool's spare and
//   environments replacing broken ones included) and the port base + number (or 0: any free
//   port), handed to the runtime before it starts;
// - ts-filters/runtime/inspector.ts: opens the inspector there and writes the log line;
// - idle_turns.cc: the inspector answers while the worker is idle (its messages arrive on the
//   environment's loop, which otherwise runs only when a stream pumps it).
#pragma once

#include "v8.h"

namespace envoy_ts::runtime {

// While a worker environment is created in inspect mode, before its runtime runs: sets
// process[Symbol.for('envoy-ts.inspector')] = {number, host, port}. The runtime reads and deletes
// it before any bundle loads.
void announceInspector(v8::Isolate* isolate, v8::Local<v8::Context> context);

// Before an environment of inspect mode is torn down (attached, JavaScript still allowed): closes
// its inspector, ending DevTools sessions. Node would otherwise wait for them to disconnect when it
// frees the environment, holding up Envoy's shutdown for as long as DevTools stays open.
void closeInspector(v8::Isolate* isolate, v8::Local<v8::Context> context);

}  // namespace envoy_ts::runtime
