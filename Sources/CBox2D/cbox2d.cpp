// extern "C" implementation of cbox2d.h over Box2D 2.4.1.
// Handles are indices into per-world tables; destroyed slots hold nullptr. Box2D destroys a
// body's fixtures and joints with it; a destruction listener clears those slots so that no
// handle ever dangles.
#include "cbox2d.h"

#include <box2d/box2d.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <vector>

namespace {

std::atomic<int64_t> g_live{0};
// The same count for objects created and destroyed by the calling thread, so that leak checks
// running beside other threads see only their own objects.
thread_local int64_t t_live = 0;

inline void liveAdd(int64_t n) {
    g_live.fetch_add(n, std::memory_order_relaxed);
    t_live += n;
}

struct Listener;

}  // namespace

struct CB2World {
    b2World world;
    std::vector<b2Body *> bodies;
    std::vector<b2Fixture *> fixtures;
    std::vector<b2Joint *> joints;
    Listener *listener;
    explicit CB2World(b2Vec2 g);
    ~CB2World();
};

namespace {

struct Listener final : public b2DestructionListener {
    CB2World *owner = nullptr;
    void SayGoodbye(b2Joint *joint) override {
        auto h = static_cast<size_t>(joint->GetUserData().pointer);
        if (h < owner->joints.size() && owner->joints[h] == joint) {
            owner->joints[h] = nullptr;
            liveAdd(-1);
        }
    }
    void SayGoodbye(b2Fixture *fixture) override {
        auto h = static_cast<size_t>(fixture->GetUserData().pointer);
        if (h < owner->fixtures.size() && owner->fixtures[h] == fixture) {
            owner->fixtures[h] = nullptr;
            liveAdd(-1);
        }
    }
};

inline b2Body *bodyAt(const CB2World *w, int32_t h) {
    if (!w || h < 0 || static_cast<size_t>(h) >= w->bodies.size()) return nullptr;
    return w->bodies[static_cast<size_t>(h)];
}
inline b2Joint *jointAt(const CB2World *w, int32_t h) {
    if (!w || h < 0 || static_cast<size_t>(h) >= w->joints.size()) return nullptr;
    return w->joints[static_cast<size_t>(h)];
}
inline b2Fixture *fixtureAt(const CB2World *w, int32_t h) {
    if (!w || h < 0 || static_cast<size_t>(h) >= w->fixtures.size()) return nullptr;
    return w->fixtures[static_cast<size_t>(h)];
}

int32_t addFixture(CB2World *w, b2Body *b, const b2Shape &shape, const CB2FixtureDef *def) {
    b2FixtureDef fd;
    fd.shape = &shape;
    if (def) {
        fd.density = def->density;
        fd.friction = def->friction;
        fd.restitution = def->restitution;
        fd.filter.categoryBits = def->categoryBits;
        fd.filter.maskBits = def->maskBits;
        fd.filter.groupIndex = def->groupIndex;
        fd.isSensor = def->isSensor != 0;
    }
    auto h = static_cast<int32_t>(w->fixtures.size());
    fd.userData.pointer = static_cast<uintptr_t>(h);
    b2Fixture *f = b->CreateFixture(&fd);
    if (!f) return -1;
    w->fixtures.push_back(f);
    liveAdd(1);
    return h;
}

int32_t addJoint(CB2World *w, const b2JointDef &def) {
    auto h = static_cast<int32_t>(w->joints.size());
    b2Joint *j = w->world.CreateJoint(&def);
    if (!j) return -1;
    j->GetUserData().pointer = static_cast<uintptr_t>(h);
    w->joints.push_back(j);
    liveAdd(1);
    return h;
}

bool finite2(float a, float b) { return std::isfinite(a) && std::isfinite(b); }

}  // namespace

CB2World::CB2World(b2Vec2 g) : world(g), listener(new Listener()) {
    listener->owner = this;
    world.SetDestructionListener(listener);
}

