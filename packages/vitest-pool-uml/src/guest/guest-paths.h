/* Paths in the guest that the agent (agent.c) and the session launcher (session.c) both use. */
#ifndef VITEST_UML_GUEST_PATHS_H
#define VITEST_UML_GUEST_PATHS_H
/* Where the read-only hostfs mounts under copy-on-write shares go, one per share by its index. */
#define LOWER_PREFIX "/run/vitest-uml-lower/"
#endif
