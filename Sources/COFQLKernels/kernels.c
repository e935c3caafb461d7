#include "cofql_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OFK_X86 1
#endif

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

// ---- AVX2 + FMA versions ----
#ifdef OFK_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 ofk_exp8(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.f));
    x = _mm256_min_ps(x, _mm256_set1_ps(88.f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    __m256 n = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000 - 127));
    bits = _mm256_slli_epi32(bits, 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

AVX2 static inline void ofk_mish8(__m256 x, __m256 *y, __m256 *d) {
    const __m256 lim = _mm256_set1_ps(20.f), two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f);
    __m256 big = _mm256_cmp_ps(x, lim, _CMP_GT_OQ);
    __m256 xc = _mm256_min_ps(x, lim);
    __m256 w = ofk_exp8(xc);
    __m256 n = _mm256_mul_ps(w, _mm256_add_ps(w, two));
    __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_add_ps(n, two));
    __m256 yv = _mm256_mul_ps(_mm256_mul_ps(x, n), inv);
    *y = _mm256_blendv_ps(yv, x, big);
    if (d) {
        // omega = 4(xc + 1) + w(4w + w² + 4xc + 6)
        __m256 inner = _mm256_fmadd_ps(w, _mm256_add_ps(w, four), _mm256_fmadd_ps(four, xc, _mm256_set1_ps(6.f)));
        __m256 omega = _mm256_fmadd_ps(w, inner, _mm256_fmadd_ps(four, xc, four));
        __m256 dv = _mm256_mul_ps(_mm256_mul_ps(w, omega), _mm256_mul_ps(inv, inv));
        *d = _mm256_blendv_ps(dv, _mm256_set1_ps(1.f), big);
    }
}

AVX2 static void mish_avx2(float *h, size_t rows, size_t cols, const float *bias, float *y, float *d) {
    for (size_t r = 0; r < rows; r++) {
        float *hr = h + r * cols, *yr = y + r * cols, *dr = d ? d + r * cols : NULL;
        size_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            __m256 x = _mm256_loadu_ps(hr + j);
            if (bias) { x = _mm256_add_ps(x, _mm256_loadu_ps(bias + j)); _mm256_storeu_ps(hr + j, x); }
            __m256 yv, dv;
            ofk_mish8(x, &yv, dr ? &dv : NULL);
            _mm256_storeu_ps(yr + j, yv);
            if (dr) _mm256_storeu_ps(dr + j, dv);
        }
        if (j < cols) mish_portable(hr + j, 1, cols - j, bias ? bias + j : NULL, yr + j, dr ? dr + j : NULL);
    }
}

AVX2 static void multiply_avx2(const float *a, const float *b, float *c, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(c + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) c[i] = a[i] * b[i];
}

AVX2 static void adam_avx2(float *p, float *g, float *m, float *v, size_t n, float stepSize, float invSqrtBc2,
                           float b1, float b2, float eps, float wd) {
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2), vob1 = _mm256_set1_ps(1.f - b1),
                 vob2 = _mm256_set1_ps(1.f - b2), vs = _mm256_set1_ps(stepSize), vi = _mm256_set1_ps(invSqrtBc2),
                 ve = _mm256_set1_ps(eps), vwd = _mm256_set1_ps(wd);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i), gi = _mm256_loadu_ps(g + i);
        if (wd != 0.f) { gi = _mm256_fmadd_ps(vwd, pi, gi); _mm256_storeu_ps(g + i, gi); }
        __m256 mi = _mm256_fmadd_ps(vb1, _mm256_loadu_ps(m + i), _mm256_mul_ps(vob1, gi));
        __m256 vv = _mm256_fmadd_ps(vb2, _mm256_loadu_ps(v + i), _mm256_mul_ps(_mm256_mul_ps(vob2, gi), gi));
        _mm256_storeu_ps(m + i, mi); _mm256_storeu_ps(v + i, vv);
        __m256 den = _mm256_fmadd_ps(_mm256_sqrt_ps(vv), vi, ve);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(vs, mi), den)));
    }
    if (i < n) adam_portable(p + i, g + i, m + i, v + i, n - i, stepSize, invSqrtBc2, b1, b2, eps, wd);
}

