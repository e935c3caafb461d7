#ifndef CBOX2D_H
#define CBOX2D_H
/*
 * A plain-C view of Box2D 2.4.1. Worlds are opaque handles; bodies, fixtures and joints
 * are small integer handles inside their world (-1 means failure). No C++ type crosses
 * this header and every entry point catches C++ exceptions.
 */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CB2World CB2World;

typedef struct CB2BodyState {
    float x, y, angle, vx, vy, omega;
} CB2BodyState;

enum { CB2_STATIC = 0, CB2_KINEMATIC = 1, CB2_DYNAMIC = 2 };

typedef struct CB2FixtureDef {
    float density;
    float friction;
    float restitution;
    uint16_t categoryBits;   /* default 0x0001 */
    uint16_t maskBits;       /* default 0xFFFF */
    int16_t groupIndex;      /* same negative group never collides: a robot's own links */
    int32_t isSensor;
} CB2FixtureDef;

typedef struct CB2RevoluteDef {
    float anchorX, anchorY;          /* world coordinates */
    int32_t enableLimit;
    float lowerAngle, upperAngle;    /* radians, relative to the reference angle */
    int32_t enableMotor;
    float motorSpeed;                /* rad/s */
    float maxMotorTorque;            /* N·m */
    int32_t collideConnected;
} CB2RevoluteDef;

typedef struct CB2PrismaticDef {
    float anchorX, anchorY;          /* world coordinates */
    float axisX, axisY;              /* world axis, normalised by the shim */
    int32_t enableLimit;
    float lowerTranslation, upperTranslation;
    int32_t enableMotor;
    float motorSpeed;                /* m/s */
    float maxMotorForce;             /* N */
    int32_t collideConnected;
} CB2PrismaticDef;

typedef struct CB2RayHit {
    int32_t body;
    float fraction;
    float pointX, pointY;
    float normalX, normalY;
} CB2RayHit;

const char *cb2_version(void);
/* Fills Box2D's lazily built global contact table. Call once before stepping worlds on
   several threads. Idempotent. */
void cb2_global_warmup(void);

/* Worlds */
CB2World *cb2_world_create(float gravityX, float gravityY);
void cb2_world_destroy(CB2World *w);
void cb2_world_step(CB2World *w, float dt, int32_t velocityIterations, int32_t positionIterations);
/* Milliseconds b2World::Step last reported for its whole step (b2Profile.step): always 0 while
 * the shim's no-op profiler timers are the ones libbox2d calls. */
float cb2_world_profile_step_ms(const CB2World *w);
void cb2_world_set_gravity(CB2World *w, float gx, float gy);
void cb2_world_set_allow_sleeping(CB2World *w, int32_t allow);
void cb2_world_set_warm_starting(CB2World *w, int32_t enable);
void cb2_world_set_continuous(CB2World *w, int32_t enable);
int32_t cb2_world_body_count(const CB2World *w);
int32_t cb2_world_joint_count(const CB2World *w);
int32_t cb2_world_contact_count(const CB2World *w);
/* Live allocations of bodies, fixtures and joints created through this shim (leak checks). */
int64_t cb2_live_objects(void);
/* The same, counting only objects created/destroyed on the calling thread. */
int64_t cb2_thread_live_objects(void);

/* Bodies */
int32_t cb2_body_create(CB2World *w, int32_t type, float x, float y, float angle);
int32_t cb2_body_destroy(CB2World *w, int32_t body);
int32_t cb2_body_get_state(const CB2World *w, int32_t body, CB2BodyState *out);
/* Fills `out` with 6 floats per body for `count` bodies in `bodies` (hot-path batch read). */
int32_t cb2_bodies_get_states(const CB2World *w, const int32_t *bodies, int32_t count, CB2BodyState *out);
int32_t cb2_body_set_transform(CB2World *w, int32_t body, float x, float y, float angle);
int32_t cb2_body_set_velocity(CB2World *w, int32_t body, float vx, float vy, float omega);
int32_t cb2_body_set_damping(CB2World *w, int32_t body, float linear, float angular);
int32_t cb2_body_set_fixed_rotation(CB2World *w, int32_t body, int32_t fixed);
int32_t cb2_body_set_bullet(CB2World *w, int32_t body, int32_t bullet);
int32_t cb2_body_set_awake(CB2World *w, int32_t body, int32_t awake);
int32_t cb2_body_set_sleeping_allowed(CB2World *w, int32_t body, int32_t allowed);
int32_t cb2_body_set_gravity_scale(CB2World *w, int32_t body, float scale);
float cb2_body_mass(const CB2World *w, int32_t body);
float cb2_body_inertia(const CB2World *w, int32_t body);   /* about the centre of mass */
/* Overrides mass (kg), local centre of mass and rotational inertia about that centre (kg·m²). */
int32_t cb2_body_set_mass_data(CB2World *w, int32_t body, float mass, float centerX, float centerY, float inertia);
int32_t cb2_body_world_center(const CB2World *w, int32_t body, float *x, float *y);
int32_t cb2_body_world_point(const CB2World *w, int32_t body, float lx, float ly, float *x, float *y);
int32_t cb2_body_local_point(const CB2World *w, int32_t body, float wx, float wy, float *x, float *y);
int32_t cb2_body_apply_force(CB2World *w, int32_t body, float fx, float fy, float px, float py);
int32_t cb2_body_apply_force_to_center(CB2World *w, int32_t body, float fx, float fy);
int32_t cb2_body_apply_torque(CB2World *w, int32_t body, float torque);
int32_t cb2_body_apply_linear_impulse(CB2World *w, int32_t body, float ix, float iy, float px, float py);
int32_t cb2_body_apply_angular_impulse(CB2World *w, int32_t body, float impulse);

