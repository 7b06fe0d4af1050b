/**
 * Longer than the usual 500 lines on purpose: one streaming state machine (quoting, the backtick prefix, the two
 * escapes, the summary rows) whose parts share their state; split up, the escape rules would be read in three places.
 *
 * Framework-free streaming parser for WeChat Pay bills: trade bills (交易账单) and fund-flow bills
 * (资金账单), downloaded as UTF-8 CSV-like text.
 *
 * Format handled:
 * - optional UTF-8 BOM; CRLF or LF; the last line with or without a line break; empty lines after the summary;
 * - a plain header line, detail rows whose fields start with one backtick (stripped; fields without one are
 *   accepted as they are), a plain summary header starting with 总交易单数 / 资金流水总笔数, then a backtick
 *   summary values line;
 * - columns mapped by header name (full-width `（元）` equals `(元)`), unknown columns kept in `extra`;
 * - backslash escapes in fields, only the two the format documents: `\,` is a comma that does not
 *   separate fields and `\n` a line feed. Every other backslash is text (`\\`, `\r` in a JSON `attach` stay as
 *   they are). The writer uses the same rules.
 *
 * Streaming: input is decoded chunk by chunk with a StringDecoder (a UTF-8 character or a line split across chunks is
 * fine) and lines are cut with indexOf on the decoded text. Only the unfinished last line of a chunk is kept, and a
 * line longer than `maxLineLength` is an error, so memory stays bounded whatever the file size.
 */
