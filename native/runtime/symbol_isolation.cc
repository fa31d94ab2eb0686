#include "native/runtime/symbol_isolation.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>

namespace envoy_ts::runtime {
namespace {

std::string objectOf(void* address) {
  Dl_info info{};
  if (address != nullptr && dladdr(address, &info) != 0 && info.dli_fname != nullptr) {
    return info.dli_fname;
  }
  return "an unknown object";
}

// "v8::HandleScope::HandleScope(v8::Isolate*)" for a mangled C++ name; other names as they are.
std::string readable(const char* name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (demangled == nullptr) {
    return name;
  }
  std::string text = std::string(demangled) + " (" + name + ")";
  std::free(demangled);
  return text;
}

std::string refusal(const std::string& what, void* found, const std::string& expected) {
  return "refusing to start Node.js: the symbol " + what + " resolves to " + objectOf(found) +
         " instead of " + expected +
         "; the host process exports V8 or OpenSSL symbols that would capture libnode's calls. "
         "Use an Envoy build that does not export them (no exported_symbols=enabled), or a "
         "libnode linked with -Bsymbolic.";
}

// ---- OpenSSL: libnode imports it from libcrypto/libssl; one representative per library. ----

struct GuardedSymbol {
  const char* library;  // the object that must provide the symbol to libnode
  const char* symbol;
};

constexpr GuardedSymbol kOpenSsl[] = {
    {"libcrypto.so.3", "OPENSSL_init_crypto"},
    {"libssl.so.3", "OPENSSL_init_ssl"},
};

bool checkOpenSsl(std::string& error) {
  for (const GuardedSymbol& guarded : kOpenSsl) {
    // Already loaded as libnode's dependency; RTLD_NOLOAD only takes a reference.
    void* library = dlopen(guarded.library, RTLD_LAZY | RTLD_NOLOAD);
    if (library == nullptr) {
      continue;  // another OpenSSL soname: nothing of this name to compare
    }
    void* own = dlsym(library, guarded.symbol);
    // What a lookup from the module's scope (the global scope, executable first) finds.
    void* global = dlsym(RTLD_DEFAULT, guarded.symbol);
    dlclose(library);
    if (own != nullptr && global != nullptr && global != own) {
      error = refusal(guarded.symbol, global, objectOf(own));
      return false;
    }
  }
  return true;
}

// ---- V8: the V8 symbols libnode defines and also imports, from its loaded dynamic section. ----

// The dynamic tables of the loaded libnode. ld.so relocates the table addresses in the dynamic
// section on x86-64/aarch64 glibc; an address below the load base is still an offset.
struct LoadedLibnode {
  std::string path;
  ElfW(Addr) base = 0;
  const ElfW(Sym)* symbols = nullptr;
  const char* strings = nullptr;
  const ElfW(Rela)* rela = nullptr;  // DT_RELA: GLOB_DAT and data relocations
  size_t rela_count = 0;
  const ElfW(Rela)* plt = nullptr;  // DT_JMPREL: function calls (JUMP_SLOT)
  size_t plt_count = 0;
};

int findLibnode(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<LoadedLibnode*>(data);
  const char* name = info->dlpi_name;
  if (name == nullptr || std::strstr(name, "/libnode.so") == nullptr) {
    return 0;
  }
  const ElfW(Dyn)* dynamic = nullptr;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    }
  }
  if (dynamic == nullptr) {
    return 0;
  }
  const ElfW(Addr) base = info->dlpi_addr;
  auto address = [base](ElfW(Addr) value) { return value < base ? base + value : value; };
  size_t rela_size = 0, plt_size = 0;
  bool plt_is_rela = true;
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    switch (entry->d_tag) {
      case DT_SYMTAB: out->symbols = reinterpret_cast<const ElfW(Sym)*>(address(entry->d_un.d_ptr)); break;
      case DT_STRTAB: out->strings = reinterpret_cast<const char*>(address(entry->d_un.d_ptr)); break;
      case DT_RELA: out->rela = reinterpret_cast<const ElfW(Rela)*>(address(entry->d_un.d_ptr)); break;
      case DT_RELASZ: rela_size = entry->d_un.d_val; break;
      case DT_JMPREL: out->plt = reinterpret_cast<const ElfW(Rela)*>(address(entry->d_un.d_ptr)); break;
      case DT_PLTRELSZ: plt_size = entry->d_un.d_val; break;
      case DT_PLTREL: plt_is_rela = entry->d_un.d_val == DT_RELA; break;
      default: break;
    }
  }
  if (!plt_is_rela) {
    out->plt = nullptr;  // REL-style PLT (32-bit targets): not read
    plt_size = 0;
  }
  out->path = name;
  out->base = base;
  out->rela_count = rela_size / sizeof(ElfW(Rela));
  out->plt_count = plt_size / sizeof(ElfW(Rela));
  return 1;
}

// (64-bit ELF only: ELF64_R_SYM / ELF64_ST_TYPE below.)
// A C++ symbol in namespace v8 (functions, members, vtables, typeinfo).
bool isV8Symbol(const char* name) {
  for (const char* prefix : {"_ZN2v8", "_ZNK2v8", "_ZTVN2v8", "_ZTIN2v8", "_ZTSN2v8"}) {
    if (std::strncmp(name, prefix, std::strlen(prefix)) == 0) {
      return true;
    }
  }
  return false;
}

// Looks up, from the module's scope, each V8 symbol that `relocations` make libnode import while
// defining it itself; false at the first one bound elsewhere.
bool checkV8Relocations(const LoadedLibnode& libnode, const ElfW(Rela)* relocations, size_t count,
                        std::unordered_set<size_t>& seen, std::string& error) {
  for (size_t i = 0; i < count; ++i) {
    const size_t index = ELF64_R_SYM(relocations[i].r_info);
    if (index == 0 || !seen.insert(index).second) {
      continue;  // a relative relocation (no symbol), or a symbol already looked up
    }
    const ElfW(Sym)& symbol = libnode.symbols[index];
    const unsigned type = ELF64_ST_TYPE(symbol.st_info);
    if (symbol.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_OBJECT)) {
      continue;  // imported from another library, or TLS/IFUNC (no plain address to compare)
    }
    const char* name = libnode.strings + symbol.st_name;
    if (!isV8Symbol(name)) {
      continue;
    }
    void* own = reinterpret_cast<void*>(libnode.base + symbol.st_value);
    // RTLD_DEFAULT from this module searches the global scope (the executable first), then the
    // module's own dependencies: the order in which libnode's reference was bound.
    void* bound = dlsym(RTLD_DEFAULT, name);
    if (bound != nullptr && bound != own) {
      error = refusal(readable(name), bound, libnode.path);
      return false;
    }
  }
  return true;
}

bool checkV8(std::string& error) {
  LoadedLibnode libnode;
  if (dl_iterate_phdr(findLibnode, &libnode) == 0 || libnode.symbols == nullptr ||
      libnode.strings == nullptr) {
    return true;  // libnode linked statically (no dynamic V8 to capture)
  }
  // About 20 ms for Debian's libnode 18 (some 20,000 symbols), once per process.
  std::unordered_set<size_t> seen;
  return checkV8Relocations(libnode, libnode.plt, libnode.plt_count, seen, error) &&
         checkV8Relocations(libnode, libnode.rela, libnode.rela_count, seen, error);
}

}  // namespace

bool checkSymbolIsolation(std::string& error) {
  return checkV8(error) && checkOpenSsl(error);
}

}  // namespace envoy_ts::runtime
