import { GUEST_INIT_STUB_PATH, RUNTIME_DIR, SANDBOX_INIT_SCRIPT } from '../core/index.js'

/**
 * PID 1 of every guest, baked into each image. It only mounts the host's runtime directory and
 * runs the runtime's own init, so the image stays valid when vitest-uml's guest logic changes.
 * hostfs takes `hostfs=<dir>` on newer kernels and a bare `<dir>` on older ones. Powering off
 * through sysrq, because minbase has no poweroff and PID 1 exiting panics the kernel.
 */
export const GUEST_INIT_STUB = `#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mkdir -p /run
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p ${RUNTIME_DIR}
mount -t hostfs -o ro,hostfs=${RUNTIME_DIR} none ${RUNTIME_DIR} 2>/dev/null ||
  mount -t hostfs -o ro,${RUNTIME_DIR} none ${RUNTIME_DIR}
if [ -x ${SANDBOX_INIT_SCRIPT} ]; then
  ${SANDBOX_INIT_SCRIPT}
else
  echo "vitest-uml: the guest could not mount its runtime from the host" >&2
fi
echo o > /proc/sysrq-trigger
sleep 10
`

export { GUEST_INIT_STUB_PATH }
