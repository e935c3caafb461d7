/* The C ABI of libofqlsuite: the Box2D stand-in environments, a native vector env stepped on
 * Dispatch workers, and dataset verification, for Python (ctypes) and other hosts.
 *
 * Every entry point returns an error code or NULL instead of trapping: on failure it writes a
 * NUL-terminated message into `err` (at most `errlen` bytes, may be NULL). No Swift error or
 * trap crosses the boundary for bad input (unknown ids, wrong widths, non-finite actions).
 * Handles are owned by the caller and freed with the matching close function. */
#ifndef OFQLSUITE_H
#define OFQLSUITE_H
#include <stdint.h>

const char *ofs_version(void);
int32_t ofs_env_count(void);
/* The id of registered env `index` ("hopper", "maze-medium", ...), NULL when out of range. */
const char *ofs_env_id(int32_t index);
/* Shapes and limits of env `id`; `low`/`high` (may be NULL) receive obs_dim observation bounds. */
int32_t ofs_env_info(const char *id, int32_t *obs_dim, int32_t *act_dim, int32_t *max_steps, int32_t *version,
                     float *low, float *high, char *err, int32_t errlen);

/* R_random and R_expert of `id` (locomotion); 1 with a message for envs scored otherwise. */
int32_t ofs_env_reference(const char *id, double *random, double *expert, char *err, int32_t errlen);

void *ofs_env_create(const char *id, char *err, int32_t errlen);
int32_t ofs_env_reset(void *env, uint64_t seed, float *obs, char *err, int32_t errlen);
int32_t ofs_env_step(void *env, const float *action, float *obs, float *reward, uint8_t *terminated,
                     uint8_t *truncated, char *err, int32_t errlen);
void ofs_env_close(void *env);

/* num_envs copies of `id` stepped by num_threads Dispatch workers. Reset with seed s gives env i
 * the seed s + i; with Gymnasium's next-step autoreset, the step after an episode ends resets that
 * env (seed s + i + k * num_envs for its k-th episode), ignores its action and reports reward 0. */
void *ofs_vec_create(const char *id, int32_t num_envs, int32_t num_threads, char *err, int32_t errlen);
int32_t ofs_vec_reset(void *vec, uint64_t seed, float *obs, char *err, int32_t errlen);
int32_t ofs_vec_step(void *vec, const float *actions, float *obs, float *rewards, uint8_t *terminated,
                     uint8_t *truncated, char *err, int32_t errlen);
void ofs_vec_close(void *vec);

/* The checks of `ofql-eval dataset verify` on a D4RL-layout file (env from `env_id`, else the file's
 * metadata/env_id, else none): returns the number of problems (0: valid; they are written to
 * `err`, one per line) or -1 when the file cannot be read. */
int32_t ofs_dataset_verify(const char *path, const char *env_id, char *err, int32_t errlen);

/* 1 when libbox2d calls this library's no-op step-profiler timers (as in ofql-eval), else 0. */
int32_t ofs_box2d_profiler_disabled(void);

#endif
