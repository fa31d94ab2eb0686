/*
 * For envoy-ts-host-exports-v8 only: the host variant that exports V8 symbols libnode imports
 * from itself, as an Envoy built with exported_symbols=enabled (-Wl,-E) exports its own V8. The
 * dynamic linker binds libnode's calls to these; libenvoy_ts.so must see that at program init and
 * refuse to start Node.js. If it did not, the first captured call ends the process loudly.
 * The names are the Itanium-mangled C++ names (valid C identifiers), defined here in C so that no
 * V8 header is needed.
 */
#include <stdio.h>
#include <stdlib.h>

static void captured(const char* what) {
  fprintf(stderr, "envoy-ts-host-exports-v8: libnode's call to %s was captured by the host\n", what);
  abort();
}

/* v8::HandleScope::HandleScope(v8::Isolate*) */
void _ZN2v811HandleScopeC1EPNS_7IsolateE(void* self, void* isolate) {
  (void)self;
  (void)isolate;
  captured("v8::HandleScope::HandleScope(v8::Isolate*)");
}

/* v8::String::NewFromUtf8(v8::Isolate*, char const*, v8::NewStringType, int) */
void* _ZN2v86String11NewFromUtf8EPNS_7IsolateEPKcNS_13NewStringTypeEi(void* isolate,
                                                                        const char* data,
                                                                        int type, int length) {
  (void)isolate;
  (void)data;
  (void)type;
  (void)length;
  captured("v8::String::NewFromUtf8");
  return NULL;
}
