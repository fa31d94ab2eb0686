// The functions of process._linkedBinding('envoy_ts') (ts-filters/runtime/native.d.ts).
#pragma once

#include "napi.h"

namespace envoy_ts::runtime {
class Environment;
}

namespace envoy_ts::bridge {

class Bridge;

void defineBindingFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge);

// The functions for network connections (connection_binding.cc).
void defineConnectionFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge);

// The functions over a stream's header maps (header_binding.cc).
void defineHeaderFunctions(Napi::Object exports, Bridge& bridge);

// The stats clock (clock_binding.cc).
void defineClockFunction(Napi::Object exports, Bridge& bridge);

// The functions over stream and connection bytes (buffer_binding.cc).
void defineBufferFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge);

// The functions over process-wide shared data and queues (shared_state_binding.cc).
void defineSharedStateFunctions(Napi::Env env, Napi::Object exports, Bridge& bridge);

// Offload pool threads waking streams (offload_binding.cc): the functions the runtime calls, and
// the binding the environment's pool threads reach.
void defineOffloadFunctions(Napi::Object exports, Bridge& bridge);
void addOffloadPoolBinding(runtime::Environment& env);

}  // namespace envoy_ts::bridge
