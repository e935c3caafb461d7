#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
#include <cblas.h>

/// CPU feature probes (GCC/clang builtins; x86-64 only, 0 elsewhere).
static inline int cob_cpu_supports_avx512(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}
static inline int cob_cpu_supports_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}
static inline int cob_cpu_supports(const char *name) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports needs a literal, so map the few names we report. */
    if (!name) return 0;
    #define COB_F(s) if (__builtin_strcmp(name, s) == 0) return __builtin_cpu_supports(s);
    COB_F("sse4.2") COB_F("avx") COB_F("avx2") COB_F("fma") COB_F("avx512f") COB_F("avx512bw")
    COB_F("avx512dq") COB_F("avx512vl") COB_F("avx512vnni") COB_F("avx512bf16")
    #undef COB_F
    return 0;
#else
    (void)name; return 0;
#endif
}
#endif