import { type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { WechatPayError } from '../core/errors/wechat-pay.errors';
import {
  FUND_FLOW_BILL_SCHEMA,
  normalizeBillHeader,
  TRADE_BILL_SCHEMA,
  type BillCell,
  type BillSchema,
} from './bill-columns';
import { WechatPayBillParseError } from './bills.errors';
import { describeBillAmountProblem, parseBillAmount, parseBillCount } from './bill-money';
import { type FundFlowBillRow, type FundFlowBillSummary } from './dto/fund-flow-bill.dto';
import { type TradeBillRow, type TradeBillSummary } from './dto/trade-bill.dto';

export { WechatPayBillParseError } from './bills.errors';

/** What a bill can be parsed from: a whole file (string or bytes), a Readable, or any (async) iterable of chunks. */
export type BillSource =
  string | Uint8Array | Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** Options of `parseTradeBill` / `parseFundFlowBill`. */
export interface ParseBillOptions {
  /** Longest accepted line, in UTF-16 code units; bounds memory on garbage input. Default 1 MiB. */
  maxLineLength?: number;
}

const DEFAULT_MAX_LINE_LENGTH = 1 << 20;
/** Large chunks are parsed in windows of this size, so one batch of rows stays small. */
const BYTE_WINDOW = 1 << 18;
const TEXT_WINDOW = 1 << 18;

const KIND_TEXT = 0;
const KIND_AMOUNT = 1;
const KIND_COUNT = 2;
const KIND_EXTRA = 3;

const CH_CR = 13;
const CH_COMMA = 44;
const CH_BACKSLASH = 92;
const CH_BACKTICK = 96;
const CH_BOM = 0xfeff;

const STATE_HEADER = 0;
const STATE_ROWS = 1;
const STATE_SUMMARY_VALUES = 2;
const STATE_DONE = 3;

/** How the fields of one line (detail or summary) are converted; compiled once from a header line. */
interface LinePlan {
  /** Header names as they appear in the file. */
  readonly headers: readonly string[];
  readonly kinds: Uint8Array;
  /** Index into the cell array (column table position); -1 for extra columns. */
  readonly targets: Int32Array;
  readonly decimals: Uint8Array;
  readonly hasExtra: boolean;
}

/**
 * Decodes `\,` and `\n` in a field, the escapes WeChat's bill format names; other backslashes stay. Only called for
 * fields that contain one.
 */
export function unescapeBillField(field: string): string {
  let out = '';
  let from = 0;
  let i = field.indexOf('\\');
  while (i !== -1 && i + 1 < field.length) {
    const next = field.charCodeAt(i + 1);
    const decoded = next === CH_COMMA ? ',' : next === 110 /* n */ ? '\n' : undefined;
    if (decoded === undefined) {
      i = field.indexOf('\\', i + 1);
      continue;
    }
    out += field.slice(from, i) + decoded;
    from = i + 2;
    i = field.indexOf('\\', from);
  }
  return from === 0 ? field : out + field.slice(from);
}

/**
 * Internal: the line-level state machine shared by both bill kinds. Feed it decoded text with `write`, then call `end`.
 * Rows are appended to the array passed in, so the caller decides how to hand them out.
 */
class BillLineParser<Row, Summary> {
  private state = STATE_HEADER;
  /** Number of the last line handed to processLine (1-based). */
  private line = 0;
  private carry = '';
  private plan: LinePlan | undefined;
  private summaryPlan: LinePlan | undefined;
  private readonly cells: BillCell[];
  private readonly summaryCells: BillCell[];
  private readonly markerCode: number;
  private rows = 0;
  private result: Summary | undefined;

  constructor(
    private readonly schema: BillSchema<Row, Summary>,
    private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH,
  ) {
    this.cells = new Array<BillCell>(schema.columns.length).fill(undefined);
    this.summaryCells = new Array<BillCell>(schema.summaryColumns.length).fill(undefined);
    this.markerCode = schema.summaryMarker.charCodeAt(0);
  }

  /** Detail rows parsed so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Parses every complete line of `text` (plus the unfinished line kept from the previous call). */
  write(text: string, out: Row[]): void {
    const len = text.length;
    let pos = 0;
    if (this.carry.length > 0) {
      const nl = text.indexOf('\n');
      if (nl === -1) {
        this.carry += text;
        this.checkCarry();
        return;
      }
      const line = this.carry + text.slice(0, nl);
      this.carry = '';
      this.processLine(line, 0, line.length, line.indexOf('\\') !== -1, out);
      pos = nl + 1;
    }
    // Position of the next backslash at or after `pos`: looked up again only once passed, so each chunk is scanned
    // once for backslashes however many lines it has, and lines without any take the fast path.
    let backslash = -1;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1) break;
      if (backslash < pos) {
        backslash = text.indexOf('\\', pos);
        if (backslash === -1) backslash = len;
      }
      this.processLine(text, pos, nl, backslash < nl, out);
      pos = nl + 1;
    }
    if (pos < len) {
      this.carry = pos === 0 ? text : text.slice(pos);
      this.checkCarry();
    }
  }

  /** Parses the last line (if it had no line break) and checks that the summary was read; returns it. */
  end(out: Row[]): Summary {
    if (this.carry.length > 0) {
      const line = this.carry;
      this.carry = '';
      this.processLine(line, 0, line.length, line.indexOf('\\') !== -1, out);
    }
    const { name, summaryMarker } = this.schema;
    switch (this.state) {
      case STATE_HEADER:
        throw new WechatPayBillParseError(name, 1, undefined, 'the file is empty (no header line)');
      case STATE_ROWS:
        throw new WechatPayBillParseError(
          name,
          this.line + 1,
          undefined,
          `unexpected end of file after ${this.rows} detail row${this.rows === 1 ? '' : 's'}: the summary lines ` +
            `(starting with ${summaryMarker}) are missing; the download may be truncated`,
        );
      case STATE_SUMMARY_VALUES:
        throw new WechatPayBillParseError(
          name,
          this.line + 1,
          undefined,
          'unexpected end of file: the summary header is not followed by the summary values line',
        );
    }
    return this.result as Summary;
  }

  private checkCarry(): void {
    if (this.carry.length > this.maxLineLength) {
      throw new WechatPayBillParseError(
        this.schema.name,
        this.line + 1,
        undefined,
        `line longer than ${this.maxLineLength} characters; this does not look like a bill`,
      );
    }
  }

  private processLine(s: string, start: number, end: number, escaped: boolean, out: Row[]): void {
    this.line++;
    if (end > start && s.charCodeAt(end - 1) === CH_CR) end--;
    if (this.state === STATE_ROWS) {
      if (end === start) throw this.error(undefined, 'empty line between detail rows');
      const marker = this.schema.summaryMarker;
      if (
        s.charCodeAt(start) === this.markerCode &&
        s.startsWith(marker, start) &&
        (start + marker.length === end || s.charCodeAt(start + marker.length) === CH_COMMA)
      ) {
        this.summaryPlan = this.compileHeader(
          s.slice(start, end),
          this.schema.summaryColumns,
          'summary header',
        );
        this.state = STATE_SUMMARY_VALUES;
        return;
      }
      const plan = this.plan as LinePlan;
      const extra = this.parseFields(s, start, end, escaped, plan, this.cells);
      out.push(this.schema.buildRow(this.cells, extra));
      this.rows++;
      return;
    }
    if (this.state === STATE_HEADER) {
      if (this.line === 1 && s.charCodeAt(start) === CH_BOM) start++;
      if (end === start) throw this.error(undefined, 'the header line is empty');
      this.plan = this.compileHeader(s.slice(start, end), this.schema.columns, 'header');
      this.state = STATE_ROWS;
      return;
    }
    if (this.state === STATE_SUMMARY_VALUES) {
      if (end === start) throw this.error(undefined, 'empty line instead of the summary values');
      const plan = this.summaryPlan as LinePlan;
      const extra = this.parseFields(s, start, end, escaped, plan, this.summaryCells);
      this.result = this.schema.buildSummary(this.summaryCells, extra);
      this.state = STATE_DONE;
      return;
    }
    // STATE_DONE: only blank lines may follow the summary.
    if (s.slice(start, end).trim() !== '')
      throw this.error(undefined, 'unexpected content after the summary values line');
  }

  private compileHeader(line: string, columns: BillSchema<Row, Summary>['columns'], what: string): LinePlan {
    const byHeader = new Map<string, number>();
    columns.forEach((c, i) => byHeader.set(c.header, i));
    const headers = line.split(',').map((h) => h.trim());
    const n = headers.length;
    const kinds = new Uint8Array(n);
    const targets = new Int32Array(n);
    const decimals = new Uint8Array(n);
    const seen = new Set<number>();
    let hasExtra = false;
    for (let i = 0; i < n; i++) {
      const header = headers[i];
      const index = byHeader.get(normalizeBillHeader(header));
      if (index === undefined) {
        if (header === '' || header === '__proto__' || headers.indexOf(header) !== i) {
          throw this.error(i + 1, `invalid or duplicate ${what} column name ${JSON.stringify(header)}`);
        }
        kinds[i] = KIND_EXTRA;
        targets[i] = -1;
        hasExtra = true;
        continue;
      }
      if (seen.has(index)) throw this.error(header, `duplicate ${what} column`);
      seen.add(index);
      const column = columns[index];
      kinds[i] = column.kind === 'text' ? KIND_TEXT : column.kind === 'amount' ? KIND_AMOUNT : KIND_COUNT;
      targets[i] = index;
      decimals[i] = column.decimals;
    }
    const missing = columns.filter((c, i) => c.required && !seen.has(i)).map((c) => c.header);
    if (missing.length > 0) {
      throw this.error(
        missing[0],
        `the ${what} lacks required column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; ` +
          `is this a ${this.schema.name}?`,
      );
    }
    return { headers, kinds, targets, decimals, hasExtra };
  }

  /** Splits s[start, end) into fields, converts them into `cells`, and returns the extra columns if any. */
  private parseFields(
    s: string,
    start: number,
    end: number,
    escaped: boolean,
    plan: LinePlan,
    cells: BillCell[],
  ): Record<string, string> | undefined {
    const { kinds, targets } = plan;
    const n = kinds.length;
    const last = n - 1;
    const extra: Record<string, string> | undefined = plan.hasExtra ? {} : undefined;
    let p = start;
    for (let i = 0; i < n; i++) {
      let c: number;
      if (escaped) {
        c = findSeparator(s, p, end);
      } else {
        c = s.indexOf(',', p);
        if (c === -1 || c > end) c = end;
      }
      if (c === end) {
        if (i !== last) this.checkFieldCount(s, start, end, escaped, plan);
      } else if (i === last) {
        this.checkFieldCount(s, start, end, escaped, plan);
      }
      let value = s.slice(s.charCodeAt(p) === CH_BACKTICK && p < c ? p + 1 : p, c);
      if (escaped && value.indexOf('\\') !== -1) value = unescapeBillField(value);
      const kind = kinds[i];
      if (kind === KIND_TEXT) {
        cells[targets[i]] = value;
      } else if (kind === KIND_AMOUNT) {
        const amount = parseBillAmount(value, plan.decimals[i]);
        if (amount === undefined) {
          // A shifted row usually fails here first; report the real cause, the field count.
          this.checkFieldCount(s, start, end, escaped, plan);
          throw this.error(plan.headers[i], describeBillAmountProblem(value, plan.decimals[i]));
        }
        cells[targets[i]] = amount;
      } else if (kind === KIND_COUNT) {
        const count = parseBillCount(value);
        if (count === undefined) {
          this.checkFieldCount(s, start, end, escaped, plan);
          throw this.error(
            plan.headers[i],
            `invalid count ${JSON.stringify(value)} (expected a non-negative integer)`,
          );
        }
        cells[targets[i]] = count;
      } else {
        (extra as Record<string, string>)[plan.headers[i]] = value;
      }
      p = c + 1;
    }
    return extra;
  }

  /** Throws the field-count error if s[start, end) does not have as many fields as the plan's header. */
  private checkFieldCount(s: string, start: number, end: number, escaped: boolean, plan: LinePlan): void {
    const error = this.fieldCountError(s, start, end, escaped, plan, 0);
    if (error !== undefined) throw error;
  }

  /**
   * The error for a line whose field count differs from its header, or undefined if it does not differ.
   * `found` is the count when the caller knows it, 0 to count here.
   */
  private fieldCountError(
    s: string,
    start: number,
    end: number,
    escaped: boolean,
    plan: LinePlan,
    found: number,
  ): WechatPayBillParseError | undefined {
    const expected = plan.headers.length;
    if (found === 0) {
      found = 1;
      for (let p = start; ; found++) {
        const c = escaped ? findSeparator(s, p, end) : s.indexOf(',', p);
        if (c === -1 || c >= end) break;
        p = c + 1;
      }
    }
    if (found === expected) return undefined;
    const column = found < expected ? plan.headers[found] : expected + 1;
    const what = this.state === STATE_SUMMARY_VALUES ? 'summary header' : 'header';
    return this.error(
      column,
      `expected ${expected} fields as in the ${what}, found ${found}` +
        (found < expected ? ` (fields from "${plan.headers[found]}" on are missing)` : ' (unescaped comma?)'),
    );
  }

  private error(column: string | number | undefined, problem: string): WechatPayBillParseError {
    return new WechatPayBillParseError(this.schema.name, this.line, column, problem);
  }
}

