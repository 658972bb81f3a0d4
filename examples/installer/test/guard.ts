// These tests act as root. Outside a vitest-uml guest they would change the host: refuse.
if (!process.env.VITEST_UML_KERNEL) {
  throw new Error('These tests act as root and must run inside vitest-uml guests: run `vitest --pool=uml`.')
}
