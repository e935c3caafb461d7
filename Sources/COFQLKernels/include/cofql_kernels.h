// Elementwise float kernels for the OFQL networks with an AVX2+FMA path chosen at run time.
//
// Swift code in this package is compiled for baseline x86-64 (SSE2; no `unsafeFlags`), so its
// loops run 4 lanes wide without FMA. These kernels use `__attribute__((target("avx2,fma")))`
// and are selected once per process with `__builtin_cpu_supports`; on other CPUs (or other
// architectures) a portable C loop with the same formulas runs instead; on CPUs with AVX-512F
// the same formulas run 16 lanes wide. Results are deterministic for a given machine; the
// AVX-512 and AVX2 paths agree bit for bit, the portable one differs only by FMA rounding (≈1 ulp).
#ifndef COFQL_KERNELS_H
#define COFQL_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2+FMA paths are in use.
int ofk_has_avx2(void);
/// 1 when the AVX-512F paths are in use (bit-identical to the AVX2 paths, twice as wide).
int ofk_has_avx512(void);
/// Caps the instruction set the kernels use on the calling thread at `level` (0 portable,
/// 1 AVX2+FMA, 2 AVX-512F) or the CPU's best, whichever is lower, and returns the level now in
/// use there. For tests that compare paths; other threads keep their own cap.
int ofk_limit_isa(int level);

/// For each of `rows` rows of `cols` columns: h ← h + bias (bias may be NULL), y ← mish(h) and,
/// when `d` is not NULL, d ← mish′(h). Mish uses the package's exp polynomial (see Scalar.swift);
/// above 20 it is the identity (derivative 1).
void ofk_mish(float *h, size_t rows, size_t cols, const float *bias, float *y, float *d);

/// c[i] = a[i] * b[i] (c may be a).
void ofk_multiply(const float *a, const float *b, float *c, size_t n);

/// out[j] = Σ_r x[r·ld + j] over `rows` rows, each column summed from 0 in row order.
void ofk_column_sums(const float *x, size_t rows, size_t cols, size_t ld, float *out);

/// Adam step (PyTorch semantics) over n parameters: g ← g + wd·p (if wd ≠ 0);
/// m ← b1·m + (1−b1)·g; v ← b2·v + (1−b2)·g²; p ← p − stepSize·m/(√v·invSqrtBc2 + eps).
void ofk_adam(float *p, float *g, float *m, float *v, size_t n, float stepSize, float invSqrtBc2,
              float b1, float b2, float eps, float wd);

/// Floats needed to pack an n × k weight matrix (PyTorch layout) for ``ofk_gemm_packed``.
size_t ofk_packed_size(size_t n, size_t k);
/// Packs w (n × k, row-major) into panels of 16 output columns, each k × 16 (zero-padded).
void ofk_pack_panels(const float *w, size_t n, size_t k, float *p);
/// y[r, c] = bias[c] + Σ_kk x[r, kk]·w[c, kk] for m rows over weights packed by
/// ``ofk_pack_panels`` (bias may be NULL). Each row is accumulated in increasing kk from the
/// bias, so its result does not depend on m or on the other rows. For small m (inference).
void ofk_gemm_packed(const float *x, size_t m, size_t k, size_t ldx, const float *p, size_t n, const float *bias,
                     float *y, size_t ldy);

/// LayerNorm forward in place over `rows` primal rows of `cols` (h ← γ·x̂ + β, keeping x̂ and
/// 1/σ per row), then the JVP of the first `tangentRows` rows on the rows after them.
void ofk_layernorm_forward(float *h, size_t rows, size_t tangentRows, size_t cols, const float *gamma, const float *beta,
                           float *xhat, float *rstd, float eps);
/// LayerNorm backward in place (dh ← ∂L/∂x given ∂L/∂y); overwrites dγ and dβ when not NULL.
void ofk_layernorm_backward(float *dh, size_t rows, size_t cols, const float *gamma, const float *xhat, const float *rstd,
                            float *dGamma, float *dBeta);

/// A task of ``ofk_pair_run``: called with the context and the task index (0 or 1).
typedef void (*ofk_pair_fn)(void *ctx, int index);
/// Runs fn(ctx, 0) on the calling thread and fn(ctx, 1) on a dedicated helper thread (started
/// on first use), returning when both are done. Calls from several threads are serialised; a
/// call from inside a task runs both halves in order on the calling thread.
void ofk_pair_run(ofk_pair_fn fn, void *ctx);
/// ``ofk_pair_run`` with a call site (`site`: a NUL-terminated name that outlives the process,
/// such as a Swift `#fileID` literal; `line`), recorded when profiling is on.
void ofk_pair_run_at(ofk_pair_fn fn, void *ctx, const char *site, unsigned line);

/// One call site's fork–joins since profiling was switched on (times in nanoseconds, summed
/// over `calls`). Nested calls, which run both halves on the caller, are not counted.
typedef struct {
    const char *site;
    unsigned line;
    uint64_t calls;
    uint64_t wall_ns;     ///< fork to join on the calling thread
    uint64_t caller_ns;   ///< the caller's task 0 (with posting the fork)
    uint64_t helper_ns;   ///< the helper's task 1
    uint64_t wait_ns;     ///< the caller waiting for the helper after task 0
    uint64_t woken;       ///< calls that found the helper asleep (a condition-variable wake)
} ofk_pair_site_stats;
/// How many call sites the timing table holds (later sites are not recorded).
#define OFK_PAIR_SITES 64
/// Switches per-site timing on (clearing the table) or off; call outside any fork–join.
void ofk_pair_profile(int on);
/// Copies up to `capacity` sites, in first-call order, into `out`; returns how many.
size_t ofk_pair_profile_read(ofk_pair_site_stats *out, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
