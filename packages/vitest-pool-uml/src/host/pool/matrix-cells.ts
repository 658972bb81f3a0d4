import { formatImageRef, imageRefLabel, isImageRef, parseImageRef } from '../images/index.js'
import type { ResolvedPoolOptions } from './pool-options.js'

/** One kernel × image pair of a matrix: a Vitest project of its own. */
export interface MatrixCell {
  /** The project's name, `<image label>@<kernel>`, for `--project`. */
  name: string
  kernel: string
  /** The image as the options give it: a name or a registry reference. */
  image: string
  /** The image in cell names and tables: its name, or a reference's short label (`alpine-3.21`). */
  imageLabel: string
}

/** The cells of the options' matrix, image by image, each image's kernels in the order given. */
export function matrixCells(options: ResolvedPoolOptions): MatrixCell[] {
  const kernels = options.matrix?.kernel ?? [options.kernel]
  const images = options.matrix?.image ?? [options.image]
  const labels = imageLabels(images)
  return images.flatMap((image, index) =>
    kernels.map((kernel) => ({ name: `${labels[index]}@${kernel}`, kernel, image, imageLabel: labels[index]! })),
  )
}

/**
 * Names stay as they are; a reference becomes `<repository's last part>-<tag>`, or, where two
 * references would get the same label, its whole canonical form with `/` and `:` as `-`.
 */
function imageLabels(images: string[]): string[] {
  const short = images.map((image) => (isImageRef(image) ? imageRefLabel(parseImageRef(image)) : image))
  return images.map((image, index) =>
    isImageRef(image) && short.filter((label) => label === short[index]).length > 1
      ? formatImageRef(parseImageRef(image)).replace(/[/:@]/g, '-')
      : short[index]!,
  )
}
