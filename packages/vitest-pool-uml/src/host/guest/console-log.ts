/** Keeps the last part of a guest's console (kernel messages, init and agent output) as evidence. */
export class ConsoleLog {
  private text = ''

  constructor(private readonly maxChars = 64 * 1024) {}

  append(chunk: string): void {
    this.text += chunk
    if (this.text.length > this.maxChars) this.text = this.text.slice(-this.maxChars)
  }

  /** The last `lines` lines, for error messages. */
  tail(lines = 40): string {
    return this.text.trimEnd().split('\n').slice(-lines).join('\n')
  }

  includes(needle: string): boolean {
    return this.text.includes(needle)
  }
}
