// Sends the module's log lines to Envoy's logger (dynamic_modules logger id).
#pragma once

#include "native/runtime/log.h"

namespace envoy_ts::module {

runtime::LogSink envoyLogSink();

}  // namespace envoy_ts::module
