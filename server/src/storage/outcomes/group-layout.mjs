// Where each number of an outcome sits in a write group, for both sides: the run store puts them
// there (write-group.ts) and the writer thread reads them from there as it packs the outcomes for
// storage (pack-group.mjs); OutcomeReader reads a group one outcome at a time. JavaScript, not
// TypeScript, because the writer thread imports it without a TypeScript loader; tsc checks it
// (allowJs + checkJs in server/tsconfig.json).
/** @import { WriteGroup } from './writer-protocol.js' */

/** Numbers per outcome: outcome i's row starts at `i * FIELDS`. */
export const FIELDS = 11;

// An outcome's row, field by field
export const SEQ = 0;
/** STATUS_CODE in write-group.ts: 0 succeeded, 1 filtered, 2 failed, 3 cancelled. */
export const STATUS = 1;
/** Index into the group's `names`. */
export const NODE = 2;
export const BATCH = 3;
export const ATTEMPTS = 4;
export const AT = 5;
/** Index into `names`, or NONE. */
export const OUTPUT_NODE = 6;
/** Index into the group's `errors`, or NONE. */
export const ERROR = 7;
// Byte lengths of the outcome's strings in `text`, which follow each other in the order KEY_BYTES,
// PAYLOAD_BYTES, OUTPUT_BYTES (the order OutcomeReader reads them in).
/** Its key (always there). */
export const KEY_BYTES = 8;
/** Its payload's JSON, or NONE. */
export const PAYLOAD_BYTES = 9;
/** Its output's JSON, or NONE. */
export const OUTPUT_BYTES = 10;

/** In an index or length field: nothing there. */
export const NONE = -1;

/**
 * Reads a group's outcomes one at a time: `next()` moves to the next one and decodes its strings;
 * the getters read its numbers. One reader per group and no object per outcome, so reading stays
 * as cheap as indexing the arrays by hand.
 */
export class OutcomeReader {
  /** @param {Pick<WriteGroup, 'rows' | 'text' | 'count'>} group */
  constructor(group) {
    /** @private */
    this.rows = group.rows;
    /** @private */
    this.text = Buffer.from(group.text);
    /** @private */
    this.count = group.count;
    /** @private */
    this.index = -1;
    /** @private start of the current row */
    this.r = -FIELDS;
    /** @private where the current outcome's strings end in `text` */
    this.offset = 0;
    /** The current outcome's key. */
    this.key = '';
    /** @type {string | null} its payload's JSON */
    this.payload = null;
    /** @type {string | null} its output's JSON */
    this.output = null;
  }

  /** Moves to the next outcome; false once past the last. */
  next() {
    if (++this.index >= this.count) return false;
    this.r += FIELDS;
    this.key = this.string(this.field(KEY_BYTES)) ?? '';
    this.payload = this.string(this.field(PAYLOAD_BYTES));
    this.output = this.string(this.field(OUTPUT_BYTES));
    return true;
  }

  get seq() {
    return this.field(SEQ);
  }
  get status() {
    return this.field(STATUS);
  }
  get node() {
    return this.field(NODE);
  }
  get batch() {
    return this.field(BATCH);
  }
  get attempts() {
    return this.field(ATTEMPTS);
  }
  get at() {
    return this.field(AT);
  }
  /** Index into `names`, or NONE. */
  get outputNode() {
    return this.field(OUTPUT_NODE);
  }
  /** Index into `errors`, or NONE. */
  get error() {
    return this.field(ERROR);
  }

  /**
   * @private
   * @param {number} offset
   */
  field(offset) {
    return /** @type {number} */ (this.rows[this.r + offset]);
  }

  /**
   * The next `bytes` of `text` as a string, or null for NONE.
   * @private
   * @param {number} bytes
   */
  string(bytes) {
    if (bytes < 0) return null;
    const end = this.offset + bytes;
    const value = this.text.toString('utf8', this.offset, end);
    this.offset = end;
    return value;
  }
}
