#include "cofql_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OFK_X86 1
#endif

// The scalar helpers below are compiled with the compiler's default contraction: where one is
// inlined into an AVX2/AVX-512 function (a row's or range's last few elements) its multiply–adds
// may be fused. Both vector widths reach those tails through the same AVX2 function, so they
// agree; turning contraction off here would change the last bits of committed runs' tails.

// ---- portable scalar versions (same formulas as Scalar.swift / MLP.swift) ----

static inline float ofk_expf(float x) {
    x = x < -87.f ? -87.f : x;
    x = x > 88.f ? 88.f : x;
    const float magic = 12582912.0f;
    float shifted = x * 1.44269504088896341f + magic;
    float n = shifted - magic;
    float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t sb; memcpy(&sb, &shifted, 4);
    uint32_t bits = (sb - 0x4B400000u + 127u) << 23;
    float s; memcpy(&s, &bits, 4);
    return p * s;
}

static inline void ofk_mish1(float x, float *y, float *d) {
    float xc = x > 20.f ? 20.f : x;
    float w = ofk_expf(xc);
    float n = w * (w + 2.f);
    float inv = 1.f / (n + 2.f);
    float omega = 4.f * (xc + 1.f) + w * (4.f * w + w * w + 4.f * xc + 6.f);
    *y = x > 20.f ? x : x * n * inv;
    if (d) *d = x > 20.f ? 1.f : w * omega * inv * inv;
}

static void mish_portable(float *h, size_t rows, size_t cols, const float *bias, float *y, float *d) {
    for (size_t r = 0; r < rows; r++) {
        float *hr = h + r * cols, *yr = y + r * cols, *dr = d ? d + r * cols : NULL;
        for (size_t j = 0; j < cols; j++) {
            float x = hr[j] + (bias ? bias[j] : 0.f);
            hr[j] = x;
            ofk_mish1(x, yr + j, dr ? dr + j : NULL);
        }
    }
}

static void column_sums_portable(const float *x, size_t rows, size_t cols, size_t ld, float *out) {
    for (size_t j = 0; j < cols; j++) out[j] = 0.f;
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        for (size_t j = 0; j < cols; j++) out[j] += row[j];
    }
}

static void adam_portable(float *p, float *g, float *m, float *v, size_t n, float stepSize, float invSqrtBc2,
                          float b1, float b2, float eps, float wd) {
    const float ob1 = 1.f - b1, ob2 = 1.f - b2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        if (wd != 0.f) { gi += wd * p[i]; g[i] = gi; }
        float mi = b1 * m[i] + ob1 * gi;
        float vi = b2 * v[i] + ob2 * gi * gi;
        m[i] = mi; v[i] = vi;
        p[i] -= stepSize * mi / (sqrtf(vi) * invSqrtBc2 + eps);
    }
}

// ---- Vector versions (kernels_simd.h, instantiated per width) ----
#ifdef OFK_X86
#define P256(op) _mm256_##op
#define P512(op) _mm512_##op

#define OFK_ATTR __attribute__((target("avx2,fma")))
#define OFK_W 8
#define V __m256
#define VI __m256i
#define P P256
#define CAST_PS_SI _mm256_castps_si256
#define CAST_SI_PS _mm256_castsi256_ps
#define GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define SELECT(m, a, b) _mm256_blendv_ps(b, a, m)
#define NAME(f) f##_avx2
#define TAIL(f) f##_portable
#include "kernels_simd.h"   // no include guard: instantiated once per width

// AVX-512F: twice as fast as AVX2 on AMD Zen 4 as well as on Intel (measured on mish), and
// the same bits; a row's or range's tail goes through the AVX2 code.
#define OFK_ATTR __attribute__((target("avx512f,avx2,fma")))
#define OFK_W 16
#define V __m512
#define VI __m512i
#define P P512
#define CAST_PS_SI _mm512_castps_si512
#define CAST_SI_PS _mm512_castsi512_ps
#define GT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define SELECT(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define NAME(f) f##_avx512
#define TAIL(f) f##_avx2
#include "kernels_simd.h"   // no include guard: instantiated once per width