CB2World::~CB2World() {
    int64_t live = 0;
    for (auto *b : bodies) live += b != nullptr;
    for (auto *f : fixtures) live += f != nullptr;
    for (auto *j : joints) live += j != nullptr;
    world.SetDestructionListener(nullptr);
    liveAdd(-live);
    // b2World's destructor frees every body, fixture and joint through its allocators.
}

extern "C" {

const char *cb2_version(void) {
    // b2_version reports 2.4.0 in the Debian 2.4.1 build (upstream never bumped it), so
    // the version is stated here from the package the shim is built against.
    return "2.4.1";
}

void cb2_global_warmup(void) {
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            b2World world(b2Vec2(0.0f, -10.0f));
            b2PolygonShape box;
            box.SetAsBox(0.5f, 0.5f);
            b2CircleShape circle;
            circle.m_radius = 0.5f;
            b2EdgeShape edge;
            edge.SetTwoSided(b2Vec2(-5.0f, 0.0f), b2Vec2(5.0f, 0.0f));
            b2BodyDef gd;
            b2Body *ground = world.CreateBody(&gd);
            ground->CreateFixture(&edge, 0.0f);
            ground->CreateFixture(&box, 0.0f);
            const b2Shape *shapes[2] = {&box, &circle};
            for (int i = 0; i < 4; ++i) {
                b2BodyDef bd;
                bd.type = b2_dynamicBody;
                bd.position.Set(0.3f * static_cast<float>(i), 0.4f);
                b2Body *b = world.CreateBody(&bd);
                b->CreateFixture(shapes[i % 2], 1.0f);
            }
            for (int i = 0; i < 3; ++i) world.Step(1.0f / 60.0f, 8, 3);
        } catch (...) {
        }
    });
}

CB2World *cb2_world_create(float gx, float gy) {
    try {
        return new CB2World(b2Vec2(gx, gy));
    } catch (...) {
        return nullptr;
    }
}

void cb2_world_destroy(CB2World *w) {
    try {
        if (!w) return;
        Listener *l = w->listener;
        delete w;
        delete l;
    } catch (...) {
    }
}

void cb2_world_step(CB2World *w, float dt, int32_t vi, int32_t pi) {
    try {
        if (w) w->world.Step(dt, vi, pi);
    } catch (...) {
    }
}

float cb2_world_profile_step_ms(const CB2World *w) { return w ? w->world.GetProfile().step : 0.0f; }

void cb2_world_set_gravity(CB2World *w, float gx, float gy) { if (w) w->world.SetGravity(b2Vec2(gx, gy)); }
void cb2_world_set_allow_sleeping(CB2World *w, int32_t a) { if (w) w->world.SetAllowSleeping(a != 0); }
void cb2_world_set_warm_starting(CB2World *w, int32_t e) { if (w) w->world.SetWarmStarting(e != 0); }
void cb2_world_set_continuous(CB2World *w, int32_t e) { if (w) w->world.SetContinuousPhysics(e != 0); }
int32_t cb2_world_body_count(const CB2World *w) { return w ? w->world.GetBodyCount() : 0; }
int32_t cb2_world_joint_count(const CB2World *w) { return w ? w->world.GetJointCount() : 0; }
int32_t cb2_world_contact_count(const CB2World *w) { return w ? w->world.GetContactCount() : 0; }
int64_t cb2_live_objects(void) { return g_live.load(std::memory_order_relaxed); }
int64_t cb2_thread_live_objects(void) { return t_live; }

int32_t cb2_body_create(CB2World *w, int32_t type, float x, float y, float angle) {
    try {
        if (!w || type < 0 || type > 2 || !finite2(x, y) || !std::isfinite(angle)) return -1;
        b2BodyDef bd;
        bd.type = type == CB2_STATIC ? b2_staticBody : (type == CB2_KINEMATIC ? b2_kinematicBody : b2_dynamicBody);
        bd.position.Set(x, y);
        bd.angle = angle;
        auto h = static_cast<int32_t>(w->bodies.size());
        bd.userData.pointer = static_cast<uintptr_t>(h);
        b2Body *b = w->world.CreateBody(&bd);
        if (!b) return -1;
        w->bodies.push_back(b);
        liveAdd(1);
        return h;
    } catch (...) {
        return -1;
    }
}

