/* The fused multi-step LIF scan for CPU float32 (skipsnn.kernels.c_backend builds and
   binds it; the recurrence and its backward are described in skipsnn/lif_scan.py).
   Built with -ffp-contract=off -fno-fast-math so that every operation rounds as torch's
   separate elementwise kernels do: the forward is bitwise equal to the reference. */
#include <stdint.h>
#include <stddef.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

/* Neurons are processed in blocks of BLK; a block's state and parameters stay in cache
   while the time loop streams its slice of x, s and h. */
#ifndef BLK
#define BLK 2048
#endif
#define INLINE static inline __attribute__((always_inline))

INLINE float surrogate(float h, const int kind, float width) {
    if (kind == 0) { float q = 1.0f + width * (h < 0 ? -h : h); return 1.0f / (q * q); }
    float z = 1.5707963267948966f * width * h;
    return (0.5f * width) / (1.0f + z * z);
}

/* One time step of a block of n neurons. h gets u - v_th; with half_safe a negative h is
   kept at most -2^-24, so that it stays negative once rounded to float16 and the spike
   mask h >= 0 read back in the backward pass is exact. */
INLINE void step_forward(const float *restrict x, const float *restrict a,
                         const float *restrict d, const float *restrict g, float *restrict v,
                         float *restrict s, float *restrict h, int64_t n, float vth,
                         float vreset, const int zero_a, const int keep_h,
                         const int half_safe) {
    for (int64_t i = 0; i < n; i++) {
        /* same order as the reference: (a + (v - a) * d) + g * x */
        float u = zero_a ? v[i] * d[i] : a[i] + (v[i] - a[i]) * d[i];
        u = u + g[i] * x[i];
        int spk = u >= vth;
        s[i] = spk ? 1.0f : 0.0f;
        if (keep_h) {
            float hh = u - vth;
            h[i] = (half_safe && hh < 0.0f && hh > -0x1p-24f) ? -0x1p-24f : hh;
        }
        v[i] = spk ? vreset : u;
    }
}

/* g[n] = gs[n] sg(h[n]) + (1 - s[n]) g_post; out = g scale; g_post <- g d (reversed time). */
INLINE void step_backward(const float *restrict gs, const float *restrict h,
                          const float *restrict d, const float *restrict scale,
                          float *restrict gpost, float *restrict out, int64_t n,
                          const int kind, float width, const int has_gs) {
    for (int64_t i = 0; i < n; i++) {
        float hh = h[i], gprev = gpost[i];  /* loaded unconditionally: vectorizes */
        float gp = hh >= 0 ? 0.0f : gprev;
        if (has_gs) gp += gs[i] * surrogate(hh, kind, width);
        out[i] = gp * scale[i];
        gpost[i] = gp * d[i];
    }
}

/* float <-> IEEE half, vectorized with F16C where the build has it. */
#if defined(__F16C__) || defined(__FLT16_MAX__)
#define HAVE_HALF 1
static void to_half(const float *restrict src, uint16_t *restrict dst, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
#else
    for (; i < n; i++) { _Float16 r = (_Float16)src[i]; __builtin_memcpy(dst + i, &r, 2); }
#endif
}
static void from_half(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
#else
    for (; i < n; i++) { _Float16 r; __builtin_memcpy(&r, src + i, 2); dst[i] = (float)r; }
#endif
}
#endif

/* Neuron i (in memory order) uses parameter element (i / pstride) % psize; a block copies
   its own parameters into p0, p1, p2 (stepping j without a division per neuron). */
INLINE void gather(const float *a, const float *b, const float *c, float *pa, float *pb,
                   float *pc, int64_t i0, int64_t n, int64_t pstride, int64_t psize) {
    int64_t j = (i0 / pstride) % psize, r = i0 % pstride;
    for (int64_t i = 0; i < n; i++) {
        pa[i] = a[j]; pb[i] = b[j]; if (c) pc[i] = c[j];
        if (++r == pstride) { r = 0; if (++j == psize) j = 0; }
    }
}

#define FORWARD_VARIANTS(CALL)                                                            \
    if (zero_a && keep_h) CALL(1, 1);                                                     \
    else if (zero_a) CALL(1, 0);                                                          \
    else if (keep_h) CALL(0, 1);                                                          \
    else CALL(0, 0);

/* x, s: [T, N]; h: [T, N] float (or half for lif_forward16) or NULL; v: [N], v0 on entry
   and v[T-1] on exit; a, d, g compact (see gather). */
