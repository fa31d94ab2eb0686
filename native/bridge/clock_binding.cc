// The clock of the built-in hook stats (ts-filters/runtime/hook-stats.ts): a V8 function around
// the vDSO's CLOCK_MONOTONIC, a fraction of what performance.now() costs in the embedded Node.
#include <ctime>

#include "native/bridge/binding.h"
#include "native/bridge/v8_binding.h"

namespace envoy_ts::bridge {
namespace {

// () → microseconds of the monotonic clock (any origin: only differences mean something).
void monotonicMicros(const v8::FunctionCallbackInfo<v8::Value>& info) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  info.GetReturnValue().Set(static_cast<double>(now.tv_sec) * 1e6 +
                            static_cast<double>(now.tv_nsec) / 1e3);
}

}  // namespace

void defineClockFunction(Napi::Object exports, Bridge& bridge) {
  defineV8Function(exports, "monotonicMicros", monotonicMicros, bridge, 0);
}

}  // namespace envoy_ts::bridge
