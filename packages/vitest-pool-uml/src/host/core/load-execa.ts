/**
 * execa, loaded when a host tool first runs: its hundred modules take ~140 ms to load, and a run
 * whose kernel, image and guest Node are cached starts no tool.
 */
export function loadExeca(): Promise<typeof import('execa')> {
  return import('execa')
}