INLINE void forward(const float *x, const float *a, const float *d, const float *g, float *v,
                    float *s, void *h, int64_t T, int64_t N, float vth, float vreset,
                    int zero_a, int threads, int64_t pstride, int64_t psize, const int half) {
    int64_t nblk = (N + BLK - 1) / BLK;
    int keep_h = h != NULL;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t b = 0; b < nblk; b++) {
        int64_t i0 = b * BLK, n = i0 + BLK < N ? BLK : N - i0;
        float al[BLK], dl[BLK], gl[BLK], hl[BLK];
        gather(a, d, g, al, dl, gl, i0, n, pstride, psize);
        for (int64_t t = 0; t < T; t++) {
            int64_t o = t * N + i0;
            float *ht = half ? hl : (keep_h ? (float *)h + o : NULL);
            /* constant flags, so each variant's loop is compiled without branches */
#define STEP(ZA, KH) step_forward(x + o, al, dl, gl, v + i0, s + o, ht, n, vth, vreset, ZA, KH, half)
            FORWARD_VARIANTS(STEP)
#undef STEP
#ifdef HAVE_HALF
            if (half && keep_h) to_half(hl, (uint16_t *)h + o, n);
#endif
        }
    }
}

void lif_forward(const float *x, const float *a, const float *d, const float *g, float *v,
                 float *s, float *h, int64_t T, int64_t N, float vth, float vreset,
                 int zero_a, int threads, int64_t pstride, int64_t psize) {
    forward(x, a, d, g, v, s, h, T, N, vth, vreset, zero_a, threads, pstride, psize, 0);
}

/* gs, out: [T, N]; h as in forward; gpost: [N], dL/dv[T-1] on entry and dL/dv0 on exit;
   out gets g[n] * scale; gs may be NULL; d and scale compact. */
INLINE void backward(const float *gs, const void *h, const float *d, const float *scale,
                     float *gpost, float *out, int64_t T, int64_t N, int kind, float width,
                     int threads, int64_t pstride, int64_t psize, const int half) {
    int64_t nblk = (N + BLK - 1) / BLK;
    int has_gs = gs != NULL;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t b = 0; b < nblk; b++) {
        int64_t i0 = b * BLK, n = i0 + BLK < N ? BLK : N - i0;
        float dl[BLK], cl[BLK], hl[BLK];
        gather(d, scale, NULL, dl, cl, NULL, i0, n, pstride, psize);
        for (int64_t t = T - 1; t >= 0; t--) {
            int64_t o = t * N + i0;
            const float *ht = (const float *)h + o;
#ifdef HAVE_HALF
            if (half) { from_half((const uint16_t *)h + o, hl, n); ht = hl; }
#endif
            const float *gst = has_gs ? gs + o : NULL;
            if (kind == 0 && has_gs)
                step_backward(gst, ht, dl, cl, gpost + i0, out + o, n, 0, width, 1);
            else if (kind == 1 && has_gs)
                step_backward(gst, ht, dl, cl, gpost + i0, out + o, n, 1, width, 1);
            else
                step_backward(gst, ht, dl, cl, gpost + i0, out + o, n, kind, width, 0);
        }
    }
}

void lif_backward(const float *gs, const float *h, const float *d, const float *scale,
                  float *gpost, float *out, int64_t T, int64_t N, int kind, float width,
                  int threads, int64_t pstride, int64_t psize) {
    backward(gs, h, d, scale, gpost, out, T, N, kind, width, threads, pstride, psize, 0);
}

#ifdef HAVE_HALF
/* The same with h kept in IEEE half precision (uint16 bits). */
void lif_forward16(const float *x, const float *a, const float *d, const float *g, float *v,
                   float *s, uint16_t *h, int64_t T, int64_t N, float vth, float vreset,
                   int zero_a, int threads, int64_t pstride, int64_t psize) {
    forward(x, a, d, g, v, s, h, T, N, vth, vreset, zero_a, threads, pstride, psize, 1);
}

void lif_backward16(const float *gs, const uint16_t *h, const float *d, const float *scale,
                    float *gpost, float *out, int64_t T, int64_t N, int kind, float width,
                    int threads, int64_t pstride, int64_t psize) {
    backward(gs, h, d, scale, gpost, out, T, N, kind, width, threads, pstride, psize, 1);
}
#endif