// ---- AVX-512F versions: the AVX2 formulas 16 lanes wide, the same operation per lane in the
// same order, so every value is bit-identical to the AVX2 path (a column tail of 8 uses the
// AVX2 code itself). Twice as fast on AMD Zen 4 as well as on Intel, measured on mish.
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

AVX512 static inline __m512 ofk_exp16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), magic);
    __m512 n = _mm512_sub_ps(shifted, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000 - 127));
    bits = _mm512_slli_epi32(bits, 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

AVX512 static inline void ofk_mish16(__m512 x, __m512 *y, __m512 *d) {
    const __m512 lim = _mm512_set1_ps(20.f), two = _mm512_set1_ps(2.f), four = _mm512_set1_ps(4.f);
    __mmask16 big = _mm512_cmp_ps_mask(x, lim, _CMP_GT_OQ);
    __m512 xc = _mm512_min_ps(x, lim);
    __m512 w = ofk_exp16(xc);
    __m512 n = _mm512_mul_ps(w, _mm512_add_ps(w, two));
    __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_add_ps(n, two));
    __m512 yv = _mm512_mul_ps(_mm512_mul_ps(x, n), inv);
    *y = _mm512_mask_blend_ps(big, yv, x);
    if (d) {
        __m512 inner = _mm512_fmadd_ps(w, _mm512_add_ps(w, four), _mm512_fmadd_ps(four, xc, _mm512_set1_ps(6.f)));
        __m512 omega = _mm512_fmadd_ps(w, inner, _mm512_fmadd_ps(four, xc, four));
        __m512 dv = _mm512_mul_ps(_mm512_mul_ps(w, omega), _mm512_mul_ps(inv, inv));
        *d = _mm512_mask_blend_ps(big, dv, _mm512_set1_ps(1.f));
    }
}

AVX512 static void mish_avx512(float *h, size_t rows, size_t cols, const float *bias, float *y, float *d) {
    for (size_t r = 0; r < rows; r++) {
        float *hr = h + r * cols, *yr = y + r * cols, *dr = d ? d + r * cols : NULL;
        size_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            __m512 x = _mm512_loadu_ps(hr + j);
            if (bias) { x = _mm512_add_ps(x, _mm512_loadu_ps(bias + j)); _mm512_storeu_ps(hr + j, x); }
            __m512 yv, dv;
            ofk_mish16(x, &yv, dr ? &dv : NULL);
            _mm512_storeu_ps(yr + j, yv);
            if (dr) _mm512_storeu_ps(dr + j, dv);
        }
        // The tail exactly as the AVX2 path treats it: 8 lanes, then the portable loop.
        if (j < cols) mish_avx2(hr + j, 1, cols - j, bias ? bias + j : NULL, yr + j, dr ? dr + j : NULL);
    }
}

AVX512 static void multiply_avx512(const float *a, const float *b, float *c, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(c + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    for (; i < n; i++) c[i] = a[i] * b[i];
}

AVX512 static void adam_avx512(float *p, float *g, float *m, float *v, size_t n, float stepSize, float invSqrtBc2,
                               float b1, float b2, float eps, float wd) {
    const __m512 vb1 = _mm512_set1_ps(b1), vb2 = _mm512_set1_ps(b2), vob1 = _mm512_set1_ps(1.f - b1),
                 vob2 = _mm512_set1_ps(1.f - b2), vs = _mm512_set1_ps(stepSize), vi = _mm512_set1_ps(invSqrtBc2),
                 ve = _mm512_set1_ps(eps), vwd = _mm512_set1_ps(wd);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 pi = _mm512_loadu_ps(p + i), gi = _mm512_loadu_ps(g + i);
        if (wd != 0.f) { gi = _mm512_fmadd_ps(vwd, pi, gi); _mm512_storeu_ps(g + i, gi); }
        __m512 mi = _mm512_fmadd_ps(vb1, _mm512_loadu_ps(m + i), _mm512_mul_ps(vob1, gi));
        __m512 vv = _mm512_fmadd_ps(vb2, _mm512_loadu_ps(v + i), _mm512_mul_ps(_mm512_mul_ps(vob2, gi), gi));
        _mm512_storeu_ps(m + i, mi); _mm512_storeu_ps(v + i, vv);
        __m512 den = _mm512_fmadd_ps(_mm512_sqrt_ps(vv), vi, ve);
        _mm512_storeu_ps(p + i, _mm512_sub_ps(pi, _mm512_div_ps(_mm512_mul_ps(vs, mi), den)));
    }
    if (i < n) adam_avx2(p + i, g + i, m + i, v + i, n - i, stepSize, invSqrtBc2, b1, b2, eps, wd);
}

