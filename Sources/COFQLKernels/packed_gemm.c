// Small-batch inference GEMM over weights packed once: y = bias + x·Wᵀ for a few rows.
//
// OpenBLAS re-packs the weight operand on every call, which for the 1–32-row products of
// policy inference costs more than the arithmetic (measured: sgemm_incopy 21% of a pooled
// rollout). Here W (n × k, PyTorch layout) is packed once into panels of 16 output columns,
// each panel k × 16 contiguous, and every row is accumulated as acc ← acc + x[kk]·w[kk] in
// increasing kk from acc = bias: a row's result does not depend on how many rows share the
// call or where it sits among them.
#include "cofql_kernels.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OFK_X86 1
#endif

#define PANEL 16

size_t ofk_packed_size(size_t n, size_t k) { return ((n + PANEL - 1) / PANEL) * k * PANEL; }

void ofk_pack_panels(const float *w, size_t n, size_t k, float *p) {
    size_t panels = (n + PANEL - 1) / PANEL;
    for (size_t q = 0; q < panels; q++) {
        float *pq = p + q * k * PANEL;
        for (size_t kk = 0; kk < k; kk++) {
            for (size_t j = 0; j < PANEL; j++) {
                size_t c = q * PANEL + j;
                pq[kk * PANEL + j] = c < n ? w[c * k + kk] : 0.f;
            }
        }
    }
}

static void store_cols(float *dst, const float *src, size_t count) { memcpy(dst, src, count * sizeof(float)); }

static void gemm_packed_portable(const float *x, size_t m, size_t k, size_t ldx, const float *p, size_t n,
                                 const float *bias, float *y, size_t ldy) {
    size_t panels = (n + PANEL - 1) / PANEL;
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * ldx;
        for (size_t q = 0; q < panels; q++) {
            const float *pq = p + q * k * PANEL;
            size_t c0 = q * PANEL, cn = n - c0 < PANEL ? n - c0 : PANEL;
            float acc[PANEL];
            for (size_t j = 0; j < PANEL; j++) acc[j] = (bias && j < cn) ? bias[c0 + j] : 0.f;
            for (size_t kk = 0; kk < k; kk++) {
                float xv = xr[kk];
                for (size_t j = 0; j < PANEL; j++) acc[j] = acc[j] + xv * pq[kk * PANEL + j];
            }
            store_cols(y + r * ldy + c0, acc, cn);
        }
    }
}

#ifdef OFK_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline void bias16(const float *bias, size_t c0, size_t cn, __m256 *lo, __m256 *hi) {
    float b[PANEL] = {0};
    if (bias) memcpy(b, bias + c0, cn * sizeof(float));
    *lo = _mm256_loadu_ps(b); *hi = _mm256_loadu_ps(b + 8);
}

AVX2 static inline void store16(float *dst, __m256 lo, __m256 hi, size_t cn) {
    if (cn == PANEL) { _mm256_storeu_ps(dst, lo); _mm256_storeu_ps(dst + 8, hi); return; }
    float t[PANEL];
    _mm256_storeu_ps(t, lo); _mm256_storeu_ps(t + 8, hi);
    store_cols(dst, t, cn);
}

// Four rows × one 16-column panel.
AVX2 static void tile4x16(const float *x, size_t ldx, size_t k, const float *pq, const float *bias, size_t c0, size_t cn,
                          float *y, size_t ldy) {
    __m256 b0, b1;
    bias16(bias, c0, cn, &b0, &b1);
    __m256 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    for (size_t kk = 0; kk < k; kk++) {
        __m256 w0 = _mm256_loadu_ps(pq + kk * PANEL), w1 = _mm256_loadu_ps(pq + kk * PANEL + 8);
        __m256 v = _mm256_broadcast_ss(x0 + kk);
        a00 = _mm256_fmadd_ps(v, w0, a00); a01 = _mm256_fmadd_ps(v, w1, a01);
        v = _mm256_broadcast_ss(x1 + kk);
        a10 = _mm256_fmadd_ps(v, w0, a10); a11 = _mm256_fmadd_ps(v, w1, a11);
        v = _mm256_broadcast_ss(x2 + kk);
        a20 = _mm256_fmadd_ps(v, w0, a20); a21 = _mm256_fmadd_ps(v, w1, a21);
        v = _mm256_broadcast_ss(x3 + kk);
        a30 = _mm256_fmadd_ps(v, w0, a30); a31 = _mm256_fmadd_ps(v, w1, a31);
    }
    store16(y + c0, a00, a01, cn); store16(y + ldy + c0, a10, a11, cn);
    store16(y + 2 * ldy + c0, a20, a21, cn); store16(y + 3 * ldy + c0, a30, a31, cn);
}

