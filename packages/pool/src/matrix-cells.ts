import type { ResolvedPoolOptions } from './pool-options.js'

/** One kernel × image pair of a matrix: a Vitest project of its own. */
export interface MatrixCell {
  /** The project's name, `<image>@<kernel>`, for `--project`. */
  name: string
  kernel: string
  image: string
}

/** The cells of the options' matrix, image by image, each image's kernels in the order given. */
export function matrixCells(options: ResolvedPoolOptions): MatrixCell[] {
  const kernels = options.matrix?.kernel ?? [options.kernel]
  const images = options.matrix?.image ?? [options.image]
  return images.flatMap((image) => kernels.map((kernel) => ({ name: `${image}@${kernel}`, kernel, image })))
}
