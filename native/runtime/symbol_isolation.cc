#include "native/runtime/symbol_isolation.h"

#include <dlfcn.h>

namespace envoy_ts::runtime {
namespace {

struct GuardedSymbol {
  const char* library;  // the object that must provide the symbol to libnode
  const char* symbol;
  const char* what;
};

// One representative per family: V8 (inside libnode), OpenSSL's libcrypto and libssl.
constexpr GuardedSymbol kGuarded[] = {
    {"libnode.so.108", "_ZN2v82V810InitializeEv", "v8::V8::Initialize"},
    {"libcrypto.so.3", "OPENSSL_init_crypto", "OPENSSL_init_crypto"},
    {"libssl.so.3", "OPENSSL_init_ssl", "OPENSSL_init_ssl"},
};

std::string objectOf(void* address) {
  Dl_info info{};
  if (address != nullptr && dladdr(address, &info) != 0 && info.dli_fname != nullptr) {
    return info.dli_fname;
  }
  return "an unknown object";
}

}  // namespace

bool checkSymbolIsolation(std::string& error) {
  for (const GuardedSymbol& guarded : kGuarded) {
    // Already loaded as our dependency; RTLD_NOLOAD only takes a reference.
    void* library = dlopen(guarded.library, RTLD_LAZY | RTLD_NOLOAD);
    if (library == nullptr) {
      continue;  // a libnode of another version or build: nothing of this name to compare
    }
    void* own = dlsym(library, guarded.symbol);
    // What a lookup from the global scope (executable first) finds.
    void* global = dlsym(RTLD_DEFAULT, guarded.symbol);
    dlclose(library);
    if (own != nullptr && global != nullptr && global != own) {
      error = std::string("refusing to start Node.js: the symbol ") + guarded.what +
              " resolves to " + objectOf(global) + " instead of " + objectOf(own) +
              "; the host process exports V8 or OpenSSL symbols that would capture libnode's "
              "calls. Use an Envoy build that does not export them (no exported_symbols=enabled), "
              "or a libnode linked with -Bsymbolic.";
      return false;
    }
  }
  return true;
}

}  // namespace envoy_ts::runtime
