import type { TestSequencer, TestSequencerConstructor, TestSpecification, Vitest } from 'vitest/node'

/**
 * Wraps Vitest's sequencer so that every `--shard` run cuts the same list. Vitest orders files by a
 * hash of their path, and files the hash ties stay in the order their projects finished globbing,
 * which varies from run to run. Every cell of a matrix has the same files, so two shards could each
 * run one cell and leave another out; ordered by cell first, the tie is the same in every shard.
 */
export function cellOrderedShards(Sequencer: TestSequencerConstructor): TestSequencerConstructor {
  return class CellOrderedSequencer implements TestSequencer {
    readonly #sequencer: TestSequencer
    constructor(vitest: Vitest) {
      this.#sequencer = new Sequencer(vitest)
    }
    shard(files: TestSpecification[]) {
      return this.#sequencer.shard([...files].sort(byCellThenFile))
    }
    sort(files: TestSpecification[]) {
      return this.#sequencer.sort(files)
    }
  }
}

function byCellThenFile(a: TestSpecification, b: TestSpecification): number {
  const [keyA, keyB] = [`${a.project.name}\0${a.moduleId}`, `${b.project.name}\0${b.moduleId}`]
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0
}