// The CPU's best instruction set for these kernels: 0 portable, 1 AVX2+FMA, 2 AVX-512F (and
// AVX2+FMA); -1 until detected (callers may race, storing the same value). `ofk_cap` lowers the
// level in use (tests that compare paths).
static int ofk_best_state = -1;
static _Thread_local int ofk_cap = 2;   // per thread: a test's cap never reaches other threads
static int ofk_isa(void) {
    int s = __atomic_load_n(&ofk_best_state, __ATOMIC_RELAXED);
    if (s < 0) {
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        s = avx2 ? (__builtin_cpu_supports("avx512f") ? 2 : 1) : 0;
        __atomic_store_n(&ofk_best_state, s, __ATOMIC_RELAXED);
    }
    return s < ofk_cap ? s : ofk_cap;
}
int ofk_has_avx2(void) { return ofk_isa() >= 1; }
int ofk_has_avx512(void) { return ofk_isa() >= 2; }
int ofk_limit_isa(int level) {
    ofk_cap = level < 0 ? 0 : level;
    return ofk_isa();
}
#else
int ofk_has_avx2(void) { return 0; }
int ofk_has_avx512(void) { return 0; }
int ofk_limit_isa(int level) { (void)level; return 0; }
#endif

void ofk_mish(float *h, size_t rows, size_t cols, const float *bias, float *y, float *d) {
#ifdef OFK_X86
    if (ofk_has_avx512()) { mish_avx512(h, rows, cols, bias, y, d); return; }
    if (ofk_has_avx2()) { mish_avx2(h, rows, cols, bias, y, d); return; }
#endif
    mish_portable(h, rows, cols, bias, y, d);
}

void ofk_multiply(const float *a, const float *b, float *c, size_t n) {
#ifdef OFK_X86
    if (ofk_has_avx512()) { multiply_avx512(a, b, c, n); return; }
    if (ofk_has_avx2()) { multiply_avx2(a, b, c, n); return; }
#endif
    for (size_t i = 0; i < n; i++) c[i] = a[i] * b[i];
}

void ofk_column_sums(const float *x, size_t rows, size_t cols, size_t ld, float *out) {
#ifdef OFK_X86
    if (ofk_has_avx512()) { column_sums_avx512(x, rows, cols, ld, out); return; }
    if (ofk_has_avx2()) { column_sums_avx2(x, rows, cols, ld, out); return; }
#endif
    column_sums_portable(x, rows, cols, ld, out);
}

void ofk_adam(float *p, float *g, float *m, float *v, size_t n, float stepSize, float invSqrtBc2,
              float b1, float b2, float eps, float wd) {
#ifdef OFK_X86
    if (ofk_has_avx512()) { adam_avx512(p, g, m, v, n, stepSize, invSqrtBc2, b1, b2, eps, wd); return; }
    if (ofk_has_avx2()) { adam_avx2(p, g, m, v, n, stepSize, invSqrtBc2, b1, b2, eps, wd); return; }
#endif
    adam_portable(p, g, m, v, n, stepSize, invSqrtBc2, b1, b2, eps, wd);
}

// ---- LayerNorm (Ba et al. 2016, arXiv 1607.06450) over each row of cols values ----
// Row reductions use eight partial sums (vectorisable), combined pairwise. The bodies are
// compiled twice, for baseline x86-64 and for AVX-512F; multiplies and adds are never fused
// (FP_CONTRACT OFF from here on), so the wide build vectorises the same operations and gives
// the same bits.
#pragma STDC FP_CONTRACT OFF
#define OFK_INLINE static inline __attribute__((always_inline))

