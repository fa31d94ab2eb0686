// The clock of the built-in hook stats (ts-filters/runtime/hook-stats.ts): a V8 function around
// the vDSO's CLOCK_MONOTONIC that leaves the time in the runtime's clock cell (a Float64Array
// registered with setClockCell) instead of returning it: a returned double is a new heap number
// per read, the cell is not.
#include "native/bridge/binding.h"
#include "native/bridge/bridge.h"
#include "native/bridge/v8_binding.h"

namespace envoy_ts::bridge {
namespace {

// () → undefined; the clock cell gets microseconds of the monotonic clock (any origin: only
// differences mean something).
void stampClock(const v8::FunctionCallbackInfo<v8::Value>& info) { bridgeOf(info).stampClock(); }

}  // namespace

void defineClockFunction(Napi::Object exports, Bridge& bridge) {
  defineV8Function(exports, "stampClock", stampClock, bridge, 0);
}

}  // namespace envoy_ts::bridge
