// Types of snappyjs (pure-JS Snappy block format, the test encoder), which ships none.

declare module "snappyjs" {
  /** Throws when the data is not Snappy or would expand past maxLength bytes. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
