#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace zerolm {
namespace {

const KernelTable& choose_kernels() {
  const char* forced = std::getenv("ZEROLM_SIMD");
  if (forced != nullptr && std::strcmp(forced, "scalar") == 0) return scalar_kernels();
#if defined(ZEROLM_HAVE_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  // libgcc only reports avx2 when the OS saves the YMM state, so this is enough.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2_kernels();
#endif
  return scalar_kernels();
}

}  // namespace

const KernelTable& kernels() {
  static const KernelTable& table = choose_kernels();  // thread-safe one-time initialisation
  return table;
}

const char* active_simd() { return kernels().name; }

}  // namespace zerolm
