// Lacks envoy_dynamic_module_on_http_filter_scheduled: the host must reject the filter config at
// load time, naming the missing symbol, and exit 1.
#define PASSTHROUGH_SKIP_SCHEDULED
#include "passthrough.h"