/**
 * The next field separator in s[p, end): a comma not right after a backslash (a backslash is never escaped itself,
 * so `\\,` is a backslash and an escaped comma); `end` if none.
 */
function findSeparator(s: string, p: number, end: number): number {
  let c = s.indexOf(',', p);
  while (c !== -1 && c < end) {
    if (c === p || s.charCodeAt(c - 1) !== CH_BACKSLASH) return c;
    c = s.indexOf(',', c + 1);
  }
  return end;
}

/**
 * The result of parsing one bill: an async iterable of its detail rows (single use), and its summary once the rows
 * have been read to the end. Iterate it with `for await`, `batches()` (fastest: one array per input chunk) or
 * `collect()`.
 */
export class BillParseResult<Row, Summary> implements AsyncIterable<Row> {
  private consumed = false;
  private finished = false;
  private failure: unknown = undefined;
  private parsedSummary: Summary | undefined;
  private readonly parser: BillLineParser<Row, Summary>;

  constructor(
    private readonly source: BillSource,
    private readonly schema: BillSchema<Row, Summary>,
    options: ParseBillOptions = {},
  ) {
    this.parser = new BillLineParser(schema, options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  }

  /** The summary lines; only available after every row has been read, otherwise this throws. */
  get summary(): Summary {
    if (this.finished) return this.parsedSummary as Summary;
    if (this.failure !== undefined) {
      throw new WechatPayError(`The ${this.schema.name} summary is unavailable: parsing failed`, {
        cause: this.failure,
      });
    }
    throw new WechatPayError(
      `The ${this.schema.name} summary is available only after all rows have been read: ` +
        'iterate the result to the end (for await ... of) or use collect() before reading summary',
    );
  }

  /** Detail rows parsed so far. */
  get rowCount(): number {
    return this.parser.rowCount;
  }

  /** Whether the whole bill, summary included, has been parsed. */
  get done(): boolean {
    return this.finished;
  }

  /** The rows in arrays, one per parsed window of input: the cheapest way to consume a large bill. */
  batches(): AsyncGenerator<Row[], void, undefined> {
    if (this.consumed) {
      throw new WechatPayError(`This ${this.schema.name} has already been iterated; parse the source again`);
    }
    this.consumed = true;
    return this.run();
  }

  /** Reads everything into memory: for small bills and tests. */
  async collect(): Promise<{ rows: Row[]; summary: Summary }> {
    const rows: Row[] = [];
    for await (const batch of this.batches()) {
      for (let i = 0; i < batch.length; i++) rows.push(batch[i]);
    }
    return { rows, summary: this.summary };
  }

  [Symbol.asyncIterator](): AsyncIterator<Row, undefined> {
    const batches = this.batches();
    let batch: Row[] = [];
    let index = 0;
    // Calls that need the next batch are chained, so that next() called again before the previous promise settled
    // still yields rows in order; `waiting` counts them so the fast path stays out of their way.
    let chain: Promise<unknown> = Promise.resolve();
    let waiting = 0;
    const settled = (): void => {
      waiting--;
    };
    const pull = async (): Promise<IteratorResult<Row, undefined>> => {
      while (index >= batch.length) {
        const r = await batches.next();
        if (r.done) return { value: undefined, done: true };
        batch = r.value;
        index = 0;
      }
      return { value: batch[index++], done: false };
    };
    return {
      next: (): Promise<IteratorResult<Row, undefined>> => {
        // Rows already parsed are handed out without another trip through the async generator.
        if (waiting === 0 && index < batch.length)
          return Promise.resolve({ value: batch[index++], done: false });
        waiting++;
        const result = chain.then(pull);
        chain = result.then(settled, settled);
        return result;
      },
      return: async (): Promise<IteratorResult<Row, undefined>> => {
        batch = [];
        index = 0;
        await batches.return(undefined);
        return { value: undefined, done: true };
      },
    };
  }

  private async *run(): AsyncGenerator<Row[], void, undefined> {
    const parser = this.parser;
    const source = this.source;
    const chunks: AsyncIterable<unknown> | Iterable<unknown> =
      typeof source === 'string' || source instanceof Uint8Array ? [source] : source;
    const decoder = new StringDecoder('utf8');
    try {
      for await (const chunk of chunks) {
        if (typeof chunk === 'string') {
          for (let i = 0; i < chunk.length; i += TEXT_WINDOW) {
            const rows: Row[] = [];
            parser.write(chunk.length <= TEXT_WINDOW ? chunk : chunk.slice(i, i + TEXT_WINDOW), rows);
            if (rows.length > 0) yield rows;
          }
        } else if (chunk instanceof Uint8Array) {
          for (let i = 0; i < chunk.length; i += BYTE_WINDOW) {
            const rows: Row[] = [];
            const bytes = chunk.length <= BYTE_WINDOW ? chunk : chunk.subarray(i, i + BYTE_WINDOW);
            parser.write(decoder.write(bytes), rows);
            if (rows.length > 0) yield rows;
          }
        } else {
          throw new TypeError(
            `A ${this.schema.name} source must yield Buffer or string chunks, got ${chunk === null ? 'null' : typeof chunk}`,
          );
        }
      }
      const rows: Row[] = [];
      parser.write(decoder.end(), rows);
      this.parsedSummary = parser.end(rows);
      this.finished = true;
      if (rows.length > 0) yield rows;
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }
}

/** Parse result of a trade bill: async iterable of `TradeBillRow`, then `summary`. */
export class TradeBillParseResult extends BillParseResult<TradeBillRow, TradeBillSummary> {
  constructor(source: BillSource, options?: ParseBillOptions) {
    super(source, TRADE_BILL_SCHEMA, options);
  }
}

/** Parse result of a fund-flow bill: async iterable of `FundFlowBillRow`, then `summary`. */
export class FundFlowBillParseResult extends BillParseResult<FundFlowBillRow, FundFlowBillSummary> {
  constructor(source: BillSource, options?: ParseBillOptions) {
    super(source, FUND_FLOW_BILL_SCHEMA, options);
  }
}

/**
 * Parses a trade bill (交易账单, any of the ALL/SUCCESS/REFUND layouts) as it streams in. Nothing is read until
 * the result is iterated; bad input surfaces as a `WechatPayBillParseError` from the iteration.
 */
export function parseTradeBill(source: BillSource, options?: ParseBillOptions): TradeBillParseResult {
  return new TradeBillParseResult(source, options);
}

/** Parses a fund-flow bill (资金账单) as it streams in; see `parseTradeBill`. */
export function parseFundFlowBill(source: BillSource, options?: ParseBillOptions): FundFlowBillParseResult {
  return new FundFlowBillParseResult(source, options);
}
