/**
 * Fixed paths inside the host-side sandbox (bubblewrap) that every UML process runs in. The
 * guest mounts `RUNTIME_DIR` over hostfs at the same path, so a path here means the same thing
 * to the sandboxed kernel and to the guest. Kernels and the guest Node binary are patched to load
 * their C libraries from here, which keeps them independent of the host's and the guest's glibc.
 */
export const RUNTIME_DIR = '/run/vitest-uml'
export const SANDBOX_KERNEL_DIR = `${RUNTIME_DIR}/kernel`
export const SANDBOX_KERNEL_LIB_DIR = `${SANDBOX_KERNEL_DIR}/lib`
export const SANDBOX_NODE_DIR = `${RUNTIME_DIR}/node`
export const SANDBOX_NODE_LIB_DIR = `${SANDBOX_NODE_DIR}/lib`
export const SANDBOX_AGENT_DIR = `${RUNTIME_DIR}/agent`
export const SANDBOX_IMAGE_PATH = `${RUNTIME_DIR}/image.ext4`
/** The runtime's own init script (shipped with the agent), run by the image's init stub. */
export const SANDBOX_INIT_SCRIPT = `${SANDBOX_AGENT_DIR}/init.sh`
/** The init stub baked into every image; the kernel starts it as PID 1. */
export const GUEST_INIT_STUB_PATH = '/sbin/vitest-uml-init'
/** The dynamic loader's file name on x86_64, inside the kernel and node library dirs. */
export const LOADER_NAME = 'ld-linux-x86-64.so.2'
/**
 * Where shares are bound in the sandbox, one numbered directory each: the guest mounts these over
 * hostfs at the shares' own paths, so host paths never go into hostfs mount options (where a comma
 * would split them).
 */
export const SANDBOX_SHARES_DIR = '/shares'
