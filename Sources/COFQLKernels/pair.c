// A two-worker fork–join for the training step: the caller runs task 0 while one dedicated
// helper thread runs task 1. The helper spins briefly on a generation counter (a step's
// fork–joins follow each other within microseconds), then sleeps on a condition variable, so
// an idle helper costs no CPU. Unlike a work-stealing pool, task 1 always runs on the other
// thread: the two halves of every split really overlap.
#include "cofql_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OFK_PAUSE() _mm_pause()
#else
#define OFK_PAUSE() ((void)0)
#endif

static pthread_mutex_t pair_start_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int pair_started = 0;
static pthread_mutex_t pair_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pair_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pair_caller = PTHREAD_MUTEX_INITIALIZER;   // one fork–join at a time
static _Atomic uint64_t pair_posted = 0;     // generations handed to the helper
static _Atomic uint64_t pair_done = 0;       // generations the helper finished
static _Atomic int pair_sleeping = 0;
static ofk_pair_fn pair_fn;
static void *pair_ctx;
static _Thread_local int in_pair = 0;        // this thread is running a task

// Per-call-site timing (ofk_pair_profile): off unless asked for; the table is written under
// pair_caller, so it needs no lock of its own.
static _Atomic int pair_profiling = 0;
static _Atomic uint64_t pair_helper_ns = 0;  // the helper's time in the last task
static _Atomic int pair_helper_slept = 0;     // the helper slept before the last task
static ofk_pair_site_stats pair_sites[OFK_PAIR_SITES];
static size_t pair_site_count = 0;

static uint64_t pair_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum { SPINS = 20000 };   // ~50–100 µs of pause instructions before sleeping

static void *pair_helper(void *unused) {
    (void)unused;
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0, slept = 0;
        while ((g = atomic_load_explicit(&pair_posted, memory_order_acquire)) == seen) {
            if (++spins < SPINS) { OFK_PAUSE(); continue; }
            pthread_mutex_lock(&pair_mutex);
            slept = 1;
            atomic_store_explicit(&pair_sleeping, 1, memory_order_seq_cst);
            while ((g = atomic_load_explicit(&pair_posted, memory_order_seq_cst)) == seen) {
                pthread_cond_wait(&pair_cond, &pair_mutex);
            }
            atomic_store_explicit(&pair_sleeping, 0, memory_order_relaxed);
            pthread_mutex_unlock(&pair_mutex);
            break;
        }
        seen = g;
        int timed = atomic_load_explicit(&pair_profiling, memory_order_relaxed);
        uint64_t start = timed ? pair_now_ns() : 0;
        in_pair = 1;
        pair_fn(pair_ctx, 1);
        in_pair = 0;
        if (timed) {
            atomic_store_explicit(&pair_helper_ns, pair_now_ns() - start, memory_order_relaxed);
            atomic_store_explicit(&pair_helper_slept, slept, memory_order_relaxed);
        }
        atomic_store_explicit(&pair_done, g, memory_order_release);
    }
    return NULL;
}

// A forked child has no helper thread: it starts its own on first use.
static void pair_after_fork_child(void) {
    atomic_store(&pair_started, 0);
    atomic_store(&pair_posted, 0); atomic_store(&pair_done, 0); atomic_store(&pair_sleeping, 0);
    pthread_mutex_init(&pair_mutex, NULL); pthread_cond_init(&pair_cond, NULL);
    pthread_mutex_init(&pair_caller, NULL); pthread_mutex_init(&pair_start_mutex, NULL);
}

static void pair_start(void) {
    static int atfork_registered = 0;
    if (!atfork_registered) { pthread_atfork(NULL, NULL, pair_after_fork_child); atfork_registered = 1; }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 8u << 20);
    pthread_create(&t, &attr, pair_helper, NULL);
    pthread_attr_destroy(&attr);
}

void ofk_pair_run(ofk_pair_fn fn, void *ctx) { ofk_pair_run_at(fn, ctx, NULL, 0); }

void ofk_pair_profile(int on) {
    pthread_mutex_lock(&pair_caller);
    if (on) { memset(pair_sites, 0, sizeof pair_sites); pair_site_count = 0; }
    atomic_store(&pair_profiling, on != 0);
    pthread_mutex_unlock(&pair_caller);
}

size_t ofk_pair_profile_read(ofk_pair_site_stats *out, size_t capacity) {
    pthread_mutex_lock(&pair_caller);
    size_t n = pair_site_count < capacity ? pair_site_count : capacity;
    if (n) memcpy(out, pair_sites, n * sizeof *out);
    pthread_mutex_unlock(&pair_caller);
    return n;
}

// The slot of (site, line), or NULL when the table is full. Called under pair_caller.
static ofk_pair_site_stats *pair_site_slot(const char *site, unsigned line) {
    for (size_t i = 0; i < pair_site_count; i++) {
        if (pair_sites[i].site == site && pair_sites[i].line == line) return &pair_sites[i];
    }
    if (pair_site_count == OFK_PAIR_SITES) return NULL;
    ofk_pair_site_stats *slot = &pair_sites[pair_site_count++];
    slot->site = site; slot->line = line;
    return slot;
}

void ofk_pair_run_at(ofk_pair_fn fn, void *ctx, const char *site, unsigned line) {
    if (in_pair) { fn(ctx, 0); fn(ctx, 1); return; }   // nested: no second helper to hand it to
    if (!atomic_load_explicit(&pair_started, memory_order_acquire)) {
        pthread_mutex_lock(&pair_start_mutex);
        if (!atomic_load_explicit(&pair_started, memory_order_relaxed)) {
            pair_start();
            atomic_store_explicit(&pair_started, 1, memory_order_release);
        }
        pthread_mutex_unlock(&pair_start_mutex);
    }
    pthread_mutex_lock(&pair_caller);
    int timed = atomic_load_explicit(&pair_profiling, memory_order_relaxed);
    uint64_t t0 = timed ? pair_now_ns() : 0;
    pair_fn = fn; pair_ctx = ctx;
    uint64_t g = atomic_fetch_add_explicit(&pair_posted, 1, memory_order_seq_cst) + 1;
    if (atomic_load_explicit(&pair_sleeping, memory_order_seq_cst)) {
        pthread_mutex_lock(&pair_mutex);
        pthread_cond_signal(&pair_cond);
        pthread_mutex_unlock(&pair_mutex);
    }
    in_pair = 1;
    fn(ctx, 0);
    in_pair = 0;
    uint64_t t1 = timed ? pair_now_ns() : 0;
    while (atomic_load_explicit(&pair_done, memory_order_acquire) != g) OFK_PAUSE();
    ofk_pair_site_stats *slot = timed ? pair_site_slot(site, line) : NULL;
    if (slot) {
        uint64_t t2 = pair_now_ns();
        slot->calls += 1;
        slot->wall_ns += t2 - t0;          // fork to join, as the caller sees it
        slot->caller_ns += t1 - t0;        // posting, then task 0
        slot->helper_ns += atomic_load_explicit(&pair_helper_ns, memory_order_relaxed);   // task 1
        slot->wait_ns += t2 - t1;          // the caller spinning for the helper
        slot->woken += (uint64_t)atomic_load_explicit(&pair_helper_slept, memory_order_relaxed);
    }
    pthread_mutex_unlock(&pair_caller);
}
