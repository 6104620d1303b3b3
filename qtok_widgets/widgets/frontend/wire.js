// Wire decoding: the binary buffers Python sends (qtok_widgets/widgets/_wire.py) as typed arrays.
// Cells are held as uint16, layer-major, code | mask << 15; on the wire they are either that
// uint16 (bits = 16) or 12-bit cells (code | mask << 11), two of them in 3 bytes. Envelopes are
// int8 min/max pairs, audio int16 PCM, frame maps int32, all little-endian (typed arrays read
// them in the platform's byte order, little-endian wherever browsers run). Every function here
// copies: a buffer's byteOffset need not be aligned, and callers keep the result.

/** Bit of a held cell that marks it masked. */
export const MASK_BIT = 0x8000;
/** Bits of a held cell that carry the code. */
export const CODE_BITS = 0x7fff;

/** The bytes of a DataView, typed array or ArrayBuffer, as a fresh Uint8Array (a copy). */
export function bytesOf(view) {
  if (view instanceof ArrayBuffer) return new Uint8Array(view.slice(0));
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

/**
 * Decode `n` cells from the wire.
 * @param {DataView|ArrayBufferView|ArrayBuffer} view the buffer as received
 * @param {12|16} bits bits per cell on the wire
 * @param {number} n number of cells (n_layers * n_frames of what was sent)
 * @returns {Uint16Array} n cells, code | mask << 15
 */
export function decodeCells(view, bits, n) {
  const src = bytesOf(view);
  if (bits === 16) {
    if (src.byteLength < 2 * n) throw new RangeError(`cells: ${n} uint16 cells need ${2 * n} bytes, got ${src.byteLength}`);
    return new Uint16Array(src.buffer, 0, n);
  }
  if (bits !== 12) throw new RangeError(`cells: bits must be 12 or 16, got ${bits}`);
  const need = 3 * Math.ceil(n / 2);
  if (src.byteLength < need) throw new RangeError(`cells: ${n} 12-bit cells need ${need} bytes, got ${src.byteLength}`);
  const out = new Uint16Array(n);
  for (let i = 0, j = 0; i < n; i += 2, j += 3) {
    const a = src[j] | ((src[j + 1] & 0x0f) << 8);
    out[i] = (a & 0x7ff) | ((a & 0x800) << 4);
    if (i + 1 < n) {
      const b = (src[j + 1] >> 4) | (src[j + 2] << 4);
      out[i + 1] = (b & 0x7ff) | ((b & 0x800) << 4);
    }
  }
  return out;
}

/** An int8 buffer (waveform envelope: min, max pairs scaled by 127) as a fresh Int8Array. */
export function int8s(view) {
  return new Int8Array(bytesOf(view).buffer);
}

/** An int16 little-endian buffer (PCM) as a fresh Int16Array. */
export function int16s(view) {
  const bytes = bytesOf(view);
  return new Int16Array(bytes.buffer, 0, bytes.byteLength >> 1);
}

/** An int32 little-endian buffer (frame map) as a fresh Int32Array. */
export function int32s(view) {
  const bytes = bytesOf(view);
  return new Int32Array(bytes.buffer, 0, bytes.byteLength >> 2);
}

/** Total bytes of a list of buffers. */
export function byteSize(buffers) {
  return (buffers || []).reduce((n, b) => n + b.byteLength, 0);
}