OFK_INLINE float ofk_sum8(const float *x, size_t n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; k++) a[k] += x[j + k];
    float t = 0;
    for (; j < n; j++) t += x[j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

OFK_INLINE float ofk_dot8(const float *x, const float *y, size_t n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; k++) a[k] += x[j + k] * y[j + k];
    float t = 0;
    for (; j < n; j++) t += x[j] * y[j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

OFK_INLINE float ofk_centred_sq8(const float *x, float mean, size_t n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; k++) { float c = x[j + k] - mean; a[k] += c * c; }
    float t = 0;
    for (; j < n; j++) { float c = x[j] - mean; t += c * c; }
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

OFK_INLINE void layernorm_forward(float *h, size_t rows, size_t tangentRows, size_t cols, const float *gamma,
                                  const float *beta, float *xhat, float *rstd, float eps) {
    const float invN = 1.f / (float)cols;
    for (size_t r = 0; r < rows; r++) {
        float *x = h + r * cols, *xh = xhat + r * cols;
        const float mean = ofk_sum8(x, cols) * invN;
        const float rs = 1.f / sqrtf(ofk_centred_sq8(x, mean, cols) * invN + eps);
        rstd[r] = rs;
        for (size_t j = 0; j < cols; j++) {
            const float n = (x[j] - mean) * rs;
            xh[j] = n;
            x[j] = gamma[j] * n + beta[j];
        }
    }
    for (size_t r = 0; r < tangentRows; r++) {
        float *xd = h + (rows + r) * cols;
        const float *xh = xhat + r * cols;
        const float m1 = ofk_sum8(xd, cols) * invN, m2 = ofk_dot8(xd, xh, cols) * invN, rs = rstd[r];
        for (size_t j = 0; j < cols; j++) xd[j] = gamma[j] * (xd[j] - m1 - xh[j] * m2) * rs;
    }
}

OFK_INLINE void layernorm_backward(float *dh, size_t rows, size_t cols, const float *gamma, const float *xhat,
                                   const float *rstd, float *dGamma, float *dBeta) {
    if (dGamma && dBeta) {
        memset(dGamma, 0, cols * sizeof(float)); memset(dBeta, 0, cols * sizeof(float));
        for (size_t r = 0; r < rows; r++) {
            const float *dy = dh + r * cols, *xh = xhat + r * cols;
            for (size_t j = 0; j < cols; j++) { dGamma[j] += dy[j] * xh[j]; dBeta[j] += dy[j]; }
        }
    }
    const float invN = 1.f / (float)cols;
    for (size_t r = 0; r < rows; r++) {
        float *dy = dh + r * cols;
        const float *xh = xhat + r * cols;
        float a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0}, ta = 0, tb = 0;
        size_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            for (int k = 0; k < 8; k++) { const float g = dy[j + k] * gamma[j + k]; a[k] += g; b[k] += g * xh[j + k]; }
        }
        for (; j < cols; j++) { const float g = dy[j] * gamma[j]; ta += g; tb += g * xh[j]; }
        const float m1 = (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + ta) * invN;
        const float m2 = (((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7])) + tb) * invN;
        const float rs = rstd[r];
        for (j = 0; j < cols; j++) dy[j] = (dy[j] * gamma[j] - m1 - xh[j] * m2) * rs;
    }
}

#ifdef OFK_X86
__attribute__((target("avx512f,avx2"))) static void layernorm_forward_avx512(float *h, size_t rows, size_t tangentRows,
        size_t cols, const float *gamma, const float *beta, float *xhat, float *rstd, float eps) {
    layernorm_forward(h, rows, tangentRows, cols, gamma, beta, xhat, rstd, eps);
}
__attribute__((target("avx512f,avx2"))) static void layernorm_backward_avx512(float *dh, size_t rows, size_t cols,
        const float *gamma, const float *xhat, const float *rstd, float *dGamma, float *dBeta) {
    layernorm_backward(dh, rows, cols, gamma, xhat, rstd, dGamma, dBeta);
}
#endif

void ofk_layernorm_forward(float *h, size_t rows, size_t tangentRows, size_t cols, const float *gamma, const float *beta,
                           float *xhat, float *rstd, float eps) {
#ifdef OFK_X86
    if (ofk_has_avx512()) { layernorm_forward_avx512(h, rows, tangentRows, cols, gamma, beta, xhat, rstd, eps); return; }
#endif
    layernorm_forward(h, rows, tangentRows, cols, gamma, beta, xhat, rstd, eps);
}

void ofk_layernorm_backward(float *dh, size_t rows, size_t cols, const float *gamma, const float *xhat, const float *rstd,
                            float *dGamma, float *dBeta) {
#ifdef OFK_X86
    if (ofk_has_avx512()) { layernorm_backward_avx512(dh, rows, cols, gamma, xhat, rstd, dGamma, dBeta); return; }
#endif
    layernorm_backward(dh, rows, cols, gamma, xhat, rstd, dGamma, dBeta);
}
