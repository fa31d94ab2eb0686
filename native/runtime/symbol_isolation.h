// Guards libnode against symbol interposition by the host executable (DESIGN.md §2, §8).
#pragma once

#include <string>

namespace envoy_ts::runtime {

// Debian's libnode exports V8 and imports OpenSSL without -Bsymbolic: its own calls to V8
// functions go through the dynamic linker like any import. If the process (for example an Envoy
// built with exported_symbols=enabled) defines the same names, libnode's calls bind to the
// process's copies: memory corruption or a hang. Returns false, with `error` naming a captured
// symbol and the object defining it, when that is the case.
//
// V8: every V8 symbol libnode both defines and imports (a relocation in its own dynamic section,
// read from the loaded image) is looked up from the module's scope, as the dynamic linker binds
// libnode's references; any that resolves outside libnode is a capture. OpenSSL: one
// representative each of libcrypto and libssl.
bool checkSymbolIsolation(std::string& error);

}  // namespace envoy_ts::runtime
