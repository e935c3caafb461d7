// The vector kernels, written once and instantiated by kernels.c for each width (AVX2: 8 lanes,
// AVX-512F: 16). The includer defines:
//   OFK_ATTR     the function target attribute
//   OFK_W        lanes per vector
//   V, VI        the float and integer vector types
//   P(op)        the intrinsic of `op` at this width (P(add_ps) → _mm256_add_ps / _mm512_add_ps)
//   CAST_PS_SI, CAST_SI_PS   float ↔ integer vector reinterpretation
//   GT(a, b)     the lanes where a > b (ordered, quiet), as this width's mask
//   SELECT(m, a, b)          a where m, else b
//   NAME(f)      the instantiated name of f (f_avx2 / f_avx512)
//   TAIL(f)      the narrower kernel that finishes a row or range (portable / AVX2)
// Every lane runs the same operations in the same order at both widths, so the two paths give
// the same bits (KernelPathTests). The parameters are undefined at the end of this file.

OFK_ATTR static inline V NAME(ofk_exp)(V x) {
    x = P(max_ps)(x, P(set1_ps)(-87.f));
    x = P(min_ps)(x, P(set1_ps)(88.f));
    const V magic = P(set1_ps)(12582912.0f);
    V shifted = P(fmadd_ps)(x, P(set1_ps)(1.44269504088896341f), magic);
    V n = P(sub_ps)(shifted, magic);
    V r = P(fnmadd_ps)(n, P(set1_ps)(0.693145751953125f), x);
    r = P(fnmadd_ps)(n, P(set1_ps)(1.428606765330187045e-06f), r);
    V p = P(set1_ps)(1.0f / 720.0f);
    p = P(fmadd_ps)(p, r, P(set1_ps)(1.0f / 120.0f));
    p = P(fmadd_ps)(p, r, P(set1_ps)(1.0f / 24.0f));
    p = P(fmadd_ps)(p, r, P(set1_ps)(1.0f / 6.0f));
    p = P(fmadd_ps)(p, r, P(set1_ps)(0.5f));
    p = P(fmadd_ps)(p, r, P(set1_ps)(1.0f));
    p = P(fmadd_ps)(p, r, P(set1_ps)(1.0f));
    VI bits = P(sub_epi32)(CAST_PS_SI(shifted), P(set1_epi32)(0x4B400000 - 127));
    bits = P(slli_epi32)(bits, 23);
    return P(mul_ps)(p, CAST_SI_PS(bits));
}

OFK_ATTR static inline void NAME(ofk_mish_v)(V x, V *y, V *d) {
    const V lim = P(set1_ps)(20.f), two = P(set1_ps)(2.f), four = P(set1_ps)(4.f);
    const __typeof__(GT(x, lim)) big = GT(x, lim);
    V xc = P(min_ps)(x, lim);
    V w = NAME(ofk_exp)(xc);
    V n = P(mul_ps)(w, P(add_ps)(w, two));
    V inv = P(div_ps)(P(set1_ps)(1.f), P(add_ps)(n, two));
    V yv = P(mul_ps)(P(mul_ps)(x, n), inv);
    *y = SELECT(big, x, yv);
    if (d) {
        // omega = 4(xc + 1) + w(4w + w² + 4xc + 6)
        V inner = P(fmadd_ps)(w, P(add_ps)(w, four), P(fmadd_ps)(four, xc, P(set1_ps)(6.f)));
        V omega = P(fmadd_ps)(w, inner, P(fmadd_ps)(four, xc, four));
        V dv = P(mul_ps)(P(mul_ps)(w, omega), P(mul_ps)(inv, inv));
        *d = SELECT(big, P(set1_ps)(1.f), dv);
    }
}

OFK_ATTR static void NAME(mish)(float *h, size_t rows, size_t cols, const float *bias, float *y, float *d) {
    for (size_t r = 0; r < rows; r++) {
        float *hr = h + r * cols, *yr = y + r * cols, *dr = d ? d + r * cols : NULL;
        size_t j = 0;
        for (; j + OFK_W <= cols; j += OFK_W) {
            V x = P(loadu_ps)(hr + j);
            if (bias) { x = P(add_ps)(x, P(loadu_ps)(bias + j)); P(storeu_ps)(hr + j, x); }
            V yv, dv;
            NAME(ofk_mish_v)(x, &yv, dr ? &dv : NULL);
            P(storeu_ps)(yr + j, yv);
            if (dr) P(storeu_ps)(dr + j, dv);
        }
        if (j < cols) TAIL(mish)(hr + j, 1, cols - j, bias ? bias + j : NULL, yr + j, dr ? dr + j : NULL);
    }
}