int32_t cb2_body_destroy(CB2World *w, int32_t h) {
    try {
        b2Body *b = bodyAt(w, h);
        if (!b) return -1;
        // Fixtures and joints go with the body; Box2D tells the listener about the joints and
        // fixtures, so their slots are cleared there.
        for (b2Fixture *f = b->GetFixtureList(); f; f = f->GetNext()) {
            auto fh = static_cast<size_t>(f->GetUserData().pointer);
            if (fh < w->fixtures.size() && w->fixtures[fh] == f) {
                w->fixtures[fh] = nullptr;
                liveAdd(-1);
            }
        }
        w->world.DestroyBody(b);
        w->bodies[static_cast<size_t>(h)] = nullptr;
        liveAdd(-1);
        return 0;
    } catch (...) {
        return -1;
    }
}

static inline void fillState(const b2Body *b, CB2BodyState *o) {
    const b2Vec2 &p = b->GetPosition();
    const b2Vec2 &v = b->GetLinearVelocity();
    o->x = p.x; o->y = p.y; o->angle = b->GetAngle();
    o->vx = v.x; o->vy = v.y; o->omega = b->GetAngularVelocity();
}

int32_t cb2_body_get_state(const CB2World *w, int32_t h, CB2BodyState *out) {
    const b2Body *b = bodyAt(w, h);
    if (!b || !out) return -1;
    fillState(b, out);
    return 0;
}

int32_t cb2_bodies_get_states(const CB2World *w, const int32_t *hs, int32_t n, CB2BodyState *out) {
    if (!w || !hs || !out || n < 0) return -1;
    for (int32_t i = 0; i < n; ++i) {
        const b2Body *b = bodyAt(w, hs[i]);
        if (!b) return -1;
        fillState(b, out + i);
    }
    return 0;
}

