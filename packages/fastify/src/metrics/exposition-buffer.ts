import { formatSampleValue } from './prometheus-text.js'

const INITIAL_SIZE = 64 * 1024
const ZERO = 0x30

/**
 * A growing buffer of UTF-8 bytes that an exposition is written into. The plugin's metrics write
 * their lines from byte strings encoded once per series (label text) or per metric (names), and
 * their integer values digit by digit: building the same text as JavaScript strings, then encoding
 * it for the socket, costs about three times as much (measured in the `/metrics` benchmark).
 */
export class ExpositionBuffer {
  #buffer: Buffer
  #length = 0

  /** `expected`: the size the exposition will likely have (the last one's), so it need not grow. */
  constructor(expected = 0) {
    this.#buffer = Buffer.allocUnsafe(Math.max(INITIAL_SIZE, Math.ceil(expected * 1.125)))
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length
  }

  /** Appends bytes (a label text or a name encoded once). */
  bytes(bytes: Uint8Array): void {
    const at = this.#length
    const end = at + bytes.length
    if (end > this.#buffer.length) this.#grow(end)
    this.#buffer.set(bytes, at)
    this.#length = end
  }

  /** Appends text, encoded as UTF-8. */
  text(text: string): void {
    this.#grow(this.#length + Buffer.byteLength(text))
    this.#length += this.#buffer.write(text, this.#length, 'utf8')
  }

  /** Appends a sample value, spelled as {@link formatSampleValue} spells it. */
  number(value: number): void {
    // Counts (the most of an exposition's values) digit by digit; anything else through its spelling.
    if (!(value >= 0 && value <= 0x7fffffff && (value | 0) === value)) {
      const text = formatSampleValue(value)
      this.#grow(this.#length + text.length)
      this.#length += this.#buffer.write(text, this.#length, 'latin1')
      return
    }
    let digits = 1
    for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++
    const end = this.#length + digits
    if (end > this.#buffer.length) this.#grow(end)
    const buffer = this.#buffer
    let at = end
    let rest = value
    do {
      buffer[--at] = ZERO + (rest % 10)
      rest = (rest / 10) | 0
    } while (rest > 0)
    this.#length = end
  }

  /** The bytes written: a view of the buffer, not a copy. Write nothing more after taking it. */
  contents(): Buffer {
    return this.#buffer.subarray(0, this.#length)
  }

  /** Makes room for `needed` bytes in all. */
  #grow(needed: number): void {
    if (needed <= this.#buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2))
    this.#buffer.copy(grown, 0, 0, this.#length)
    this.#buffer = grown
  }
}
