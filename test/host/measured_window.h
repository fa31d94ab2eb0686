#pragma once

// Marks the scripted mode's measured streams for callgrind, so that
// `valgrind --tool=callgrind --instr-atstart=no envoy-ts-host --script …` counts the instructions
// of those streams only (every thread's), not the start-up, the warmup or the exit. The marks are
// valgrind's client requests: outside valgrind each is a handful of instructions that do nothing.
// CMakeLists.txt defines ENVOY_TS_HOST_CALLGRIND when valgrind's header (Debian's `valgrind`
// package) was there at configure time; without it the host builds without the marks, and
// callgrind then counts nothing at all, which the bench reports (the Bazel build never has them).
#ifdef ENVOY_TS_HOST_CALLGRIND
#include <valgrind/callgrind.h>
#endif

namespace EnvoyTsHost {

// The first measured stream starts: count from here, from zero.
inline void openMeasuredWindow() {
#ifdef ENVOY_TS_HOST_CALLGRIND
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
#endif
}

// The last measured stream is done: count nothing more.
inline void closeMeasuredWindow() {
#ifdef ENVOY_TS_HOST_CALLGRIND
  CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

} // namespace EnvoyTsHost
