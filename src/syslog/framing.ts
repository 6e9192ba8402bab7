// Syslog over TCP (RFC 6587): octet-counted frames ("LEN SP MSG") and newline-terminated lines, bounded in size.

const NEWLINE = 0x0a;
const SPACE = 0x20;
const DECODER = new TextDecoder("utf-8");

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/**
 * Cuts a TCP byte stream into messages. A message longer than maxBytes is cut to its first maxBytes and
 * the rest of it skipped, so one connection never holds more than about maxBytes plus one read.
 */
export class SyslogFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes still to drop from an over-long octet-counted frame. */
  private skipBytes = 0;
  /** Dropping the rest of an over-long newline-terminated line. */
  private skipLine = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Uint8Array): string[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: string[] = [];
    for (;;) {
      if (this.skipBytes > 0) {
        const drop = Math.min(this.skipBytes, this.buf.length);
        this.skipBytes -= drop;
        this.buf = this.buf.subarray(drop);
        if (this.skipBytes > 0) break;
      }
      if (this.skipLine) {
        const nl = this.buf.indexOf(NEWLINE);
        if (nl < 0) {
          this.buf = Buffer.alloc(0);
          break;
        }
        this.buf = this.buf.subarray(nl + 1);
        this.skipLine = false;
      }
      if (this.buf.length === 0) break;
      const counted = isDigit(this.buf[0]) ? this.octetCounted(out) : undefined;
      if (counted === "wait") break;
      if (counted === "done") continue;
      const nl = this.buf.indexOf(NEWLINE);
      if (nl < 0) {
        if (this.buf.length > this.maxBytes) {
          out.push(this.text(this.buf.subarray(0, this.maxBytes)));
          this.buf = Buffer.alloc(0);
          this.skipLine = true;
        }
        break;
      }
      const line = this.buf.subarray(0, Math.min(nl, this.maxBytes));
      if (line.length > 0 && !(line.length === 1 && line[0] === 0x0d)) out.push(this.text(line));
      this.buf = this.buf.subarray(nl + 1);
    }
    // Keep a copy of the small remainder, not a view pinning the whole read.
    if (this.buf.length && this.buf.byteOffset > 0) this.buf = Buffer.from(this.buf);
    return out;
  }

  /** What is left when the peer closes: a last line without its newline. */
  end(): string[] {
    const rest = this.skipBytes > 0 || this.skipLine ? Buffer.alloc(0) : this.buf;
    this.buf = Buffer.alloc(0);
    return rest.length ? [this.text(rest.subarray(0, this.maxBytes))] : [];
  }

  /** "done" when a frame was taken, "wait" for more bytes, undefined when this is not a length prefix. */
  private octetCounted(out: string[]): "done" | "wait" | undefined {
    let i = 0;
    while (i < this.buf.length && i < 10 && isDigit(this.buf[i])) i++;
    if (i === this.buf.length) return i < 10 ? "wait" : undefined;
    if (this.buf[i] !== SPACE) return undefined;
    const length = Number(this.buf.subarray(0, i).toString("latin1"));
    const start = i + 1;
    const take = Math.min(length, this.maxBytes);
    if (this.buf.length < start + take) return "wait";
    out.push(this.text(this.buf.subarray(start, start + take)));
    this.buf = this.buf.subarray(start + take);
    this.skipBytes = length - take;
    return "done";
  }

  private text(bytes: Uint8Array): string {
    return DECODER.decode(bytes).replace(/\r$/, "");
  }
}
