import { expect } from 'vitest'
import { SANDBOX_KERNEL_DIR } from 'vitest-pool-uml/api'

/** Loads a kernel module as guest root with init_module(2) (minbase has perl but no kmod). */
const INSMOD = `perl -e 'open(F, "<", $ARGV[0]) or die "open: $!"; binmode F; local $/; my $img = <F>; my $none = ""; print "init_module=", syscall(175, $img, length($img), $none), "\\n"'`

/** Sends one UML mconsole request (a datagram) to a socket path, as uml_mconsole would. */
const MCONSOLE = `perl -MSocket -e 'socket(S, PF_UNIX, SOCK_DGRAM, 0) or die; my $req = pack("VVVa512", 0xcafebabe, 2, length($ARGV[1]), $ARGV[1]); print defined(send(S, $req, 0, pack_sockaddr_un($ARGV[0]))) ? "mconsole: sent\\n" : "mconsole: $!\\n"'`

/**
 * A guest-root shell script that uses the guest kernel's full power against a host file: it loads
 * a module from the kernel's own tree (kernel code of the guest's choosing, run as the UML
 * process), mounts the UML process's view of the host, reads the canary and every process
 * environment there, and asks UML's management console to attach the canary as a disk.
 */
export function kernelLevelAttack(canary: string): string {
  return [
    `mkdir -p /m /h; mount -t hostfs -o ${SANDBOX_KERNEL_DIR}/modules none /m`,
    `${INSMOD} /m/$(uname -r)/kernel/fs/fuse/fuse.ko 2>&1`,
    'grep "^fuse " /proc/modules',
    'mount -t hostfs -o / none /h',
    `cat /h${canary} 2>&1`,
    'cat /h/proc/self/environ /h/proc/[0-9]*/environ 2>&1',
    `${MCONSOLE} /h/tmp/uml/vitest-uml/mconsole "config ubd3=${canary}" 2>&1`,
    'sleep 1; cat /proc/partitions',
  ].join('; ')
}

/** The attack ran (the module loaded) and got nothing: no secret, no mconsole, no new disk. */
export function expectKernelLevelAttackFailed(output: string, secret: string): void {
  expect(output).toContain('init_module=0')
  expect(output).toMatch(/^fuse /m)
  expect(output).toContain('mconsole: Connection refused')
  expect(output).not.toMatch(/ubdd/)
  expect(output).not.toContain(secret)
}