// Column sums: each column accumulated from 0 in row order, as the portable loop (additions
// need no FMA, so all three paths agree bit for bit); a block of 64 columns stays in registers.
AVX512 static void column_sums_avx512(const float *x, size_t rows, size_t cols, size_t ld, float *out) {
    size_t j = 0;
    for (; j + 64 <= cols; j += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t r = 0; r < rows; r++) {
            const float *row = x + r * ld + j;
            a0 = _mm512_add_ps(a0, _mm512_loadu_ps(row));
            a1 = _mm512_add_ps(a1, _mm512_loadu_ps(row + 16));
            a2 = _mm512_add_ps(a2, _mm512_loadu_ps(row + 32));
            a3 = _mm512_add_ps(a3, _mm512_loadu_ps(row + 48));
        }
        _mm512_storeu_ps(out + j, a0); _mm512_storeu_ps(out + j + 16, a1);
        _mm512_storeu_ps(out + j + 32, a2); _mm512_storeu_ps(out + j + 48, a3);
    }
    for (; j + 16 <= cols; j += 16) {
        __m512 a0 = _mm512_setzero_ps();
        for (size_t r = 0; r < rows; r++) a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + r * ld + j));
        _mm512_storeu_ps(out + j, a0);
    }
    if (j < cols) column_sums_portable(x + j, rows, cols - j, ld, out + j);
}

// The CPU's best instruction set for these kernels: 0 portable, 1 AVX2+FMA, 2 AVX-512F (and
// AVX2+FMA); -1 until detected (callers may race, storing the same value). `ofk_cap` lowers the
// level in use (tests that compare paths).
static int ofk_best_state = -1, ofk_cap = 2;
static int ofk_isa(void) {
    int s = __atomic_load_n(&ofk_best_state, __ATOMIC_RELAXED);
    if (s < 0) {
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        s = avx2 ? (__builtin_cpu_supports("avx512f") ? 2 : 1) : 0;
        __atomic_store_n(&ofk_best_state, s, __ATOMIC_RELAXED);
    }
    int cap = __atomic_load_n(&ofk_cap, __ATOMIC_RELAXED);
    return s < cap ? s : cap;
}
int ofk_has_avx2(void) { return ofk_isa() >= 1; }
int ofk_has_avx512(void) { return ofk_isa() >= 2; }
int ofk_limit_isa(int level) {
    __atomic_store_n(&ofk_cap, level < 0 ? 0 : level, __ATOMIC_RELAXED);
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
// Row reductions use eight partial sums (vectorisable), combined pairwise.

static inline float ofk_sum8(const float *x, size_t n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; k++) a[k] += x[j + k];
    float t = 0;
    for (; j < n; j++) t += x[j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

static inline float ofk_dot8(const float *x, const float *y, size_t n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; k++) a[k] += x[j + k] * y[j + k];
    float t = 0;
    for (; j < n; j++) t += x[j] * y[j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

static inline float ofk_centred_sq8(const float *x, float mean, size_t n) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; k++) { float c = x[j + k] - mean; a[k] += c * c; }
    float t = 0;
    for (; j < n; j++) { float c = x[j] - mean; t += c * c; }
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;
}

void ofk_layernorm_forward(float *h, size_t rows, size_t tangentRows, size_t cols, const float *gamma, const float *beta,
                           float *xhat, float *rstd, float eps) {
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

void ofk_layernorm_backward(float *dh, size_t rows, size_t cols, const float *gamma, const float *xhat, const float *rstd,
                            float *dGamma, float *dBeta) {
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
