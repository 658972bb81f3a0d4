import { describe, expect, it } from 'vitest'
import { BaseSequencer, type TestSequencerConstructor, type TestSpecification, type Vitest } from 'vitest/node'
import { cellOrderedShards } from '../../../src/host/pool/matrix-shards.js'

const CELLS = ['debian-bookworm@6.1', 'debian-bookworm@7.2', 'debian-trixie@6.1', 'debian-trixie@7.2']
const FILES = ['/p/test/a.test.ts', '/p/test/b.test.ts', '/p/test/c.test.ts']

/** Each cell's copy of each file, as Vitest's specifications: the same path in several projects. */
const SPECS = CELLS.flatMap((name) =>
  FILES.map((moduleId) => ({ project: { name }, moduleId }) as unknown as TestSpecification),
)

const key = (spec: TestSpecification) => `${spec.project.name} ${spec.moduleId}`

/** Every order the projects could finish globbing in: the cells' blocks of specs, permuted. */
function globOrders(): TestSpecification[][] {
  const permute = (names: string[]): string[][] =>
    names.length <= 1
      ? [names]
      : names.flatMap((name, i) => permute(names.toSpliced(i, 1)).map((rest) => [name, ...rest]))
  return permute(CELLS).map((order) => order.flatMap((name) => SPECS.filter((spec) => spec.project.name === name)))
}

/** The specs each of `count` shards takes, each shard cutting the list in its own glob order. */
async function shardsOf(Sequencer: TestSequencerConstructor, orders: TestSpecification[][], count: number) {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const vitest = { config: { root: '/p', shard: { index: i + 1, count } } } as unknown as Vitest
      return new Sequencer(vitest).shard(orders[i % orders.length]!)
    }),
  )
}

describe('cellOrderedShards', () => {
  it('gives every cell’s copy of every file to exactly one shard, whatever order the projects globbed in', async () => {
    const orders = globOrders()
    for (const count of [2, 3, 4]) {
      for (let offset = 0; offset < orders.length; offset++) {
        const rotated = [...orders.slice(offset), ...orders.slice(0, offset)]
        const shards = await shardsOf(cellOrderedShards(BaseSequencer), rotated, count)
        expect(shards.flat().map(key).sort()).toEqual(SPECS.map(key).sort())
      }
    }
  })

  it('is needed: Vitest’s own sequencer runs a cell twice and skips another when shards globbed in different orders', async () => {
    const orders = globOrders()
    const shards = await shardsOf(BaseSequencer, [orders[0]!, orders.at(-1)!], 2)
    expect(new Set(shards.flat().map(key)).size).toBeLessThan(SPECS.length)
  })

  it('leaves sorting to the wrapped sequencer', async () => {
    const vitest = { config: { root: '/p', shard: { index: 1, count: 2 } } } as unknown as Vitest
    const sorted = [SPECS[1]!, SPECS[0]!]
    class Reversing extends BaseSequencer {
      override async sort(files: TestSpecification[]) {
        return files.toReversed()
      }
    }
    expect(await new (cellOrderedShards(Reversing))(vitest).sort(sorted)).toEqual([SPECS[0], SPECS[1]])
  })
})
