import { join } from 'node:path'

/** `<cacheDir>/images/<name>/<hash>/{image.ext4,image.json}` */
export const IMAGE_FILE = 'image.ext4'
export const METADATA_FILE = 'image.json'

export function imagesRoot(cacheDir: string): string {
  return join(cacheDir, 'images')
}

export function imageNameDir(cacheDir: string, name: string): string {
  return join(imagesRoot(cacheDir), name)
}

export function imageEntryDir(cacheDir: string, name: string, hash: string): string {
  return join(imageNameDir(cacheDir, name), hash)
}