int32_t cb2_body_set_transform(CB2World *w, int32_t h, float x, float y, float a) {
    b2Body *b = bodyAt(w, h);
    if (!b || !finite2(x, y) || !std::isfinite(a)) return -1;
    b->SetTransform(b2Vec2(x, y), a);
    return 0;
}
int32_t cb2_body_set_velocity(CB2World *w, int32_t h, float vx, float vy, float om) {
    b2Body *b = bodyAt(w, h);
    if (!b || !finite2(vx, vy) || !std::isfinite(om)) return -1;
    b->SetLinearVelocity(b2Vec2(vx, vy));
    b->SetAngularVelocity(om);
    return 0;
}
int32_t cb2_body_set_damping(CB2World *w, int32_t h, float lin, float ang) {
    b2Body *b = bodyAt(w, h);
    if (!b) return -1;
    b->SetLinearDamping(lin);
    b->SetAngularDamping(ang);
    return 0;
}
int32_t cb2_body_set_fixed_rotation(CB2World *w, int32_t h, int32_t f) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->SetFixedRotation(f != 0); return 0;
}
int32_t cb2_body_set_bullet(CB2World *w, int32_t h, int32_t f) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->SetBullet(f != 0); return 0;
}
int32_t cb2_body_set_awake(CB2World *w, int32_t h, int32_t f) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->SetAwake(f != 0); return 0;
}
int32_t cb2_body_set_sleeping_allowed(CB2World *w, int32_t h, int32_t f) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->SetSleepingAllowed(f != 0); return 0;
}
int32_t cb2_body_set_gravity_scale(CB2World *w, int32_t h, float s) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->SetGravityScale(s); return 0;
}
float cb2_body_mass(const CB2World *w, int32_t h) {
    const b2Body *b = bodyAt(w, h); return b ? b->GetMass() : NAN;
}
float cb2_body_inertia(const CB2World *w, int32_t h) {
    const b2Body *b = bodyAt(w, h);
    if (!b) return NAN;
    // GetInertia is about the body origin; shift to the centre of mass.
    const b2Vec2 c = b->GetLocalCenter();
    return b->GetInertia() - b->GetMass() * b2Dot(c, c);
}
int32_t cb2_body_set_mass_data(CB2World *w, int32_t h, float mass, float cx, float cy, float inertia) {
    b2Body *b = bodyAt(w, h);
    if (!b || !(mass > 0.0f) || !finite2(cx, cy) || !(inertia > 0.0f) || !std::isfinite(mass) || !std::isfinite(inertia)) return -1;
    b2MassData md;
    md.mass = mass;
    md.center = b2Vec2(cx, cy);
    // b2MassData.I is about the body origin; the argument is about the centre of mass.
    md.I = inertia + mass * (cx * cx + cy * cy);
    b->SetMassData(&md);
    return 0;
}
int32_t cb2_body_world_center(const CB2World *w, int32_t h, float *x, float *y) {
    const b2Body *b = bodyAt(w, h); if (!b || !x || !y) return -1;
    const b2Vec2 &c = b->GetWorldCenter(); *x = c.x; *y = c.y; return 0;
}
int32_t cb2_body_world_point(const CB2World *w, int32_t h, float lx, float ly, float *x, float *y) {
    const b2Body *b = bodyAt(w, h); if (!b || !x || !y) return -1;
    b2Vec2 p = b->GetWorldPoint(b2Vec2(lx, ly)); *x = p.x; *y = p.y; return 0;
}
int32_t cb2_body_local_point(const CB2World *w, int32_t h, float wx, float wy, float *x, float *y) {
    const b2Body *b = bodyAt(w, h); if (!b || !x || !y) return -1;
    b2Vec2 p = b->GetLocalPoint(b2Vec2(wx, wy)); *x = p.x; *y = p.y; return 0;
}
int32_t cb2_body_apply_force(CB2World *w, int32_t h, float fx, float fy, float px, float py) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->ApplyForce(b2Vec2(fx, fy), b2Vec2(px, py), true); return 0;
}
int32_t cb2_body_apply_force_to_center(CB2World *w, int32_t h, float fx, float fy) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->ApplyForceToCenter(b2Vec2(fx, fy), true); return 0;
}
int32_t cb2_body_apply_torque(CB2World *w, int32_t h, float t) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->ApplyTorque(t, true); return 0;
}
int32_t cb2_body_apply_linear_impulse(CB2World *w, int32_t h, float ix, float iy, float px, float py) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->ApplyLinearImpulse(b2Vec2(ix, iy), b2Vec2(px, py), true); return 0;
}
int32_t cb2_body_apply_angular_impulse(CB2World *w, int32_t h, float i) {
    b2Body *b = bodyAt(w, h); if (!b) return -1; b->ApplyAngularImpulse(i, true); return 0;
}

int32_t cb2_fixture_box(CB2World *w, int32_t h, float hw, float hh, float cx, float cy, float a,
                        const CB2FixtureDef *def) {
    // A plain box is a rounded box with Box2D's default skin (what SetAsBox leaves in m_radius).
    return cb2_fixture_rounded_box(w, h, hw, hh, cx, cy, a, b2_polygonRadius, def);
}

