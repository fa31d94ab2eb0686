// Guards libnode against symbol interposition by the host executable (DESIGN.md §2, §8).
#pragma once

#include <string>

namespace envoy_ts::runtime {

// Debian's libnode exports V8 and imports OpenSSL without -Bsymbolic. If the process (for example
// an Envoy built with exported_symbols=enabled) defines the same names, libnode's own calls would
// bind to Envoy's copies: memory corruption or a hang. Returns false, with `error` naming the
// symbol and the object defining it, when that is the case.
bool checkSymbolIsolation(std::string& error);

}  // namespace envoy_ts::runtime
