import { execa } from 'execa'

export interface ImageInode {
  type: string
  mode: number
  uid: number
  gid: number
  links: number
}

/** Reads one inode of an ext4 image with debugfs, without mounting it. */
export async function statInImage(image: string, path: string): Promise<ImageInode | undefined> {
  const { stdout } = await execa('debugfs', ['-R', `stat ${path}`, image])
  const inode = /Type: (\S+)\s+Mode:\s+(\d+)/.exec(stdout)
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(stdout)
  const links = /Links: (\d+)/.exec(stdout)
  if (!inode || !owner || !links) return undefined
  return {
    type: inode[1]!,
    mode: Number.parseInt(inode[2]!, 8),
    uid: Number(owner[1]),
    gid: Number(owner[2]),
    links: Number(links[1]),
  }
}

/** Names in a directory of an ext4 image, without `.` and `..`. */
export async function listInImage(image: string, path: string): Promise<string[]> {
  const { stdout } = await execa('debugfs', ['-R', `ls -p ${path}`, image])
  // `ls -p` prints one `/inode/mode/uid/gid/name/size/` line per entry.
  return stdout
    .split('\n')
    .map((line) => line.split('/')[5])
    .filter((name): name is string => name !== undefined && name !== '.' && name !== '..')
}
