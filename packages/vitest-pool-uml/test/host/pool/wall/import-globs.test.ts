import { rm, writeFile } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { importGlobReachesOut } from '../../../../src/host/pool/wall/import-globs.js'
import { hostFilesFixture } from './fake-host-files.js'

let fixture: Awaited<ReturnType<typeof hostFilesFixture>>
beforeAll(async () => {
  fixture = await hostFilesFixture()
})
afterAll(async () => {
  await rm(fixture.base, { recursive: true })
})

async function reachesOut(call: string): Promise<boolean> {
  const file = `${fixture.root}/test/globs.test.ts`
  await writeFile(file, `const modules: Record<string, unknown> = ${call}\nexport default modules\n`)
  return importGlobReachesOut(file, fixture.files)
}

it('lets globs inside the allowed directories be', async () => {
  expect(await reachesOut("import.meta.glob('./*.test.ts')")).toBe(false)
  expect(await reachesOut("import.meta.glob(['/src/**/*.ts', '!/src/skip.ts'], { eager: true })")).toBe(false)
  expect(await reachesOut("import.meta.glob('../../app-secrets/*.js')")).toBe(false)
  expect(await reachesOut("import.meta.glob('@/src/*.ts')")).toBe(false)
})

it('catches globs that reach out, however they are written', async () => {
  expect(await reachesOut("import.meta.glob('../../../outside/*', { query: '?raw' })")).toBe(true)
  expect(await reachesOut("import.meta.glob('/../../outside/*')")).toBe(true)
  expect(await reachesOut("import.meta.glob('./**/../../../outside/*')")).toBe(true)
  expect(await reachesOut("import.meta.glob(['./*.ts', '../../../outside/*'])")).toBe(true)
  expect(await reachesOut("import.meta.glob('../.git/*')")).toBe(true)
})