/* Fixtures: shapes in body-local coordinates. Return a fixture handle or -1. */
int32_t cb2_fixture_box(CB2World *w, int32_t body, float halfWidth, float halfHeight,
                        float centerX, float centerY, float angle, const CB2FixtureDef *def);
int32_t cb2_fixture_polygon(CB2World *w, int32_t body, const float *xy, int32_t count,
                            const CB2FixtureDef *def);
/* A box whose outline is rounded by `radius` (Box2D's polygon skin): a box of half-height
   hh → 0 with radius r is a capsule of half-length hw in one fixture. radius ≥ 0. */
int32_t cb2_fixture_rounded_box(CB2World *w, int32_t body, float halfWidth, float halfHeight,
                                float centerX, float centerY, float angle, float radius,
                                const CB2FixtureDef *def);
int32_t cb2_fixture_circle(CB2World *w, int32_t body, float radius, float centerX, float centerY,
                           const CB2FixtureDef *def);
int32_t cb2_fixture_edge(CB2World *w, int32_t body, float x1, float y1, float x2, float y2,
                         const CB2FixtureDef *def);
int32_t cb2_fixture_chain(CB2World *w, int32_t body, const float *xy, int32_t count, int32_t loop,
                          const CB2FixtureDef *def);
int32_t cb2_fixture_set_friction(CB2World *w, int32_t fixture, float friction);

/* Joints. Return a joint handle or -1. */
int32_t cb2_joint_revolute(CB2World *w, int32_t bodyA, int32_t bodyB, const CB2RevoluteDef *def);
int32_t cb2_joint_prismatic(CB2World *w, int32_t bodyA, int32_t bodyB, const CB2PrismaticDef *def);
int32_t cb2_joint_weld(CB2World *w, int32_t bodyA, int32_t bodyB, float anchorX, float anchorY,
                       float stiffness, float damping);
/* Top-down floor friction: a friction joint between a body and a static ground body. */
int32_t cb2_joint_friction(CB2World *w, int32_t bodyA, int32_t bodyB, float anchorX, float anchorY,
                           float maxForce, float maxTorque);
int32_t cb2_joint_destroy(CB2World *w, int32_t joint);
/* Revolute: angle (rad) and speed (rad/s); prismatic: translation (m) and speed (m/s). */
float cb2_joint_value(const CB2World *w, int32_t joint);
float cb2_joint_speed(const CB2World *w, int32_t joint);
/* Motor torque (revolute) or force (prismatic) applied in the last step of length dt. */
float cb2_joint_motor_output(const CB2World *w, int32_t joint, float invDt);
int32_t cb2_joint_set_motor(CB2World *w, int32_t joint, int32_t enable, float speed, float maxTorqueOrForce);
int32_t cb2_joint_set_motor_speed(CB2World *w, int32_t joint, float speed);
int32_t cb2_joint_set_limits(CB2World *w, int32_t joint, int32_t enable, float lower, float upper);
/* Reads (angle/translation, speed) for `count` joints into out[2*i], out[2*i+1]. */
int32_t cb2_joints_get_values(const CB2World *w, const int32_t *joints, int32_t count, float *out);

/* Queries */
/* Closest hit along p1→p2 among fixtures whose category intersects maskBits. 1 if hit. */
int32_t cb2_ray_cast(const CB2World *w, float x1, float y1, float x2, float y2, uint16_t maskBits,
                     CB2RayHit *out);
/* 1 if a touching contact joins bodies a and b. */
int32_t cb2_bodies_touching(const CB2World *w, int32_t a, int32_t b);
/* 1 if body touches any static body. */
int32_t cb2_body_touching_static(const CB2World *w, int32_t body);
/* Number of touching contacts of the body. */
int32_t cb2_body_contact_count(const CB2World *w, int32_t body);
/* 1 if any fixture of the body overlaps the point (world coordinates). */
int32_t cb2_body_test_point(const CB2World *w, int32_t body, float x, float y);

#ifdef __cplusplus
}
#endif
#endif