int32_t cb2_fixture_rounded_box(CB2World *w, int32_t h, float hw, float hh, float cx, float cy, float a, float r,
                                const CB2FixtureDef *def) {
    try {
        b2Body *b = bodyAt(w, h);
        if (!b || !(hw > 0.0f) || !(hh > 0.0f) || !(r >= 0.0f) || !std::isfinite(r) || !finite2(cx, cy) || !std::isfinite(a))
            return -1;
        b2PolygonShape s;
        s.SetAsBox(hw, hh, b2Vec2(cx, cy), a);
        // Box2D's collision routines treat m_radius as a skin around the polygon; its mass
        // functions ignore it (callers set mass data themselves).
        s.m_radius = r;
        return addFixture(w, b, s, def);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_fixture_polygon(CB2World *w, int32_t h, const float *xy, int32_t n, const CB2FixtureDef *def) {
    try {
        b2Body *b = bodyAt(w, h);
        if (!b || !xy || n < 3 || n > b2_maxPolygonVertices) return -1;
        b2Vec2 pts[b2_maxPolygonVertices];
        for (int32_t i = 0; i < n; ++i) {
            if (!finite2(xy[2 * i], xy[2 * i + 1])) return -1;
            pts[i].Set(xy[2 * i], xy[2 * i + 1]);
        }
        // Reject degenerate input up front (Box2D would silently substitute a unit box).
        float area2 = 0.0f;
        for (int32_t i = 0; i < n; ++i) area2 += b2Cross(pts[i], pts[(i + 1) % n]);
        if (std::fabs(area2) < 1e-6f) return -1;
        b2PolygonShape s;
        s.Set(pts, n);
        return addFixture(w, b, s, def);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_fixture_circle(CB2World *w, int32_t h, float r, float cx, float cy, const CB2FixtureDef *def) {
    try {
        b2Body *b = bodyAt(w, h);
        if (!b || !(r > 0.0f) || !finite2(cx, cy)) return -1;
        b2CircleShape s;
        s.m_radius = r;
        s.m_p.Set(cx, cy);
        return addFixture(w, b, s, def);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_fixture_edge(CB2World *w, int32_t h, float x1, float y1, float x2, float y2, const CB2FixtureDef *def) {
    try {
        b2Body *b = bodyAt(w, h);
        if (!b || !finite2(x1, y1) || !finite2(x2, y2)) return -1;
        if (b2DistanceSquared(b2Vec2(x1, y1), b2Vec2(x2, y2)) <= b2_linearSlop * b2_linearSlop) return -1;
        b2EdgeShape s;
        s.SetTwoSided(b2Vec2(x1, y1), b2Vec2(x2, y2));
        return addFixture(w, b, s, def);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_fixture_chain(CB2World *w, int32_t h, const float *xy, int32_t n, int32_t loop, const CB2FixtureDef *def) {
    try {
        b2Body *b = bodyAt(w, h);
        if (!b || !xy || n < (loop ? 3 : 2)) return -1;
        std::vector<b2Vec2> v(static_cast<size_t>(n));
        for (int32_t i = 0; i < n; ++i) {
            if (!finite2(xy[2 * i], xy[2 * i + 1])) return -1;
            v[static_cast<size_t>(i)].Set(xy[2 * i], xy[2 * i + 1]);
            if (i > 0 && b2DistanceSquared(v[static_cast<size_t>(i)], v[static_cast<size_t>(i - 1)]) <=
                             b2_linearSlop * b2_linearSlop)
                return -1;
        }
        b2ChainShape s;
        if (loop) {
            s.CreateLoop(v.data(), n);
        } else {
            // Ghost vertices extend the end segments so bodies slide smoothly off the ends.
            b2Vec2 prev = v[0] + (v[0] - v[1]);
            b2Vec2 next = v[static_cast<size_t>(n - 1)] + (v[static_cast<size_t>(n - 1)] - v[static_cast<size_t>(n - 2)]);
            s.CreateChain(v.data(), n, prev, next);
        }
        return addFixture(w, b, s, def);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_fixture_set_friction(CB2World *w, int32_t fh, float friction) {
    b2Fixture *f = fixtureAt(w, fh);
    if (!f) return -1;
    f->SetFriction(friction);
    // Existing contacts keep their mixed friction; reset them so the change applies now.
    for (b2ContactEdge *e = f->GetBody()->GetContactList(); e; e = e->next) e->contact->ResetFriction();
    return 0;
}

int32_t cb2_joint_revolute(CB2World *w, int32_t a, int32_t b, const CB2RevoluteDef *d) {
    try {
        b2Body *ba = bodyAt(w, a), *bb = bodyAt(w, b);
        if (!ba || !bb || ba == bb || !d || !finite2(d->anchorX, d->anchorY)) return -1;
        if (d->enableLimit && !(d->lowerAngle <= d->upperAngle)) return -1;
        b2RevoluteJointDef jd;
        jd.Initialize(ba, bb, b2Vec2(d->anchorX, d->anchorY));
        jd.enableLimit = d->enableLimit != 0;
        jd.lowerAngle = d->lowerAngle;
        jd.upperAngle = d->upperAngle;
        jd.enableMotor = d->enableMotor != 0;
        jd.motorSpeed = d->motorSpeed;
        jd.maxMotorTorque = d->maxMotorTorque;
        jd.collideConnected = d->collideConnected != 0;
        return addJoint(w, jd);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_joint_prismatic(CB2World *w, int32_t a, int32_t b, const CB2PrismaticDef *d) {
    try {
        b2Body *ba = bodyAt(w, a), *bb = bodyAt(w, b);
        if (!ba || !bb || ba == bb || !d || !finite2(d->anchorX, d->anchorY)) return -1;
        b2Vec2 axis(d->axisX, d->axisY);
        if (!finite2(axis.x, axis.y) || axis.Normalize() < b2_epsilon) return -1;
        if (d->enableLimit && !(d->lowerTranslation <= d->upperTranslation)) return -1;
        b2PrismaticJointDef jd;
        jd.Initialize(ba, bb, b2Vec2(d->anchorX, d->anchorY), axis);
        jd.enableLimit = d->enableLimit != 0;
        jd.lowerTranslation = d->lowerTranslation;
        jd.upperTranslation = d->upperTranslation;
        jd.enableMotor = d->enableMotor != 0;
        jd.motorSpeed = d->motorSpeed;
        jd.maxMotorForce = d->maxMotorForce;
        jd.collideConnected = d->collideConnected != 0;
        return addJoint(w, jd);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_joint_weld(CB2World *w, int32_t a, int32_t b, float ax, float ay, float stiffness, float damping) {
    try {
        b2Body *ba = bodyAt(w, a), *bb = bodyAt(w, b);
        if (!ba || !bb || ba == bb || !finite2(ax, ay)) return -1;
        b2WeldJointDef jd;
        jd.Initialize(ba, bb, b2Vec2(ax, ay));
        jd.stiffness = stiffness;
        jd.damping = damping;
        return addJoint(w, jd);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_joint_friction(CB2World *w, int32_t a, int32_t b, float ax, float ay, float maxForce, float maxTorque) {
    try {
        b2Body *ba = bodyAt(w, a), *bb = bodyAt(w, b);
        if (!ba || !bb || ba == bb || !finite2(ax, ay) || maxForce < 0.0f || maxTorque < 0.0f) return -1;
        b2FrictionJointDef jd;
        jd.Initialize(ba, bb, b2Vec2(ax, ay));
        jd.maxForce = maxForce;
        jd.maxTorque = maxTorque;
        return addJoint(w, jd);
    } catch (...) {
        return -1;
    }
}

int32_t cb2_joint_destroy(CB2World *w, int32_t h) {
    try {
        b2Joint *j = jointAt(w, h);
        if (!j) return -1;
        w->world.DestroyJoint(j);  // explicit destruction does not call the listener
        w->joints[static_cast<size_t>(h)] = nullptr;
        liveAdd(-1);
        return 0;
    } catch (...) {
        return -1;
    }
}

float cb2_joint_value(const CB2World *w, int32_t h) {
    b2Joint *j = jointAt(w, h);
    if (!j) return NAN;
    switch (j->GetType()) {
        case e_revoluteJoint: return static_cast<b2RevoluteJoint *>(j)->GetJointAngle();
        case e_prismaticJoint: return static_cast<b2PrismaticJoint *>(j)->GetJointTranslation();
        default: return NAN;
    }
}

float cb2_joint_speed(const CB2World *w, int32_t h) {
    b2Joint *j = jointAt(w, h);
    if (!j) return NAN;
    switch (j->GetType()) {
        case e_revoluteJoint: return static_cast<b2RevoluteJoint *>(j)->GetJointSpeed();
        case e_prismaticJoint: return static_cast<b2PrismaticJoint *>(j)->GetJointSpeed();
        default: return NAN;
    }
}

int32_t cb2_joints_get_values(const CB2World *w, const int32_t *hs, int32_t n, float *out) {
    if (!w || !hs || !out || n < 0) return -1;
    for (int32_t i = 0; i < n; ++i) {
        b2Joint *j = jointAt(w, hs[i]);
        if (!j) return -1;
        if (j->GetType() == e_revoluteJoint) {
            auto *r = static_cast<b2RevoluteJoint *>(j);
            out[2 * i] = r->GetJointAngle();
            out[2 * i + 1] = r->GetJointSpeed();
        } else if (j->GetType() == e_prismaticJoint) {
            auto *p = static_cast<b2PrismaticJoint *>(j);
            out[2 * i] = p->GetJointTranslation();
            out[2 * i + 1] = p->GetJointSpeed();
        } else {
            return -1;
        }
    }
    return 0;
}

float cb2_joint_motor_output(const CB2World *w, int32_t h, float invDt) {
    b2Joint *j = jointAt(w, h);
    if (!j) return NAN;
    switch (j->GetType()) {
        case e_revoluteJoint: return static_cast<b2RevoluteJoint *>(j)->GetMotorTorque(invDt);
        case e_prismaticJoint: return static_cast<b2PrismaticJoint *>(j)->GetMotorForce(invDt);
        default: return NAN;
    }
}

int32_t cb2_joint_set_motor(CB2World *w, int32_t h, int32_t enable, float speed, float maxOut) {
    b2Joint *j = jointAt(w, h);
    if (!j || !std::isfinite(speed) || !(maxOut >= 0.0f)) return -1;
    if (j->GetType() == e_revoluteJoint) {
        auto *r = static_cast<b2RevoluteJoint *>(j);
        r->EnableMotor(enable != 0); r->SetMotorSpeed(speed); r->SetMaxMotorTorque(maxOut);
        return 0;
    }
    if (j->GetType() == e_prismaticJoint) {
        auto *p = static_cast<b2PrismaticJoint *>(j);
        p->EnableMotor(enable != 0); p->SetMotorSpeed(speed); p->SetMaxMotorForce(maxOut);
        return 0;
    }
    return -1;
}

int32_t cb2_joint_set_motor_speed(CB2World *w, int32_t h, float speed) {
    b2Joint *j = jointAt(w, h);
    if (!j || !std::isfinite(speed)) return -1;
    if (j->GetType() == e_revoluteJoint) { static_cast<b2RevoluteJoint *>(j)->SetMotorSpeed(speed); return 0; }
    if (j->GetType() == e_prismaticJoint) { static_cast<b2PrismaticJoint *>(j)->SetMotorSpeed(speed); return 0; }
    return -1;
}

int32_t cb2_joint_set_limits(CB2World *w, int32_t h, int32_t enable, float lower, float upper) {
    b2Joint *j = jointAt(w, h);
    if (!j || !(lower <= upper)) return -1;
    if (j->GetType() == e_revoluteJoint) {
        auto *r = static_cast<b2RevoluteJoint *>(j); r->SetLimits(lower, upper); r->EnableLimit(enable != 0); return 0;
    }
    if (j->GetType() == e_prismaticJoint) {
        auto *p = static_cast<b2PrismaticJoint *>(j); p->SetLimits(lower, upper); p->EnableLimit(enable != 0); return 0;
    }
    return -1;
}

namespace {
struct ClosestRay final : public b2RayCastCallback {
    uint16_t mask = 0xFFFF;
    bool hit = false;
    b2Fixture *fixture = nullptr;
    b2Vec2 point{0, 0}, normal{0, 0};
    float fraction = 1.0f;
    float ReportFixture(b2Fixture *f, const b2Vec2 &p, const b2Vec2 &n, float frac) override {
        if (f->IsSensor() || (f->GetFilterData().categoryBits & mask) == 0) return -1.0f;  // ignore
        hit = true; fixture = f; point = p; normal = n; fraction = frac;
        return frac;  // clip the ray to this hit: the closest one wins
    }
};
}  // namespace

int32_t cb2_ray_cast(const CB2World *w, float x1, float y1, float x2, float y2, uint16_t mask, CB2RayHit *out) {
    try {
        if (!w || !out || !finite2(x1, y1) || !finite2(x2, y2)) return -1;
        ClosestRay cb;
        cb.mask = mask;
        b2Vec2 p1(x1, y1), p2(x2, y2);
        if (b2DistanceSquared(p1, p2) <= 0.0f) return 0;
        w->world.RayCast(&cb, p1, p2);
        if (!cb.hit) {
            out->body = -1; out->fraction = 1.0f;
            out->pointX = x2; out->pointY = y2; out->normalX = 0; out->normalY = 0;
            return 0;
        }
        out->body = static_cast<int32_t>(cb.fixture->GetBody()->GetUserData().pointer);
        out->fraction = cb.fraction;
        out->pointX = cb.point.x; out->pointY = cb.point.y;
        out->normalX = cb.normal.x; out->normalY = cb.normal.y;
        return 1;
    } catch (...) {
        return -1;
    }
}

int32_t cb2_bodies_touching(const CB2World *w, int32_t a, int32_t b) {
    const b2Body *ba = bodyAt(w, a), *bb = bodyAt(w, b);
    if (!ba || !bb) return -1;
    for (const b2ContactEdge *e = ba->GetContactList(); e; e = e->next)
        if (e->other == bb && e->contact->IsTouching()) return 1;
    return 0;
}

int32_t cb2_body_touching_static(const CB2World *w, int32_t a) {
    const b2Body *ba = bodyAt(w, a);
    if (!ba) return -1;
    for (const b2ContactEdge *e = ba->GetContactList(); e; e = e->next)
        if (e->other->GetType() == b2_staticBody && e->contact->IsTouching()) return 1;
    return 0;
}

int32_t cb2_body_contact_count(const CB2World *w, int32_t a) {
    const b2Body *ba = bodyAt(w, a);
    if (!ba) return -1;
    int32_t n = 0;
    for (const b2ContactEdge *e = ba->GetContactList(); e; e = e->next) n += e->contact->IsTouching() ? 1 : 0;
    return n;
}

int32_t cb2_body_test_point(const CB2World *w, int32_t a, float x, float y) {
    const b2Body *ba = bodyAt(w, a);
    if (!ba) return -1;
    for (const b2Fixture *f = ba->GetFixtureList(); f; f = f->GetNext())
        if (f->TestPoint(b2Vec2(x, y))) return 1;
    return 0;
}

}  // extern "C"

// Box2D's step profiler. b2World::Step fills b2Profile by reading the wall clock
// (gettimeofday) about ten times per step; nothing here reads b2Profile, and on a cheap world
// those clock reads cost as much as the physics (measured: a third of all maze-step time).
// libbox2d calls these three members through its PLT, so these definitions, linked into the
// executable, take their place; they keep no time. Simulation results do not change.
b2Timer::b2Timer() : m_start_sec(0), m_start_usec(0) {}
void b2Timer::Reset() {}
float b2Timer::GetMilliseconds() const { return 0.0f; }