OFK_ATTR static void NAME(multiply)(const float *a, const float *b, float *c, size_t n) {
    size_t i = 0;
    for (; i + OFK_W <= n; i += OFK_W) P(storeu_ps)(c + i, P(mul_ps)(P(loadu_ps)(a + i), P(loadu_ps)(b + i)));
    for (; i < n; i++) c[i] = a[i] * b[i];
}

OFK_ATTR static void NAME(adam)(float *p, float *g, float *m, float *v, size_t n, float stepSize, float invSqrtBc2,
                                float b1, float b2, float eps, float wd) {
    const V vb1 = P(set1_ps)(b1), vb2 = P(set1_ps)(b2), vob1 = P(set1_ps)(1.f - b1), vob2 = P(set1_ps)(1.f - b2),
            vs = P(set1_ps)(stepSize), vi = P(set1_ps)(invSqrtBc2), ve = P(set1_ps)(eps), vwd = P(set1_ps)(wd);
    size_t i = 0;
    for (; i + OFK_W <= n; i += OFK_W) {
        V pi = P(loadu_ps)(p + i), gi = P(loadu_ps)(g + i);
        if (wd != 0.f) { gi = P(fmadd_ps)(vwd, pi, gi); P(storeu_ps)(g + i, gi); }
        V mi = P(fmadd_ps)(vb1, P(loadu_ps)(m + i), P(mul_ps)(vob1, gi));
        V vv = P(fmadd_ps)(vb2, P(loadu_ps)(v + i), P(mul_ps)(P(mul_ps)(vob2, gi), gi));
        P(storeu_ps)(m + i, mi); P(storeu_ps)(v + i, vv);
        V den = P(fmadd_ps)(P(sqrt_ps)(vv), vi, ve);
        P(storeu_ps)(p + i, P(sub_ps)(pi, P(div_ps)(P(mul_ps)(vs, mi), den)));
    }
    if (i < n) TAIL(adam)(p + i, g + i, m + i, v + i, n - i, stepSize, invSqrtBc2, b1, b2, eps, wd);
}

// Column sums: each column accumulated from 0 in row order (additions only, so every path
// agrees bit for bit with the portable loop); four vectors of columns stay in registers.
OFK_ATTR static void NAME(column_sums)(const float *x, size_t rows, size_t cols, size_t ld, float *out) {
    size_t j = 0;
    for (; j + 4 * OFK_W <= cols; j += 4 * OFK_W) {
        V a0 = P(setzero_ps)(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t r = 0; r < rows; r++) {
            const float *row = x + r * ld + j;
            a0 = P(add_ps)(a0, P(loadu_ps)(row));
            a1 = P(add_ps)(a1, P(loadu_ps)(row + OFK_W));
            a2 = P(add_ps)(a2, P(loadu_ps)(row + 2 * OFK_W));
            a3 = P(add_ps)(a3, P(loadu_ps)(row + 3 * OFK_W));
        }
        P(storeu_ps)(out + j, a0); P(storeu_ps)(out + j + OFK_W, a1);
        P(storeu_ps)(out + j + 2 * OFK_W, a2); P(storeu_ps)(out + j + 3 * OFK_W, a3);
    }
    for (; j + OFK_W <= cols; j += OFK_W) {
        V a0 = P(setzero_ps)();
        for (size_t r = 0; r < rows; r++) a0 = P(add_ps)(a0, P(loadu_ps)(x + r * ld + j));
        P(storeu_ps)(out + j, a0);
    }
    if (j < cols) TAIL(column_sums)(x + j, rows, cols - j, ld, out + j);
}

#undef OFK_ATTR
#undef OFK_W
#undef V
#undef VI
#undef P
#undef CAST_PS_SI
#undef CAST_SI_PS
#undef GT
#undef SELECT
#undef NAME
#undef TAIL
