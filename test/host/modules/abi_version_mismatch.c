// on_program_init returns another ABI version: the host (like Envoy) warns and serves anyway.
#define PASSTHROUGH_SKIP_PROGRAM_INIT
#include "passthrough.h"

ENVOY_TS_HOOK const char* envoy_dynamic_module_on_program_init(void) { return "v0.0.0-test"; }
