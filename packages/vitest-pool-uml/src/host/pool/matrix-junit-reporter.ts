import type { JUnitReporter, TestModule } from 'vitest/node'

export type JUnitOptions = ConstructorParameters<typeof JUnitReporter>[0]

/**
 * Vitest's JUnit reporter (the class the project's Vitest has, see loadJUnitReporter), with each
 * test suite and test class also named after its matrix cell: the stock one names suites by file
 * path only, so the cells of one file would be indistinguishable.
 */
export function createMatrixJUnitReporter(Base: typeof JUnitReporter, options: JUnitOptions): JUnitReporter {
  class MatrixJUnitReporter extends Base {
    /** The cell of each test module, in the order the stock reporter writes their suites. */
    private cells: string[] = []
    private cell: string | undefined

    override async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
      this.cells = testModules.map((testModule) => testModule.project.name)
      await super.onTestRunEnd(testModules)
    }

    override async writeElement(
      name: string,
      attrs: Record<string, unknown>,
      children: () => Promise<void>,
    ): Promise<void> {
      if (name === 'testsuite') {
        this.cell = this.cells.shift()
        return super.writeElement(name, { ...attrs, name: `${this.cell} ${attrs.name}` }, children)
      }
      if (name === 'testcase' && this.cell)
        return super.writeElement(name, { ...attrs, classname: `${this.cell} ${attrs.classname}` }, children)
      return super.writeElement(name, attrs, children)
    }
  }
  return new MatrixJUnitReporter(options)
}
