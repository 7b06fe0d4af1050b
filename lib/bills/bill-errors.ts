import { WechatPayError } from '../core/errors/wechat-pay.errors';

/**
 * A downloaded bill does not follow WeChat Pay's bill format. `line` is 1-based (the header is line 1);
 * `column` is the Chinese header name when known, otherwise the 1-based field position.
 */
export class WechatPayBillParseError extends WechatPayError {
  constructor(
    /** What is being parsed, e.g. `trade bill`. */
    public readonly bill: string,
    /** 1-based line number in the file. */
    public readonly line: number,
    /** Header name of the offending column, or its 1-based position when it has no header. */
    public readonly column: string | number | undefined,
    /** What is wrong, without the location prefix. */
    public readonly problem: string,
  ) {
    super(
      `Invalid WeChat Pay ${bill}: line ${line}` +
        (column === undefined
          ? ''
          : typeof column === 'number'
            ? `, field #${column}`
            : `, column "${column}"`) +
        `: ${problem}`,
    );
  }
}

/** Rows handed to the bill writer cannot be written as a WeChat Pay bill (bad amount, unknown layout). */
export class WechatPayBillWriteError extends WechatPayError {
  constructor(
    /** Index of the offending row in the input (0-based), or undefined for a problem with the options. */
    public readonly row: number | undefined,
    /** The offending field, e.g. `fee`. */
    public readonly field: string,
    problem: string,
  ) {
    super(
      `Cannot write WeChat Pay bill${row === undefined ? '' : ` row ${row}`}, field ${field}: ${problem}`,
    );
  }
}
