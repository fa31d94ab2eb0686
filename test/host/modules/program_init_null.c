// on_program_init returns NULL: the host must refuse to load the module, name it and exit 1.
#define PASSTHROUGH_SKIP_PROGRAM_INIT
#include "passthrough.h"

ENVOY_TS_HOOK const char* envoy_dynamic_module_on_program_init(void) { return NULL; }
