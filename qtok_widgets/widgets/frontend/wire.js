// Wire decoding: the binary buffers Python sends (qtok_widgets/widgets/_wire.py) as typed arrays.
// Cells are held as uint32, layer-major, code | mask << 30 (bit 30, not 31, so that a held cell
// stays positive under JavaScript's signed 32-bit bit operators). On the wire they are 12-bit
// cells (code | mask << 11, two of them in 3 bytes, codebooks up to 2,048), uint16
// (code | mask << 15, up to 32,768) or uint32 (code | mask << 30, larger codebooks). Envelopes
// are int8 min/max pairs, audio int16 PCM, frame maps int32, all little-endian (typed arrays
// read them in the platform's byte order, little-endian wherever browsers run). Every function
// here copies: a buffer's byteOffset need not be aligned, and callers keep the result.

/** Bit of a held cell that marks it masked. */
export const MASK_BIT = 0x40000000;
/** Bits of a held cell that carry the code. */
export const CODE_BITS = 0x3fffffff;

/** The bytes of a DataView, typed array or ArrayBuffer, as a fresh Uint8Array (a copy). */
export function bytesOf(view) {
  if (view instanceof ArrayBuffer) return new Uint8Array(view.slice(0));
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

/**
 * Decode `n` cells from the wire.
 * @param {DataView|ArrayBufferView|ArrayBuffer} view the buffer as received
 * @param {12|16|32} bits bits per cell on the wire
 * @param {number} n number of cells (n_layers * n_frames of what was sent)
 * @returns {Uint32Array} n held cells, code | mask << 30
 */
export function decodeCells(view, bits, n) {
  const src = bytesOf(view);
  if (bits === 32) {
    if (src.byteLength < 4 * n) throw new RangeError(`cells: ${n} uint32 cells need ${4 * n} bytes, got ${src.byteLength}`);
    const out = new Uint32Array(src.buffer, 0, n);
    for (let i = 0; i < n; i++) if (out[i] >= 0x80000000) throw new RangeError(`cells: cell ${i} has bit 31 set`);
    return out;
  }
  if (bits === 16) {
    if (src.byteLength < 2 * n) throw new RangeError(`cells: ${n} uint16 cells need ${2 * n} bytes, got ${src.byteLength}`);
    const v = new Uint16Array(src.buffer, 0, n);
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = (v[i] & 0x7fff) | ((v[i] & 0x8000) << 15);
    return out;
  }
  if (bits !== 12) throw new RangeError(`cells: bits must be 12, 16 or 32, got ${bits}`);
  const need = 3 * Math.ceil(n / 2);
  if (src.byteLength < need) throw new RangeError(`cells: ${n} 12-bit cells need ${need} bytes, got ${src.byteLength}`);
  const out = new Uint32Array(n);
  for (let i = 0, j = 0; i < n; i += 2, j += 3) {
    const a = src[j] | ((src[j + 1] & 0x0f) << 8);
    out[i] = (a & 0x7ff) | ((a & 0x800) << 19);
    if (i + 1 < n) {
      const b = (src[j + 1] >> 4) | (src[j + 2] << 4);
      out[i + 1] = (b & 0x7ff) | ((b & 0x800) << 19);
    }
  }
  return out;
}

/**
 * Held cells in the 16-bit form, code | mask << 15, for codebooks of up to 32,768 codes (what
 * the debug API returns for them, as it always did); larger codebooks keep the held form.
 * @param {Uint32Array} cells held cells
 * @param {number} codebookSize
 * @returns {{values: Uint16Array|Uint32Array, maskBit: number}} a copy, and the bit that marks a
 *   masked cell in it
 */
export function exportCells(cells, codebookSize) {
  if (codebookSize > 0x8000) return { values: cells.slice(), maskBit: MASK_BIT };
  const values = new Uint16Array(cells.length);
  for (let i = 0; i < cells.length; i++) values[i] = (cells[i] & 0x7fff) | ((cells[i] & MASK_BIT) >>> 15);
  return { values, maskBit: 0x8000 };
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