// One row × up to four panels (8 independent accumulators hide the FMA latency at batch 1).
AVX2 static void row1x64(const float *x, size_t k, const float *p, size_t q0, size_t qn, size_t n, const float *bias,
                         float *y) {
    __m256 a[8];
    for (size_t q = 0; q < 4; q++) {
        size_t c0 = (q0 + q) * PANEL, cn = q < qn ? (n - c0 < PANEL ? n - c0 : PANEL) : 0;
        bias16(bias, c0, cn, &a[2 * q], &a[2 * q + 1]);
    }
    const float *p0 = p + q0 * k * PANEL;
    const size_t stride = k * PANEL;
    if (qn == 4) {
        for (size_t kk = 0; kk < k; kk++) {
            __m256 v = _mm256_broadcast_ss(x + kk);
            const float *w = p0 + kk * PANEL;
            a[0] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w), a[0]);
            a[1] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8), a[1]);
            a[2] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + stride), a[2]);
            a[3] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + stride + 8), a[3]);
            a[4] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 2 * stride), a[4]);
            a[5] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 2 * stride + 8), a[5]);
            a[6] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 3 * stride), a[6]);
            a[7] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 3 * stride + 8), a[7]);
        }
    } else {
        for (size_t kk = 0; kk < k; kk++) {
            __m256 v = _mm256_broadcast_ss(x + kk);
            for (size_t q = 0; q < qn; q++) {
                const float *w = p0 + q * stride + kk * PANEL;
                a[2 * q] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w), a[2 * q]);
                a[2 * q + 1] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8), a[2 * q + 1]);
            }
        }
    }
    for (size_t q = 0; q < qn; q++) {
        size_t c0 = (q0 + q) * PANEL, cn = n - c0 < PANEL ? n - c0 : PANEL;
        store16(y + c0, a[2 * q], a[2 * q + 1], cn);
    }
}

AVX2 static void gemm_packed_avx2(const float *x, size_t m, size_t k, size_t ldx, const float *p, size_t n,
                                  const float *bias, float *y, size_t ldy) {
    size_t panels = (n + PANEL - 1) / PANEL;
    size_t r = 0;
    for (; r + 4 <= m; r += 4) {
        for (size_t q = 0; q < panels; q++) {
            size_t c0 = q * PANEL, cn = n - c0 < PANEL ? n - c0 : PANEL;
            tile4x16(x + r * ldx, ldx, k, p + q * k * PANEL, bias, c0, cn, y + r * ldy, ldy);
        }
    }
    for (; r < m; r++) {
        for (size_t q = 0; q < panels; q += 4) {
            size_t qn = panels - q < 4 ? panels - q : 4;
            row1x64(x + r * ldx, k, p, q, qn, n, bias, y + r * ldy);
        }
    }
}
#endif

void ofk_gemm_packed(const float *x, size_t m, size_t k, size_t ldx, const float *p, size_t n, const float *bias,
                     float *y, size_t ldy) {
#ifdef OFK_X86
    if (ofk_has_avx2()) { gemm_packed_avx2(x, m, k, ldx, p, n, bias, y, ldy); return; }
#endif
    gemm_packed_portable(x, m, k, ldx, p, n, bias, y, ldy);
}
